"""Articles for tests: the repository's sample help center, and markdown written to order."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SAMPLE_ARTICLES = REPO / "articles"

WriteArticle = Callable[..., Path]


def article_text(title: str | None = "Reset your password", *,
                 summary: str | None = "Ask for a reset link and choose a new password.",
                 body: str = "Short intro.\n\n## Steps\n\n1. Click Sign in.\n2. Click Forgot password.\n",
                 **fields: object) -> str:
    """Markdown with front matter; a field set to None is left out."""
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {title}")
    if summary is not None:
        lines.append(f"summary: {summary}")
    for name, value in fields.items():
        if value is not None:
            lines.append(f"{name}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n\n" + textwrap.dedent(body)


def write_small_help_center(root: Path, refund_title: str = "Cancel and get a refund") -> Path:
    """Three English articles in `root/en`, the refund article's title chosen (to edit it)."""
    (root / "en").mkdir(parents=True, exist_ok=True)
    articles = {
        "cancel-and-refund": (refund_title, "Cancel any time; refunds within 14 days.",
                              "## Refunds\n\nAsk for a refund within 14 days of paying.\n"),
        "reset-password": ("Reset your password", "Forgot your password? Get a reset link.",
                           "## Steps\n\nClick Forgot password and follow the email link.\n"),
        "linux-command-line": ("Use Driftbox from the Linux terminal",
                               "Install the command-line client.",
                               "## Install\n\nInstall the package, then run driftbox login.\n"),
    }
    for slug, (title, summary, body) in articles.items():
        (root / "en" / f"{slug}.md").write_text(article_text(title, summary=summary, body=body),
                                                encoding="utf-8")
    return root
