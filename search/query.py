"""Query understanding: the text to search for, the language it is in, and its English reading.

Before anything is scored, a question is trimmed to the longest length searched, repaired when it
is Russian typed on an English layout or in Latin letters, assigned a language (the caller's, the
text's or a hint's), given back the accents the articles write (Swedish typed without å, ä, ö),
and, when English articles may answer it, translated word by word.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from search.language import LanguageGuess, hinted_language, identify_language, load_detector
from search.morphology import (dictionary_known_share, is_russian_word, is_swedish_verb_form,
                               lemma_candidates)
from search.query_translation import QueryTranslator, TranslatedQuery
from search.ranking import TRANSLATION_TARGET
from search.repair import REPAIRED_LANGUAGE, Repair, repair_query, restore_accents
from search.text import telling_words, unaccented, words
from search.vocabulary import accented_words, zipf

if TYPE_CHECKING:
    from search.index import SearchIndex

# The longest question searched; the web service's `KB_MAX_QUERY_CHARS` refuses longer ones
# and is passed in as the limit.
MAX_QUERY_CHARS = 500
# Imported dictionaries with fewer words than this are too small to tell an English or Swedish
# question from Russian in Latin letters.
MIN_LATIN_VOCABULARY = 20_000


@dataclass(frozen=True)
class Question:
    """A question as the engine searches it: text (repaired), language, and the repair if any."""

    text: str
    guess: LanguageGuess
    repair: Repair | None = None


class QueryReader:
    """Reads questions against one index's vocabularies and the configured languages."""

    def __init__(self, languages: Sequence[str], index: SearchIndex,
                 translator: QueryTranslator | None = None, max_chars: int = MAX_QUERY_CHARS):
        self.languages = tuple(languages)
        self.translator = translator
        self.max_chars = max_chars
        self._index = index  # its keyword indexes are built on first use
        self._latin: frozenset[str] | None = None
        self._accent_maps: dict[str, dict[str, str]] = {}

    def warm_up(self) -> None:
        """Build the language detector and open the translator's dictionaries now."""
        load_detector(self.languages)
        for lang in self.languages:
            self._accented(lang)
        if self.translator is not None:
            self.translator.warm_up()
        self._latin_vocabulary()

    def trim(self, query: str) -> str:
        """The part of the text that is searched."""
        return query.strip()[:self.max_chars]

    def request_key(self, query: str, lang: str | None, hints: Sequence[str], limit: int,
                    trust_lang: bool) -> tuple[Any, ...]:
        """The parts of a request that can change its answer, normalized as `read` reads them,
        so requests that must get the same answer share one key."""
        query = self.trim(query)
        if trust_lang and lang:
            return (query, lang, True, limit)
        return (query, hinted_language([h for h in (lang, *hints) if h], self.languages), False,
                limit)

    def identify(self, query: str, hints: Sequence[str] = ()) -> LanguageGuess:
        """The language of `query`: clear evidence in the text, else the first configured hint."""
        return identify_language(query, self.languages, hints, default=self.languages[0])

    def read(self, query: str, lang: str | None, hints: Sequence[str],
             trust_lang: bool) -> Question:
        """Trim, repair and identify: `lang` is a hint unless `trust_lang`."""
        query = self.trim(query)
        repair = self.repair(query)
        if repair is not None and trust_lang and lang and repair.lang != lang:
            repair = None  # the caller fixed another language: take the text as typed
        if repair is not None:
            return Question(repair.text, LanguageGuess(repair.lang, 1.0, repair.kind), repair)
        if trust_lang and lang:
            guess = LanguageGuess(lang, 1.0, "given")
        else:
            guess = self.identify(query, [h for h in (lang, *hints) if h])
        restored = self.restore_accents(query, guess.lang)
        if restored is not None:
            return Question(restored, guess, Repair(restored, guess.lang, "accents"))
        return Question(query, guess)

    def restore_accents(self, query: str, lang: str) -> str | None:
        """The question with the accents the articles of `lang` write and a keyboard without
        å, ä, ö left out ("glomt losenord" -> "glömt lösenord"), or None."""
        keyword = self._index.keyword.get(lang)
        accented = self._accented(lang)
        if keyword is None or not accented:
            return None
        # A word the articles use as typed, more common in general language than the accented
        # one, or a verb's form, is a word in its own right: "har" (has) is not "här" (here),
        # and "sa upp" (cancelled) is not "så upp".
        return restore_accents(query, accented, lambda typed, word: (
            keyword.known_share(typed) > 0 or zipf(typed, lang) >= zipf(word, lang)
            or (lang == "sv" and is_swedish_verb_form(typed))))

    def _accented(self, lang: str) -> dict[str, str]:
        """Words of `lang` written with accents, by their form without them: the articles' own
        (the most used one where two share it), then general language's ("igår", "går", "få"),
        which a customer writes though no article does."""
        if lang not in self._accent_maps:
            counts: Counter[str] = Counter(
                word for doc in self._index.documents if doc.lang == lang
                for word in words(doc.keyword_text) if not word.isascii())
            found: dict[str, str] = {}
            for word, _ in counts.most_common():
                if (plain := unaccented(word)) != word:
                    found.setdefault(plain, word)
            for plain, word in accented_words(lang).items():
                found.setdefault(plain, word)
            self._accent_maps[lang] = found
        return self._accent_maps[lang]

    def repair(self, query: str) -> Repair | None:
        """Russian typed on an English layout or in Latin letters, read as Russian."""
        keyword = self._index.keyword
        if REPAIRED_LANGUAGE not in keyword:
            return None
        latin = tuple(lang for lang in keyword if lang != REPAIRED_LANGUAGE)
        # Russian words the articles never use (зайти) still make a layout reading Russian.
        return repair_query(query, lambda text, lang: keyword[lang].known_share(text), latin,
                            dictionary=lambda text: dictionary_known_share(text, REPAIRED_LANGUAGE),
                            known_word=is_russian_word,
                            latin_words=self._latin_share if self._latin_vocabulary() else None)

    def _latin_vocabulary(self) -> frozenset[str]:
        """Words of the Latin-script languages the imported dictionaries know: the English they
        translate into and the Swedish they translate from (empty without dictionaries, or with
        too few words to tell an English or Swedish question from Russian in Latin letters)."""
        if self._latin is None:
            found: set[str] = set()
            if self.translator is not None:
                dictionaries = self.translator.dictionaries
                found = dictionaries.words_in(
                    lang for lang in dictionaries.languages() if lang != REPAIRED_LANGUAGE)
            self._latin = frozenset(found) if len(found) >= MIN_LATIN_VOCABULARY else frozenset()
        return self._latin

    def _latin_share(self, text: str) -> float:
        """Share of the text's words that are English or Swedish words (inflected or not),
        among those that tell languages apart: a dictionary has "est", "li" and "na" too."""
        vocabulary = self._latin_vocabulary()
        tokens = telling_words(text)
        known = sum(1 for token in tokens if token in vocabulary or any(
            lemma in vocabulary for lemma, _ in lemma_candidates(token, "sv")))
        return known / len(tokens) if tokens else 0.0

    def translate(self, query: str, lang: str, english_candidates: bool) -> TranslatedQuery | None:
        """The query in English, when English articles are among the candidates."""
        if (self.translator is None or lang == TRANSLATION_TARGET
                or lang not in self.translator.languages()
                or TRANSLATION_TARGET not in self._index.keyword
                or not english_candidates):
            return None
        return self.translator.translate(query, lang)
