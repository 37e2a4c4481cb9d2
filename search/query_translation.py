"""Translating a Swedish or Russian question into weighted English terms, word by word.

The offline model only understands English, and many help centers have articles that exist only in
English. A customer's question is turned into English with bilingual lexicons: each word is
lemmatized, looked up (two-word phrases first: `skriva ut` is "print", not "write out"; Swedish
compounds are split when the whole word is unknown), and its senses are ranked by the lexicon's
weight times how common the English word is in the articles being searched, so the sense a help
center uses wins (`får` -> "get", not "sheep"; `skicka` -> "send", not "post"). Latin-script
product words in Russian text and numbers are kept as typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from search.lexicon import Lexicon
from search.loanwords import LoanwordMatcher
from search.morphology import lemma_candidates, swedish_candidates, swedish_splits
from search.text import stopwords, words

if TYPE_CHECKING:
    from search.index import SearchIndex

MAX_SENSES = 3
MIN_SENSE_SHARE = 0.25  # a sense scoring below this share of the best one is dropped
# How much an English look-alike counts next to a Swedish word's dictionary senses ("token" is
# also a fool): enough to win where the English articles use it and the other senses they do not.
LOAN_SHARE = 0.5
_LATIN = re.compile(r"^[a-z0-9_]+$")
# The last part of a Swedish compound read alone when the rest is unknown is a word of at least
# this many letters: shorter ones (egg, era, ort) end too many unrelated words and misspellings.
MIN_KIND_PART = 5


@dataclass(frozen=True)
class TranslatedQuery:
    """English terms for a query: weighted words for keyword search and a reading for the model."""

    lang: str
    terms: dict[str, float]  # English word -> weight (summed over the query's words)
    text: str  # the best sense of every word, in the query's order
    covered: float  # share of the query's content words that were translated or kept
    words: list[tuple[str, list[str]]] = field(default_factory=list)  # source word -> senses


class QueryTranslator:
    """Word-by-word sv/ru -> en translation with lemmatization, phrases, compounds, sense ranking."""

    def __init__(self, lexicon: Lexicon, english_prior: Callable[[str], float] | None = None,
                 max_senses: int = MAX_SENSES, loanwords: LoanwordMatcher | None = None,
                 dictionaries: Lexicon | None = None):
        self.lexicon = lexicon
        # The imported dictionaries alone (`lexicon` adds what was learned from the knowledge
        # base's translations): general vocabulary, which tells languages apart (search/query.py).
        self.dictionaries = dictionaries or Lexicon()
        self.english_prior = english_prior or (lambda term: 1.0)
        self.loanwords = loanwords
        self.max_senses = max_senses
        # Same lexicons, same translations: part of the key of answers shared between hosts.
        self.identity = repr((max_senses, sorted(
            (lang, len(table), round(sum(sum(senses.values()) for senses in table.values()), 3))
            for lang, table in lexicon.entries.items())))
        self._translate_word = lru_cache(maxsize=100_000)(self._translate_word_uncached)

    def languages(self) -> list[str]:
        return self.lexicon.languages()

    def warm_up(self) -> None:
        """Open the morphological dictionaries now rather than in a customer's request."""
        for lang in self.languages():
            lemma_candidates("warm", lang)

    def translate(self, query: str, lang: str) -> TranslatedQuery:
        tokens = words(query)
        names = _names(query)
        stop = stopwords(lang)
        terms: dict[str, float] = {}
        reading: list[str] = []
        explained: list[tuple[str, list[str]]] = []
        content = covered = 0
        i = 0
        while i < len(tokens):
            token = tokens[i]
            senses, used = self._translate_phrase(tokens[i:i + 3], lang)
            if not senses:
                if _kept_as_typed(token, lang):
                    senses = [(token, 1.0)]  # product names, codes, numbers: as typed
                elif token in names:
                    # A name is translated only as written (Schweiz, Норвегию), never read as
                    # an inflected word (Klarna is not "klar"), and otherwise kept as typed.
                    senses = list(self._translate_word(token, lang, exact=lang != "ru")) \
                        or [(token, 1.0)]
                elif token in stop:
                    i += 1
                    continue
                else:
                    senses = list(self._translate_word(token, lang))
            content += 1
            if senses:
                covered += 1
                reading.append(senses[0][0])
                explained.append((" ".join(tokens[i:i + used]), [s for s, _ in senses]))
                for sense, weight in senses:
                    for word in words(sense):
                        terms[word] = terms.get(word, 0.0) + weight
            elif lang != "ru" or _LATIN.match(token):
                reading.append(token)  # unknown: a name or an English word, kept as typed
            i += used
        return TranslatedQuery(lang, terms, " ".join(reading), covered / content if content else 0.0,
                               explained)

    def senses_of(self, phrase: str, lang: str, exact_phrase: bool = False) -> list[tuple[str, float]]:
        """The English words one word (or, with `exact_phrase`, one two- or three-word entry)
        translates to, ranked and weighted as `translate` reads them."""
        tokens = phrase.split()
        if exact_phrase or len(tokens) > 1:
            senses, used = self._translate_phrase(tokens, lang)
            if used != len(tokens):
                return []
        else:
            senses = list(self._translate_word(tokens[0], lang)) if tokens else []
            if not senses and tokens and _kept_as_typed(tokens[0], lang):
                senses = [(tokens[0], 1.0)]  # GitHub in a Russian article: read as typed
        english: dict[str, float] = {}
        for sense, weight in senses:
            for word in words(sense):
                english[word] = english.get(word, 0.0) + weight
        return sorted(english.items(), key=lambda item: (-item[1], item[0]))

    def _translate_phrase(self, tokens: list[str], lang: str) -> tuple[list[tuple[str, float]], int]:
        """Three or two words that are one entry (`до сих пор`, `skriva ut`), with the first
        lemmatized; returns the senses and how many words they cover."""
        for size in (3, 2):
            if len(tokens) < size:
                continue
            rest = " ".join(tokens[1:size])
            found: dict[str, float] = {}
            for lemma, probability in lemma_candidates(tokens[0], lang):
                for sense, weight in self.lexicon.senses(lang, f"{lemma} {rest}").items():
                    found[sense] = found.get(sense, 0.0) + probability * weight
            if found:
                return self._rank(found), size
        return [], 1

    def _translate_word_uncached(self, token: str, lang: str,
                                 exact: bool = False) -> tuple[tuple[str, float], ...]:
        found: dict[str, float] = {}
        candidates = [(token, 1.0)] if exact else lemma_candidates(token, lang)
        for lemma, probability in candidates:
            for sense, weight in self.lexicon.senses(lang, lemma).items():
                found[sense] = found.get(sense, 0.0) + probability * weight
        if not exact and self.loanwords is not None and (not found or lang == "sv"):
            loan = self.loanwords.match(token, lang)  # гитхабе -> github, mergas -> merged
            if loan:
                # A word the dictionary knows keeps its own senses first (sent is "late"); the
                # English reading competes at a share, ranked by the articles' use of it.
                share = LOAN_SHARE if found else 1.0
                found[loan] = max(found.get(loan, 0.0), share * max(found.values(), default=1.0))
        if not found and lang == "sv" and not exact:
            found = self._compound(token)
        return tuple(self._rank(found))

    def _compound(self, token: str) -> dict[str, float]:
        """Swedish compounds: the split whose parts are both known, preferring even parts; where
        no split has two, a compound is a kind of its last part (djurfysioterapeut: a therapist)
        and is read as the longest known one of MIN_KIND_PART letters or more."""
        best: tuple[float, dict[str, float]] | None = None
        kind: Mapping[str, float] | None = None
        for heads, tail in swedish_splits(token):
            tail_forms = [form for form, _ in swedish_candidates(tail)]
            tail_senses = self._part_senses(tail_forms)
            if kind is None:
                kind = self._part_senses(tail_forms, MIN_KIND_PART)
            head_senses = self._part_senses(heads)
            if not head_senses or not tail_senses:
                continue
            head = heads[0]
            balance = min(len(head), len(tail))
            if best is None or balance > best[0]:
                head_ranked, tail_ranked = self._rank(dict(head_senses)), self._rank(dict(tail_senses))
                # Read as one English phrase (presentkort -> "gift card"); the other senses of
                # each part still count, less.
                parts = {f"{head_ranked[0][0]} {tail_ranked[0][0]}": 1.0}
                for sense, value in head_ranked[1:] + tail_ranked[1:]:
                    parts[sense] = parts.get(sense, 0.0) + 0.5 * value
                best = (balance, parts)
        return best[1] if best else dict(kind or {})

    def _part_senses(self, forms: Iterable[str], min_length: int = 0
                     ) -> Mapping[str, float] | None:
        """The senses of the first of a compound part's forms the lexicon has."""
        return next((senses for form in forms
                     if len(form) >= min_length and (senses := self.lexicon.senses("sv", form))),
                    None)

    def _rank(self, found: dict[str, float]) -> list[tuple[str, float]]:
        """Senses ordered by lexicon weight x how common the English term is where we search;
        the kept ones share a weight of 1 so a word with many senses does not count more."""
        if not found:
            return []
        scored = sorted(((sense, weight * self.english_prior(sense)) for sense, weight in found.items()),
                        key=lambda item: (-item[1], item[0]))
        top = scored[0][1]
        kept = [(s, v) for s, v in scored[: self.max_senses] if v >= MIN_SENSE_SHARE * top and v > 0]
        total = sum(v for _, v in kept) or 1.0
        return [(sense, value / total) for sense, value in kept]


def _kept_as_typed(token: str, lang: str) -> bool:
    """Numbers, and Latin-script words in Russian text (product names, codes), are English as
    they stand."""
    return token.isdigit() or (lang == "ru" and bool(_LATIN.match(token)))


def _names(query: str) -> set[str]:
    """Capitalized words after the first word of a sentence: product and brand names (Klarna,
    PhotoNook), kept as typed rather than read as dictionary words. Text typed in capitals
    names nothing."""
    found: set[str] = set()
    for sentence in re.split(r"[.!?]+\s*", query):
        tokens = re.findall(r"\w+", sentence)
        for token in tokens[1:]:
            if token[:1].isupper() and not token.isupper():
                found.add(token.lower())
    return found


def vocabulary_prior(document_frequency: Callable[[str], int], documents: int,
                     floor: float = 0.05) -> Callable[[str], float]:
    """How common an English term is in the searched articles, in [floor, 1]: a multi-word term
    counts by its rarest word, a term that never occurs keeps a small weight (the model may still
    use it)."""
    scale = math.log1p(max(documents, 1))

    def prior(term: str) -> float:
        parts = words(term)
        if not parts:
            return floor
        rarest = min(document_frequency(part) for part in parts)
        return floor + (1 - floor) * math.log1p(rarest) / scale

    return prior


# How much the knowledge base's own (small, statistical) lexicon counts next to dictionaries.
# Chosen leave-one-help-center-out on six help centers (.125, .25, .5, 1): .25 in every fold
# (docs/quality.md). Its pairs still decide a word no dictionary has, where they stand alone.
LEARNED_WEIGHT = 0.25


def translator_for(index: SearchIndex, dictionaries: Lexicon | None = None,
                   learned: bool = True) -> QueryTranslator | None:
    """A translator into the English articles of `index`: imported dictionaries plus (unless
    `learned` is off) the lexicon learned from the index's own translated articles."""
    keyword = index.keyword.get("en")
    if keyword is None:
        return None
    lexicon = dictionaries or Lexicon()
    if learned:
        weight = LEARNED_WEIGHT if lexicon.entries else 1.0
        lexicon = lexicon.merge(index.lexicon.scaled(weight))
    if not lexicon.entries:
        return None
    prior = vocabulary_prior(keyword.document_frequency, keyword.size)
    # Loans are English words: looked for in the English articles and in the Latin-script names
    # of the Russian ones, not in Swedish text (whose Latin words are Swedish).
    loanwords = LoanwordMatcher(d.keyword_text for d in index.documents if d.lang != "sv")
    return QueryTranslator(lexicon, prior, loanwords=loanwords, dictionaries=dictionaries)
