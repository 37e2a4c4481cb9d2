"""A problem found in an article: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path


class Severity(str, Enum):
    """How bad a problem is: errors stop an article from being served, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding about one file, in the `path:line: message` form editors understand."""

    path: Path
    line: int
    severity: Severity
    code: str
    message: str

    def format(self, root: Path | None = None) -> str:
        """Render as `path:line: severity: message`, the path relative to `root` when possible."""
        return f"{display_path(self.path, root)}:{self.line}: {self.severity.value}: {self.message}"

    def to_dict(self, root: Path | None = None) -> dict[str, object]:
        """A JSON-ready dict with the same fields."""
        data = asdict(self)
        data["path"] = display_path(self.path, root)
        data["severity"] = self.severity.value
        return data


def display_path(path: Path, root: Path | None) -> str:
    """Show `path` relative to `root`'s parent, so `articles/en/x.md` reads like the repo layout."""
    if root is not None:
        base = root.resolve().parent
        try:
            return str(path.resolve().relative_to(base))
        except ValueError:
            pass
    return str(path)
