"""English words that customers write in Russian letters or with Swedish endings.

Customers borrow the product's English words and bend them into their own language: «гитхаб»,
«токен», «апи», «эппл воллет», «мержа»; "mergas", "quittat", "seaten". No dictionary lists them,
so query translation used to drop them, although they are often the one word that says what the
question is about. A loanword is recognised by how it is written, against the Latin-script words
the knowledge base itself uses (in any language: Russian articles write "GitHub" and "Google Drive"
in Latin letters too), so a match can only point at a word some article contains.

- Russian: the word (and its dictionary forms) is romanized in the few ways loans are spelled
  (в as v or w, э as e or a, ж as zh, j or g, ай as the English i it sounds like: вайфай, онлайн,
  драйв ...) and compared with the knowledge base's Latin words by normalized edit distance;
  short words must match exactly. A Latin term written with hyphens ("Wi-Fi", "e-mail") is one
  word to borrow: «вайфай» is read as the articles' "wi fi".
- Swedish: the word is an English word as typed (token, timer) or with a Swedish ending
  (merg-as, quitt-at, seat-en). A Swedish word spelled like an English one ("token" is also a fool)
  keeps its dictionary senses beside the loan: the translator ranks them by how much the
  knowledge base's English articles use each (see QueryTranslator).
A Russian word is read as a loan only when no lexicon translates it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import lru_cache

from search.morphology import lemma_candidates
from search.near_words import NearWords
from search.text import normalize, stem_tokens, words

# Letters whose spelling in a loan varies; the first reading is the usual transliteration.
_AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "в": ("v", "w"), "э": ("e", "a"), "ж": ("zh", "g", "j"), "х": ("h", "kh"), "й": ("y", "i", ""),
    "ы": ("y", "i"), "ю": ("yu", "u"), "я": ("ya", "a"), "ц": ("ts", "c"), "е": ("e", "a"),
    "у": ("u", "oo"), "к": ("k", "c"),
}
# Letter pairs read as one sound: Russian writes English's long i (wifi, online, drive) as ай.
_AMBIGUOUS_PAIRS: dict[str, tuple[str, ...]] = {"ай": ("ay", "ai", "a", "i")}
_PLAIN = {
    "а": "a", "и": "i", "б": "b", "г": "g", "д": "d", "з": "z", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ф": "f", "ч": "ch", "ш": "sh", "щ": "shch",
    "ь": "", "ъ": "",
}
# At most this many spellings per word: each ambiguous letter multiplies them.
MAX_SPELLINGS = 48
# Shorter words are not taken for loans at all; below MIN_FUZZY_LENGTH letters
# (search/near_words.py) a loan must match exactly (апи = api).
MIN_LENGTH = 3
_CYRILLIC = re.compile(r"^[а-я]+$")
_LATIN = re.compile(r"^[a-z]+$")
_HYPHENATED = re.compile(r"\b[a-z]+(?:-[a-z]+)+\b")
# Swedish endings an English word takes in everyday Swedish (mergas, quittat, seaten, kickar).
_SWEDISH_ENDINGS = ("ades", "ade", "arna", "ande", "ar", "as", "at", "ad", "en", "et", "er",
                    "a", "s", "t")


def spellings(word: str) -> list[str]:
    """The ways a Russian-letter word may stand for a Latin one: the usual transliteration first,
    then those that differ from it in one letter, then in two, up to MAX_SPELLINGS."""
    options = []
    rest = word
    while rest:
        pair = _AMBIGUOUS_PAIRS.get(rest[:2])
        if pair is not None:
            options.append(pair)
            rest = rest[2:]
            continue
        letter, rest = rest[0], rest[1:]
        options.append(_AMBIGUOUS.get(letter) or (_PLAIN.get(letter, letter),))
    ambiguous = [i for i, choices in enumerate(options) if len(choices) > 1]
    out: list[str] = []
    for changed in range(len(ambiguous) + 1):
        for where in itertools.combinations(ambiguous, changed):
            for picks in itertools.product(*(options[i][1:] for i in where)):
                letters = [choices[0] for choices in options]
                for i, pick in zip(where, picks):
                    letters[i] = pick
                spelled = "".join(letters)
                if spelled not in out:
                    out.append(spelled)
                if len(out) == MAX_SPELLINGS:
                    return out
    return out


class LoanwordMatcher:
    """Recognises loanwords in Russian and Swedish questions among the knowledge base's Latin words."""

    def __init__(self, texts: Iterable[str]):
        vocabulary: set[str] = set()
        # A hyphenated term, by its letters run together ("wifi"), to the words the articles'
        # tokens are ("wi fi"): the match must be something keyword search can find.
        self._written_as: dict[str, str] = {}
        for text in texts:
            vocabulary.update(token for token in words(text)
                              if len(token) >= MIN_LENGTH and _LATIN.match(token))
            for term in _HYPHENATED.findall(normalize(text)):
                joined = term.replace("-", "")
                if len(joined) >= MIN_LENGTH:
                    vocabulary.add(joined)
                    self._written_as.setdefault(joined, " ".join(term.split("-")))
        self._near = NearWords(vocabulary)  # a loan keeps its first sound
        self._known = vocabulary
        # English stem -> the word as articles write it, so "merg" (merg-as) finds "merged".
        self._by_stem: dict[str, str] = {}
        for token in sorted(vocabulary, key=len):
            for stem in stem_tokens(token, "en", drop_stopwords=False):
                self._by_stem.setdefault(stem, token)
        self.match = lru_cache(maxsize=20_000)(self._match)

    def __len__(self) -> int:
        return len(self._known)

    def _match(self, token: str, lang: str) -> str | None:
        """The knowledge base's Latin word that `token` borrows, or None."""
        if lang == "ru" and _CYRILLIC.match(token):
            found = self._russian(token)
            return self._written_as.get(found, found) if found else None
        if lang == "sv" and _LATIN.match(token):
            return self._swedish(token)
        return None

    def _russian(self, token: str) -> str | None:
        forms = [token] + [lemma for lemma, _ in lemma_candidates(token, "ru") if lemma != token]
        best: tuple[float, str] | None = None
        for form in forms:
            if len(form) < MIN_LENGTH:
                continue
            for spelled in spellings(form):
                found = self._nearest(spelled)
                if found and (best is None or found[0] < best[0]):
                    best = found
            if best and best[0] == 0:
                break
        return best[1] if best else None

    def _nearest(self, spelled: str) -> tuple[float, str] | None:
        for exact in (spelled, spelled + "e"):  # English spells a silent e: эппл = apple, мерж = merge
            if exact in self._known:
                return 0.0, exact
        return self._near.nearest(spelled)

    def _english(self, word: str) -> str | None:
        if word in self._known:
            return word
        stems = stem_tokens(word, "en", drop_stopwords=False)
        return self._by_stem.get(stems[0]) if stems else None

    def _swedish(self, token: str) -> str | None:
        if (as_typed := self._english(token)) is not None:
            return as_typed  # token, timer, seat: written as in English
        for ending in _SWEDISH_ENDINGS:
            if not token.endswith(ending) or len(token) - len(ending) < MIN_LENGTH:
                continue
            stem = token[: -len(ending)]
            candidates = [stem, stem + "e"]
            if len(stem) > MIN_LENGTH and stem[-1] == stem[-2]:
                candidates.append(stem[:-1])  # quitt-at: the doubled consonant is Swedish
            for candidate in candidates:
                if (found := self._english(candidate)) is not None:
                    return found
        return None
