"""Repairing what newbies type: Russian typed on an English keyboard layout, or in Latin letters;
Swedish typed without å, ä and ö.

`yt hf,jnftn ghjvjrjl` is «не работает промокод» typed with the layout left on English;
`zabyla parol` is «забыла пароль» written in Latin letters. Both are converted to Cyrillic, and the
conversion is kept only when the knowledge base's own Russian vocabulary recognises it better
than the original is recognised in the Latin-script languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from search.text import unaccented

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
_CYRILLIC_WORD = re.compile(r"[а-яё]+")
_SOFTENED = frozenset("бвгдзклмнпрстфцчшщ")
_VOWELS = frozenset("аеёиоуыэюя")
_WORD = re.compile(r"\w+")
_LATIN_ONLY = re.compile(r"^[\sA-Za-z0-9\[\];',.`!?\-:()\"]+$")

# The language a Latin-letter question may really be in.
REPAIRED_LANGUAGE = "ru"
# How much better the Russian reading must be recognised than the original text.
MIN_KNOWN = 0.5
# The dictionary vouches for a Latin-letter reading only when fewer of the typed words than this
# are English or Swedish words: English spelt letter by letter reads as Russian loans (ордер,
# импорт), Swedish as Russian words (вилл, борт).
MAX_LATIN_FOR_TRANSLIT = 0.5


@dataclass(frozen=True)
class Repair:
    """A rewritten query, the language it is in, and how it was repaired."""

    text: str
    lang: str
    kind: str  # "keyboard-layout", "transliteration" or "accents"


def from_english_layout(text: str) -> str:
    """Characters typed on a US layout, read as the Russian ЙЦУКЕН keys in the same places."""
    return text.translate(_LAYOUT)


def from_translit(text: str, known_word: Callable[[str], bool] | None = None) -> str:
    """Latin-letter Russian to Cyrillic, by the usual informal romanization; with `known_word`
    (is it a Russian word?), a word the dictionary does not know is respelled the way informal
    romanization loses letters: the soft sign left out (dengi = деньги), й written as i
    (taimer = таймер)."""
    converted = _TRANSLIT_PATTERN.sub(lambda m: _TRANSLIT_MAP[m.group()], text.lower())
    if known_word is None:
        return converted
    return _CYRILLIC_WORD.sub(lambda m: _as_known(m.group(), known_word), converted)


def _as_known(word: str, known_word: Callable[[str], bool]) -> str:
    if len(word) < 2 or known_word(word):
        return word  # a one-letter word (в, с, и) is not in the dictionary, and needs nothing
    return next((v for v in _one_letter_lost(word) if known_word(v)), word)


def _one_letter_lost(word: str) -> Iterator[str]:
    """Spellings of `word` with one letter informal romanization loses put back."""
    for i in range(len(word), 0, -1):  # the soft sign, most often word-final (vklyuchit')
        if word[i - 1] in _SOFTENED and word[i:i + 1] != "ь":
            yield word[:i] + "ь" + word[i:]
    for i, letter in enumerate(word):
        if letter == "и" and i > 0 and word[i - 1] in _VOWELS:
            yield word[:i] + "й" + word[i + 1:]
        elif letter == "ы":
            yield word[:i] + "и" + word[i + 1:]
        elif letter == "е" and i == 0:
            yield "э" + word[1:]


def repair_query(query: str, known: Callable[[str, str], float],
                 latin_languages: tuple[str, ...], target: str = REPAIRED_LANGUAGE,
                 dictionary: Callable[[str], float] | None = None,
                 known_word: Callable[[str], bool] | None = None,
                 latin_words: Callable[[str], float] | None = None) -> Repair | None:
    """Return the Russian reading of a Latin-letter query when the vocabulary clearly prefers it.

    `known(text, lang)` is the share of the text's words that the knowledge base has in `lang`;
    `dictionary(text)`, the share the target language's dictionary knows, and `known_word` whether
    it knows one word; `latin_words(text)`, the share of the text's words that are words of a
    Latin-script language (English, Swedish). The dictionary vouches for a keyboard-layout reading
    (English read on the Russian layout is gibberish), and for a Latin-letter reading only when the
    typed words are mostly no such words: English transliterated letter by letter is often Russian
    loanwords (ордер, постер, импорт), and Swedish often Russian words (вилл, борт, мина).
    """
    if not _LATIN_ONLY.match(query) or not re.search(r"[A-Za-z]{2}", query):
        return None
    original = max((known(query, lang) for lang in latin_languages), default=0.0)
    best: Repair | None = None
    best_known = 0.0
    vouch_for_translit = latin_words is not None and latin_words(query) < MAX_LATIN_FOR_TRANSLIT
    for kind, converted in (("keyboard-layout", from_english_layout(query)),
                            ("transliteration", from_translit(query, known_word))):
        share = known(converted, target)
        if dictionary is not None and (kind == "keyboard-layout" or vouch_for_translit):
            share = max(share, dictionary(converted))
        if share > best_known:
            best, best_known = Repair(converted.strip(), target, kind), share
    if best is not None and best_known >= MIN_KNOWN and best_known > original:
        return best
    return None


def restore_accents(text: str, accented: Mapping[str, str], keep: Callable[[str, str], bool]
                    ) -> str | None:
    """`text` with words written with the accents the articles write them with ("glomt
    losenord" -> "glömt lösenord"); None when nothing changes. `accented` maps a word without
    its accents to the articles' accented word; `keep(typed, accented)` says when the word as
    typed is a word in its own right ("har" is not "här")."""
    if any(unaccented(word) != word for word in _WORD.findall(text)):
        return None  # typed on a keyboard that has the accents: every word is as meant

    def restore(match: re.Match[str]) -> str:
        word = match.group(0)
        lowered = word.lower()
        if lowered not in accented or keep(lowered, accented[lowered]):
            return word
        return accented[lowered]

    restored = _WORD.sub(restore, text)
    return restored if restored != text else None
