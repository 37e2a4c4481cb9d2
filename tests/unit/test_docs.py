"""Declared once, checked by test: the README documents every setting."""

from __future__ import annotations

from kb.settings import SETTINGS
from tests.support.articles import REPO


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [s.env_name for s in SETTINGS if f"| `{s.env_name}` |" not in readme]
    assert missing == [], f"add these settings to the README's settings table: {missing}"


def test_readme_names_the_two_commands_and_ci_uses_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/serve" in readme and "scripts/test" in readme
    assert "scripts/test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
