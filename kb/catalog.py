"""UI text from Babel message catalogs: the widget's (`widget/translations/<lang>/LC_MESSAGES/`)
and the help center's (`kb/translations/<lang>/LC_MESSAGES/`).

Plural messages are handed to the browser keyed by CLDR plural category (one, few, many, ...),
which the widget picks with `Intl.PluralRules`, so no plural formula has to be evaluated in JS.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
TRANSLATIONS = WIDGET_DIR / "translations"
SITE_DIR = Path(__file__).resolve().parent
SITE_TRANSLATIONS = SITE_DIR / "translations"


def catalog_path(lang: str, translations: Path = TRANSLATIONS) -> Path:
    return translations / lang / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=16)
def site_translations(lang: str) -> NullTranslations:
    """The help center's UI text in one language (the English msgids when there is none).

    Read from the .po file itself, so a changed catalog needs no separate compile step.
    """
    path = catalog_path(lang, SITE_TRANSLATIONS)
    if not path.is_file():
        return NullTranslations()
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as by pybabel compile
    compiled.seek(0)
    return Translations(compiled)


def _category_to_index(lang: str, plural_expr: str) -> dict[str, int]:
    """Which msgstr[i] serves each CLDR category, found by evaluating both rules on samples."""
    index_of = gettext.c2py(plural_expr)
    rule = Locale.parse(lang).plural_form
    mapping: dict[str, int] = {}
    for n in range(0, 200):
        mapping.setdefault(rule(n), index_of(n))
    return mapping


@lru_cache(maxsize=16)
def widget_messages(lang: str) -> dict[str, Any]:
    """{msgid: text} and, for plurals, {msgid: {category: text}} for one language."""
    path = catalog_path(lang)
    if not path.is_file():
        return {}
    with open(path, "rb") as handle:
        catalog = read_po(handle, locale=lang)
    categories = _category_to_index(lang, catalog.plural_expr)
    messages: dict[str, Any] = {}
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = message.string
            messages[message.id[0]] = {category: forms[index]
                                       for category, index in categories.items()
                                       if index < len(forms) and forms[index]}
        else:
            messages[message.id] = message.string
    return messages
