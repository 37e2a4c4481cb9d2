"""The sample help center with drafts, for the help-center site's tests, and axe-core."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.articles import REPO, SAMPLE_ARTICLES, article_text

DRAFT_SLUG = "unreleased-feature"
SHORT_SLUG = "find-receipts"  # published, English only, one heading: no table of contents
# axe-core from the npm registry, installed by .ci/run (or: npm install --prefix .test-tools axe-core)
AXE = Path(os.environ.get("KB_TEST_AXE",
                          REPO / ".test-tools" / "node_modules" / "axe-core" / "axe.min.js"))


def write_site_articles(root: Path) -> Path:
    """The sample help center plus drafts (a draft article, and a draft Swedish translation of
    an article published in English only: neither may ever reach the public) and one short
    article."""
    shutil.copytree(SAMPLE_ARTICLES, root)
    (root / "en" / f"{DRAFT_SLUG}.md").write_text(article_text(
        "An unreleased feature", summary="Not for customers yet.", status="draft",
        category="account"), encoding="utf-8")
    (root / "sv" / "team-accounts.md").write_text(article_text(
        "Teamkonton (utkast)", summary="Inte klar.", status="draft"), encoding="utf-8")
    (root / "en" / f"{SHORT_SLUG}.md").write_text(article_text(
        "Where to find your receipts", summary="Receipts are under Settings, then Billing.",
        category="billing", body="Open Settings, then Billing.\n\n## Older receipts\n\n"
        "Receipts older than a year are sent by email on request.\n"), encoding="utf-8")
    return root


def missing_tool(message: str) -> None:
    """Skip a test whose tool is not installed here; under CI a missing tool is a failure."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
