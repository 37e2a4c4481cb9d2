"""A help article: one markdown file with YAML front matter, parsed into what the index and API need."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from search.markup import ArticleLink, Heading, Section, render_markdown
from search.problem import Problem, Severity

STATUSES = ("published", "draft")
KNOWN_FIELDS = ("title", "summary", "category", "tags", "status", "updated", "source_hash")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FENCE = "---"
# The C loader (when PyYAML was built with libyaml) parses front matter several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class Article:
    """One article in one language. The same slug in two languages = translations of each other."""

    slug: str
    lang: str
    path: Path
    title: str
    summary: str
    category: str
    tags: list[str]
    status: str
    updated: dt.date | None
    source_hash: str | None
    body: str
    body_line: int  # file line where the markdown body starts (1-based)
    html: str
    headings: list[Heading]
    links: list[ArticleLink]
    sections: list[Section]
    field_lines: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Stable identifier across the system: `<lang>/<slug>`."""
        return f"{self.lang}/{self.slug}"

    @property
    def published(self) -> bool:
        return self.status == "published"

    @property
    def content_hash(self) -> str:
        """Hash of what a translator translates; a translation records it as `source_hash`."""
        return content_hash(self.title, self.summary, self.body)

    def file_line(self, body_line: int) -> int:
        """Turn a line number inside the body into a line number of the file."""
        return self.body_line + body_line - 1


class ArticleError(ValueError):
    """An article file that cannot be turned into an Article; carries the problem to report."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def content_hash(title: str, summary: str, body: str) -> str:
    """Short, stable hash of an article's translatable text (whitespace and Unicode form ignored)."""
    parts = [unicodedata.normalize("NFC", p).strip() for p in (title, summary, body)]
    normalized = "\n".join(re.sub(r"[ \t]+\n", "\n", p) for p in parts)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:12]


def _error(path: Path, line: int, code: str, message: str) -> ArticleError:
    return ArticleError(Problem(path, line, Severity.ERROR, code, message))


def decode_article(path: Path, data: bytes) -> str:
    """Decode UTF-8, naming the line of the first bad byte when it is not UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _error(path, line, "invalid-utf8",
                     f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8 "
                     "in your editor") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


# What PyYAML says it was reading when it met the end -> what was left open, and how to close it.
_UNCLOSED = {
    "flow sequence": "a list opened with '[' is not closed; end it with ']' (and separate "
                     "the items with commas)",
    "flow mapping": "a '{' is not closed; end it with '}', or put the value in quotes",
    "quoted scalar": "a quote is not closed; end the value with the same quote it starts with",
}


def _yaml_problem(exc: yaml.YAMLError, last_line: int) -> tuple[int, str]:
    """(file line, message) for invalid front matter, which starts on file line 2.

    PyYAML notices an unclosed bracket or quote only on a later line (its problem mark); the
    line to fix is where it was opened (its context mark), and the fix is closing it, not the
    colons most other errors are about."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    context = str(getattr(exc, "context", None) or "")
    unclosed = next((hint for what, hint in _UNCLOSED.items() if what in context), None)
    mark = context_mark if unclosed and context_mark is not None else problem_mark
    # Errors found at the end of the YAML point at the closing fence; name the last field line.
    line = min(mark.line + 2, last_line) if mark is not None else 2
    if unclosed:
        return line, f"front matter is not valid YAML: {unclosed}"
    reason = getattr(exc, "problem", None) or "invalid YAML"
    return line, (f"front matter is not valid YAML ({reason}); check quotes and colons "
                  "(put a value containing ': ' in quotes)")


def split_front_matter(path: Path, text: str) -> tuple[dict[str, object], dict[str, int], str, int]:
    """Return (front matter, line of each field, body, first body line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise _error(path, 1, "missing-front-matter",
                     "no front matter; start the file with a line '---', then 'title: ...', "
                     "then another '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FENCE)
    except StopIteration:
        raise _error(path, 1, "unclosed-front-matter",
                     "front matter is not closed; add a line '---' after the last field") from None
    raw = "\n".join(lines[1:end])
    try:
        meta = yaml.load(raw, Loader=_YAML_LOADER) if raw.strip() else {}
    except (ValueError, TypeError, AttributeError) as exc:
        # PyYAML raises these (not YAMLError) for impossible dates like 2026-02-30 or bad tags.
        raise _error(path, 2, "bad-front-matter",
                     f"front matter has a value YAML cannot read ({exc}); check dates "
                     "(YYYY-MM-DD) and put unusual values in quotes") from None
    except yaml.YAMLError as exc:
        line, message = _yaml_problem(exc, last_line=max(end, 2))
        raise _error(path, line, "bad-front-matter", message) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise _error(path, 2, "bad-front-matter",
                     "front matter must be 'field: value' lines, e.g. 'title: Reset your password'")
    field_lines: dict[str, int] = {}
    for i in range(1, end):
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:", lines[i])
        if match and match[1] not in field_lines:
            field_lines[match[1]] = i + 1
    body = "\n".join(lines[end + 1:])
    return meta, field_lines, body, end + 2


def _as_text(path: Path, meta: dict[str, object], name: str, lines: dict[str, int]) -> str:
    value = meta.get(name)
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value).strip()
    raise _error(path, lines.get(name, 2), f"bad-{name}",
                 f"'{name}' must be plain text, not a {type(value).__name__}; "
                 "put the value in quotes")


def parse_article(path: Path, lang: str, data: bytes,
                  link_template: str = "/help/{lang}/{slug}") -> tuple[Article, list[Problem]]:
    """Parse one file's bytes. Raises ArticleError for fatal problems; returns warnings alongside."""
    text = decode_article(path, data)
    meta, lines, body, body_line = split_front_matter(path, text)
    warnings: list[Problem] = []
    for name in meta:
        if name not in KNOWN_FIELDS:
            guess = difflib.get_close_matches(str(name), KNOWN_FIELDS, n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else f"known fields: {', '.join(KNOWN_FIELDS)}"
            warnings.append(Problem(path, lines.get(str(name), 2), Severity.WARNING,
                                    "unknown-field", f"unknown front matter field '{name}'; {hint}"))
    title = _as_text(path, meta, "title", lines)
    if not title:
        raise _error(path, lines.get("title", 2), "missing-title",
                     "missing title; add a line 'title: ...' to the front matter")
    status = _as_text(path, meta, "status", lines) or "published"
    if status not in STATUSES:
        raise _error(path, lines.get("status", 2), "unknown-status",
                     f"unknown status '{status}'; use 'published' or 'draft'")
    updated = meta.get("updated")
    if updated is not None and not isinstance(updated, dt.date):
        raise _error(path, lines.get("updated", 2), "bad-updated",
                     f"'updated' must be a date like 2026-11-20, not '{updated}'")
    if isinstance(updated, dt.datetime):
        updated = updated.date()
    tags_value = meta.get("tags") or []
    if isinstance(tags_value, str):
        tags = [t.strip() for t in tags_value.split(",") if t.strip()]
    elif isinstance(tags_value, list) and all(isinstance(t, (str, int)) for t in tags_value):
        tags = [str(t).strip() for t in tags_value]
    else:
        raise _error(path, lines.get("tags", 2), "bad-tags",
                     "'tags' must be a list like [password, sign in]")
    rendered = render_markdown(body, lang, link_template)
    for removal in rendered.removed:
        warnings.append(Problem(
            path, body_line + removal.line - 1, Severity.WARNING, "sanitized",
            f"{removal.what} is removed when the article is shown: articles appear inside "
            "customers' pages, so scripts, frames, forms, event handlers and script links are "
            "not allowed; remove it or use plain markdown"))
    article = Article(
        slug=path.stem.lower(),
        lang=lang,
        path=path,
        title=title,
        summary=_as_text(path, meta, "summary", lines),
        category=_as_text(path, meta, "category", lines),
        tags=tags,
        status=status,
        updated=updated,  # type: ignore[arg-type]
        source_hash=_as_text(path, meta, "source_hash", lines) or None,
        body=body,
        body_line=body_line,
        html=rendered.html,
        headings=rendered.headings,
        links=rendered.links,
        sections=rendered.sections,
        field_lines=lines,
    )
    return article, warnings
