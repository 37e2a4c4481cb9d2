"""Everyday words to the knowledge base's own words, through English.

Customers rarely use the writer's word: «не могу зайти» where the article says «войти», "hur
avbryter jag prenumerationen" where it says "säg upp abonnemanget". The lexicons that translate
questions into English (imported dictionaries and the one learned from the knowledge base's own
translations) also link such pairs: both words translate to "enter", both to "subscription". So a
question's words are read in English, and each English sense is read back into the words the
knowledge base's articles in the question's language actually use. Those words are added to the
native keyword query with a lower weight than the words the customer typed.

Only words of the knowledge base are ever added, so an expansion can only find an article, never
invent vocabulary; the English reading is the one query translation already computes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from search.query_translation import QueryTranslator
from search.text import stem_tokens, stopwords, words

# How much an added word counts next to a typed one, by default (the engine reads
# RankingConfig.expansion_weight, chosen leave-one-help-center-out by `kb tune --ranking`: see
# docs/quality.md); below it a pivot found nothing new, above it senses drifted.
EXPANSION_WEIGHT = 0.5
# Senses of a knowledge-base word below this share of its best sense are not read back.
MIN_BACK_SHARE = 0.3


class SynonymIndex:
    """English sense -> the knowledge base's words with that sense, per language."""

    def __init__(self, translator: QueryTranslator, texts_by_lang: Mapping[str, Iterable[str]]):
        self.translator = translator
        self._back: dict[str, dict[str, dict[str, float]]] = {}
        for lang, texts in texts_by_lang.items():
            if lang not in translator.languages():
                continue
            back: dict[str, dict[str, float]] = defaultdict(dict)
            stop = stopwords(lang)
            seen: set[str] = set()
            for text in texts:
                tokens = words(text)
                for i, token in enumerate(tokens):
                    for size in (2, 1):
                        phrase = " ".join(tokens[i:i + size])
                        if phrase in seen or (size == 1 and token in stop):
                            continue
                        seen.add(phrase)
                        senses = translator.senses_of(phrase, lang, exact_phrase=size > 1)
                        if not senses:
                            continue
                        top = senses[0][1]
                        for sense, weight in senses:
                            if weight >= MIN_BACK_SHARE * top:
                                back[sense][phrase] = max(back[sense].get(phrase, 0.0), weight)
            self._back[lang] = dict(back)

    def expand(self, query: str, lang: str, known: Callable[[str], bool],
               added_weight: float = EXPANSION_WEIGHT) -> dict[str, float]:
        """The knowledge base's words for the question's words it does not use itself
        (`known(stem)`: the stem occurs in the language's articles), each counting `added_weight`
        times its sense's share."""
        back = self._back.get(lang)
        if not back:
            return {}
        stop = stopwords(lang)
        found: dict[str, float] = {}
        for token in words(query):
            stems = stem_tokens(token, lang)
            if token in stop or not stems or all(known(stem) for stem in stems):
                continue
            for sense, weight in self.translator.senses_of(token, lang):
                for phrase, back_weight in back.get(sense, {}).items():
                    found[phrase] = max(found.get(phrase, 0.0), weight * back_weight)
        return {phrase: added_weight * value for phrase, value in found.items()}
