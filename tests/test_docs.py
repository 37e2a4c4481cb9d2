"""Declared once, checked by test: the README documents every setting."""

from __future__ import annotations

from kb.settings import SETTINGS
from tests.conftest import REPO


def test_readme_documents_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [s.env_name for s in SETTINGS if f"| `{s.env_name}` |" not in readme]
    assert missing == [], f"add these settings to the README's settings table: {missing}"


def test_readme_names_the_two_commands_and_ci_uses_the_test_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/serve" in readme and "scripts/test" in readme
    assert "scripts/test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


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
