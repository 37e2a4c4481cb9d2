"""Declared once, checked by test: docs/settings.md documents every setting, the README indexes
every page of docs/, and every link between them leads somewhere."""

from __future__ import annotations

import re

from kb.settings import SETTINGS
from tests.support.articles import REPO

LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)  # examples in code are not links


def test_the_settings_page_documents_every_setting() -> None:
    page = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [s.env_name for s in SETTINGS if f"| `{s.env_name}` |" not in page]
    assert missing == [], f"add these settings to the table in docs/settings.md: {missing}"


def test_readme_names_the_two_commands_and_ci_uses_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/serve" in readme and "scripts/test" in readme
    assert "scripts/test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_indexes_every_page_of_the_docs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pages = sorted(path.relative_to(REPO).as_posix() for path in (REPO / "docs").glob("*.md"))
    assert pages and [page for page in pages if f"]({page})" not in readme] == []


def test_every_link_in_the_readme_and_the_docs_leads_to_a_file() -> None:
    broken = []
    for document in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        text = CODE.sub("", document.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if "://" not in target and not (document.parent / target).exists():
                broken.append(f"{document.relative_to(REPO)} -> {target}")
    assert broken == []


def test_setup_installs_the_cpu_build_of_the_pinned_torch() -> None:
    """The exact pin does not choose the build (PyPI's Linux wheel is CUDA): scripts/setup must
    install the CPU build of the very version setup.cfg pins, from PyTorch's CPU index."""
    import re

    pinned = re.search(r"^\s*torch==([\d.]+)\s*$", (REPO / "setup.cfg").read_text(), re.M)
    assert pinned, "setup.cfg pins torch exactly"
    setup = (REPO / "scripts" / "setup").read_text(encoding="utf-8")
    assert f'"torch=={pinned.group(1)}+cpu"' in setup
    assert "https://download.pytorch.org/whl/cpu" in setup
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "a looser pin pulls" not in readme and "docs/installing.md" in readme
