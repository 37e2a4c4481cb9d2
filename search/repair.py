"""Repairing what newbies type: Russian typed on an English keyboard layout, or in Latin letters.

`yt hf,jnftn ghjvjrjl` is «не работает промокод» typed with the layout left on English;
`zabyla parol` is «забыла пароль» written in Latin letters. Both are converted to Cyrillic, and the
conversion is kept only when the knowledge base's own Russian vocabulary recognises it better
than the original is recognised in the Latin-script languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_JCUKEN = "йцукенгшщзхъфывапролджэячсмитьбюё"
_LAYOUT = str.maketrans({**{q.upper(): r.upper() for q, r in zip(_QWERTY, _JCUKEN) if q.isalpha()},
                         **dict(zip(_QWERTY, _JCUKEN))})

# Common informal romanization, longest spellings first.
_TRANSLIT = [
    ("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ch", "ч"), ("sh", "ш"), ("ts", "ц"),
    ("ya", "я"), ("yu", "ю"), ("yo", "ё"), ("ye", "е"), ("ja", "я"), ("ju", "ю"), ("jo", "ё"),
    ("iy", "ий"), ("yy", "ый"), ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"),
    ("e", "е"), ("z", "з"), ("i", "и"), ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"),
    ("f", "ф"), ("h", "х"), ("c", "ц"), ("y", "ы"), ("w", "в"), ("x", "кс"), ("'", "ь"),
]
_TRANSLIT_PATTERN = re.compile("|".join(re.escape(latin) for latin, _ in _TRANSLIT))
_TRANSLIT_MAP = dict(_TRANSLIT)
_LATIN_ONLY = re.compile(r"^[\sA-Za-z0-9\[\];',.`!?\-:()\"]+$")

# The language a Latin-letter question may really be in.
REPAIRED_LANGUAGE = "ru"
# How much better the Russian reading must be recognised than the original text.
MIN_KNOWN = 0.5


@dataclass(frozen=True)
class Repair:
    """A rewritten query, the language it is in, and how it was repaired."""

    text: str
    lang: str
    kind: str  # "keyboard-layout" or "transliteration"


def from_english_layout(text: str) -> str:
    """Characters typed on a US layout, read as the Russian ЙЦУКЕН keys in the same places."""
    return text.translate(_LAYOUT)


def from_translit(text: str) -> str:
    """Latin-letter Russian to Cyrillic, by the usual informal romanization."""
    return _TRANSLIT_PATTERN.sub(lambda m: _TRANSLIT_MAP[m.group()], text.lower())


def repair_query(query: str, known: Callable[[str, str], float],
                 latin_languages: tuple[str, ...], target: str = REPAIRED_LANGUAGE,
                 dictionary: Callable[[str], float] | None = None) -> Repair | None:
    """Return the Russian reading of a Latin-letter query when the vocabulary clearly prefers it.

    `known(text, lang)` is the share of the text's words that the knowledge base has in `lang`;
    `dictionary(text)`, the share the target language's dictionary knows. The dictionary only
    vouches for a keyboard-layout reading: English read on the Russian layout is gibberish, but
    English transliterated letter by letter is often Russian loanwords (ордер, постер, импорт).
    """
    if not _LATIN_ONLY.match(query) or not re.search(r"[A-Za-z]{2}", query):
        return None
    original = max((known(query, lang) for lang in latin_languages), default=0.0)
    best: Repair | None = None
    best_known = 0.0
    for kind, converted in (("keyboard-layout", from_english_layout(query)),
                            ("transliteration", from_translit(query))):
        share = known(converted, target)
        if dictionary is not None and kind == "keyboard-layout":
            share = max(share, dictionary(converted))
        if share > best_known:
            best, best_known = Repair(converted.strip(), target, kind), share
    if best is not None and best_known >= MIN_KNOWN and best_known > original:
        return best
    return None
