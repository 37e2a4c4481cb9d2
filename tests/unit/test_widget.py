"""The widget's size budget and its UI text catalogs."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kb.catalog import WIDGET_DIR, catalog_path, widget_messages

BUDGET_BYTES = 15 * 1024


def test_script_tag_download_fits_the_budget() -> None:
    total = sum(len(gzip.compress((WIDGET_DIR / name).read_bytes(), 9))
                for name in ("kb-widget.js", "kb-widget.css"))
    assert total <= BUDGET_BYTES, f"widget is {total} bytes gzipped; the budget is {BUDGET_BYTES}"


def test_widget_has_no_eval_or_inline_styles() -> None:
    source = (WIDGET_DIR / "kb-widget.js").read_text(encoding="utf-8")
    assert not re.search(r"\beval\(|new Function\(|\.style\.|setAttribute\(\"style\"", source)
    # Only the sanitized article body may be inserted as HTML.
    assert source.count("innerHTML") == 1 and "ui.articleBody.innerHTML = article.html" in source


def test_template_matches_the_strings_in_the_code(tmp_path: Path) -> None:
    out = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(WIDGET_DIR / "babel.cfg"), "-k", "_", "-k", "ngettext:1,2",
                    "--no-location", "--sort-output", "-o", str(out), str(WIDGET_DIR)],
                   check=True, capture_output=True)
    ids = lambda text: sorted(re.findall(r'^msgid "(.+)"$', text, re.M))  # noqa: E731
    assert ids(out.read_text()) == ids((WIDGET_DIR / "messages.pot").read_text()), \
        "run: kb translate update"


@pytest.mark.parametrize("lang", ["sv", "ru"])
def test_every_string_is_translated(lang: str) -> None:
    from babel.messages.pofile import read_po

    with open(WIDGET_DIR / "messages.pot", "rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert set(widget_messages(lang)) == wanted
    assert catalog_path(lang).is_file()


def test_russian_plural_forms() -> None:
    forms = widget_messages("ru")["We will answer within %(num)s hour."]
    assert set(forms) == {"one", "few", "many"}
    assert forms["one"].endswith("часа.") and forms["many"].endswith("часов.")
    assert set(widget_messages("sv")["%(num)s suggested answer"]) == {"one", "other"}
