"""Shared fixtures: article folders in tmp_path, the CLI runner, the Flask app."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
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


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    for lang in ("en", "sv", "ru"):
        (root / lang).mkdir(parents=True)
    return root


@pytest.fixture
def write_article(articles_dir: Path) -> WriteArticle:
    """write_article("en", "reset-password", text=None, **front_matter) -> path."""

    def write(lang: str, slug: str, text: str | bytes | None = None, **kwargs: object) -> Path:
        path = articles_dir / lang / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        content = article_text(**kwargs) if text is None else text
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner whose settings come only from defaults (no developer's instance config)."""
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KB_INSTANCE_PATH", str(tmp_path / "instance"))
    return CliRunner()
