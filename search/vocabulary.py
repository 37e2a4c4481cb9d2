"""Words a question names that the knowledge base never uses, in any of its languages.

A message about something else ("cancel my gym membership" next to "Cancel your plan", «не
подключается блютуз в машине» next to «Подключите телефон») shares most of its words with an
article; what gives it away is the word the help center never writes. So a question's content
words are looked up in everything the knowledge base writes: the stems of every language's
articles, the English senses of a Swedish or Russian word, an English product word written in
Cyrillic letters or with a Swedish ending (search/loanwords.py), a word typed without its
accents, a misspelling one letter away from an article's word (newbies misspell, and that must
not read as "something else"), and a Swedish compound of two known parts.
What is left is evidence that the message is about something the help center does not cover;
the decision (search/decision.py) weighs it against how close the best article is.

Words differ in what they tell: "yesterday" or «вчера» is context any message may give, "gym",
"Netflix" or «блютуз» name a topic. So each content word counts by how specific it is in general
language (its rarity in the word frequencies of `wordfreq`), and the evidence is the share of
that weight the knowledge base knows (`Familiarity.share`).

Learned from the knowledge base itself at index time: no list of brands or topics is written
by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import available_languages, get_frequency_dict

from search.keyword import KeywordIndex
from search.morphology import lemma_candidates, swedish_splits
from search.near_words import NearWords
from search.query_translation import QueryTranslator
from search.text import stem_tokens, stopwords, unaccented, words

# Shorter words are mostly function words and abbreviations: not evidence of another topic.
MIN_LENGTH = 3
# Longer Swedish words are not split into parts (each split is a look-up of both parts).
MAX_COMPOUND_LENGTH = 30
# A word's weight is how much rarer than the most common words it is, on the Zipf scale (7: one
# word in a hundred, as "the"; 3: one in a million; 0: never seen, or a language without word
# frequencies, where every content word weighs the same).
ZIPF_CEILING = 7.0
# Words at least this common (about one word in 800: "how", "here", "got", «нет») name no topic;
# the stopword lists of keyword search leave many of them in. So the lightest content word
# weighs 1.1, the rarest 7.
COMMON_ZIPF = 5.9
# Word look-ups remembered per process (the same words come back in question after question).
REMEMBERED_WORDS = 20_000
# The familiar share is kept to this many decimals, so that what `kb tune` records is what the
# decision reads.
SHARE_DECIMALS = 4
_DIGITS = re.compile(r"\d")
_ENGLISH = "en"
_COMPOUNDING = "sv"  # the language whose new words are mostly compounds of known ones
# Word frequency lists small enough for every worker (words down to about one in a million: 16
# MB for en, sv and ru, against 200 MB for the large lists): a rarer word is specific either way.
_WORD_LIST = "small"


# The share of a language's running words that carry an accent for its accents to be part of
# its everyday spelling: about .24 in Swedish, .00005 in English (wordfreq's lists).
MIN_ACCENTED_SHARE = 0.01


@dataclass(frozen=True)
class Familiarity:
    """How much of a question the knowledge base speaks of."""

    share: float  # of the content words' weight, the part in words the knowledge base uses
    unknown: tuple[str, ...]  # the content words it never uses, in the question's order


def zipf(word: str, lang: str) -> float:
    """How common a word is in general language, on the Zipf scale (0: unknown, or no word
    frequencies for `lang`)."""
    frequencies = _frequencies(lang)
    frequency = frequencies.get(word) if frequencies is not None else None
    return round(math.log10(frequency) + 9, 2) if frequency else 0.0  # as wordfreq rounds it


def specificity(word: str, lang: str) -> float:
    """How much a content word says about a message's topic: the rarer in general language,
    the more."""
    return max(0.0, ZIPF_CEILING - zipf(word, lang))


@lru_cache(maxsize=None)
def accented_words(lang: str) -> Mapping[str, str]:
    """General language's words of `lang` written with accents, by their form without them (the
    most common where two share it): what a keyboard without å, ä, ö meant ("igar" -> "igår")."""
    frequencies = _frequencies(lang) or {}
    found: dict[str, str] = {}
    for word in sorted(frequencies, key=frequencies.__getitem__, reverse=True):
        if (plain := unaccented(word)) != word:
            found.setdefault(plain, word)
    # In English an accent is a loan's ("café"), and "cafe" is as right: only a language that
    # writes its own everyday words with them ("är", "på") has a word to give back.
    if sum(frequencies[word] for word in found.values()) < MIN_ACCENTED_SHARE:
        return {}
    return found


@lru_cache(maxsize=None)
def _frequencies(lang: str) -> dict[str, float] | None:
    # Read once per process (the service reads them before it forks its workers). Only a
    # language's own list: wordfreq would answer Norwegian with Bokmål and fail on Estonian.
    if lang not in available_languages(_WORD_LIST):
        return None
    return get_frequency_dict(lang, _WORD_LIST)


class KnowledgeBaseVocabulary:
    """Tells which of a question's words the knowledge base never uses, in any language."""

    def __init__(self, keyword: Mapping[str, KeywordIndex], texts: Iterable[str],
                 translator: QueryTranslator | None = None):
        self._keyword = dict(keyword)
        self._translator = translator
        # Compared without accents: a Swedish keyboard-less "losenord" is the articles' lösenord.
        self._surface = frozenset(unaccented(token) for text in texts for token in words(text)
                                  if len(token) >= MIN_LENGTH)
        self._near = NearWords(self._surface)
        self._stop = frozenset().union(*(stopwords(lang) for lang in (*self._keyword, _ENGLISH)))
        self._known: dict[tuple[str, str], bool] = {}

    def familiarity(self, text: str, lang: str) -> Familiarity:
        """How much of `text` (a question in `lang`) the knowledge base speaks of; a question
        without content words is wholly familiar (nothing in it points elsewhere)."""
        content = [token for token in dict.fromkeys(words(text)) if self._is_content(token, lang)]
        unknown = tuple(token for token in content if not self.is_known(token, lang))
        if not unknown:
            return Familiarity(1.0, ())
        weight = {token: specificity(token, lang) for token in content}
        share = 1.0 - sum(weight[token] for token in unknown) / sum(weight.values())
        return Familiarity(round(share, SHARE_DECIMALS), unknown)

    def is_known(self, token: str, lang: str) -> bool:
        """Whether the knowledge base uses `token` (of a question in `lang`), in any form."""
        key = (token, lang)
        known = self._known.get(key)
        if known is None:
            if len(self._known) >= REMEMBERED_WORDS:
                self._known.clear()
            known = self._known[key] = self._known_as_is(token, lang) or self._known_parts(
                token, lang)
        return known

    def _is_content(self, token: str, lang: str) -> bool:
        return (len(token) >= MIN_LENGTH and token not in self._stop
                and not _DIGITS.search(token) and zipf(token, lang) < COMMON_ZIPF)

    def _known_as_is(self, token: str, lang: str) -> bool:
        """Known as the word it is (not as a compound of known words)."""
        if any(self._has_stem(index, token) for index in self._keyword.values()):
            return True
        own = self._keyword.get(lang)
        if own is not None and any(self._has_stem(own, lemma) for lemma, _ in
                                   lemma_candidates(token, lang) if lemma != token):
            return True  # bankkortet where the articles write bankkort
        if self._translator is not None and lang in self._translator.languages():
            if self._translator.loanwords is not None \
                    and self._translator.loanwords.match(token, lang) is not None:
                return True
            if self._in_lexicon(token, lang):
                english = self._keyword.get(_ENGLISH)
                if english is not None and any(
                        self._has_stem(english, word)
                        for sense, _ in self._translator.senses_of(token, lang)
                        for word in words(sense) if word not in self._stop):
                    return True
        return self._misspelled(token)

    def _in_lexicon(self, token: str, lang: str) -> bool:
        """Whether a lexicon has the word itself (a compound's senses are its parts')."""
        assert self._translator is not None
        return any((lang, lemma) in self._translator.lexicon
                   for lemma, _ in lemma_candidates(token, lang))

    def _known_parts(self, token: str, lang: str) -> bool:
        """A Swedish compound no lexicon has is familiar when both its parts are: "bankkortet"
        where the articles speak of banks and cards, not "gymkort" where they never say gym."""
        if (lang != _COMPOUNDING or len(token) > MAX_COMPOUND_LENGTH
                or (self._translator is not None and self._in_lexicon(token, lang))):
            return False
        return any(any(self._known_as_is(head, lang) for head in heads)
                   and self._known_as_is(tail, lang) for heads, tail in swedish_splits(token))

    @staticmethod
    def _has_stem(index: KeywordIndex, token: str) -> bool:
        stems = stem_tokens(token, index.lang, drop_stopwords=False)
        return bool(stems) and index.has_stem(stems[0])

    def _misspelled(self, token: str) -> bool:
        """Whether `token` is an article's word typed without its accents, or a slip of the
        keys away from one (search/near_words.py)."""
        token = unaccented(token)
        return token in self._surface or self._near.nearest(token) is not None

