"""Everyday words reach the articles' own words through their English senses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from search.decision import SHOW_ALL
from search.engine import RankingConfig, SearchEngine
from search.index import SearchIndex
from search.lexicon import Lexicon
from search.query_translation import QueryTranslator
from search.synonyms import SynonymIndex
from tests.support.fakes import FakeEmbedder
from tests.support.indexes import index_of

ARTICLES = [
    ("ru", "sign-in", "Не получается войти", "Проверьте пароль и нажмите Войти."),
    ("ru", "delete-account", "Как удалить аккаунт", "Откройте настройки и нажмите Удалить."),
    ("sv", "cancel", "Säg upp abonnemanget", "Öppna Konto och välj Säg upp abonnemang."),
    ("sv", "delete-account", "Radera kontot", "Öppna Konto och välj Radera konto."),
]
LEXICON = {"ru": [("зайти", "enter"), ("войти", "enter"), ("войти", "sign in"),
                  ("удалить", "delete")],
           "sv": [("prenumeration", "subscription"), ("abonnemang", "subscription"),
                  ("radera", "delete")]}


@pytest.fixture(scope="module")
def translator() -> QueryTranslator:
    lexicon = Lexicon()
    for lang, pairs in LEXICON.items():
        lexicon.add(lang, [(source, english, 1.0) for source, english in pairs])
    return QueryTranslator(lexicon)


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return index_of(ARTICLES)


def test_a_word_the_articles_never_use_brings_their_word_for_it(translator, index) -> None:
    synonyms = SynonymIndex(translator, {"ru": [d.keyword_text for d in index.documents
                                                if d.lang == "ru"]})
    expansion = synonyms.expand("не могу зайти", "ru", index.keyword["ru"].has_stem)
    assert "войти" in expansion and 0 < expansion["войти"] < 1
    # Words the articles already use are searched as typed, not expanded.
    assert synonyms.expand("не могу войти", "ru", index.keyword["ru"].has_stem) == {}


def test_only_the_knowledge_base_words_are_added(translator, index) -> None:
    synonyms = SynonymIndex(translator, {"sv": [d.keyword_text for d in index.documents
                                                if d.lang == "sv"]})
    expansion = synonyms.expand("hur avslutar jag min prenumeration", "sv",
                                index.keyword["sv"].has_stem)
    article_words = {w for d in index.documents if d.lang == "sv" for w in d.keyword_text.lower().split()}
    assert expansion and all(word in article_words for word in expansion)
    assert any(word.startswith("abonnemang") for word in expansion)


@pytest.mark.parametrize(("question", "lang", "expected", "first"), [
    ("не могу зайти", "ru", "ru/sign-in", True),
    ("prenumeration", "sv", "sv/cancel", False),  # the fake model's noise may still win
])
def test_the_engine_finds_the_article_by_the_customer_s_word(translator, index, question, lang,
                                                             expected, first) -> None:
    config = replace(RankingConfig(), abstain=None, relative_margins=SHOW_ALL)
    with_synonyms = SearchEngine(index, FakeEmbedder(), ("en", "sv", "ru"), config, translator)
    without = SearchEngine(index, FakeEmbedder(), ("en", "sv", "ru"),
                           replace(config, expand_synonyms=False), translator)
    found = [r.id for r in with_synonyms.search(question, lang=lang, trust_lang=True).results]
    plain = without.search(question, lang=lang, trust_lang=True).results
    assert next(r for r in plain if r.id == expected).signals["bm25"] == 0
    hit = next(r for r in with_synonyms.search(question, lang=lang, trust_lang=True).results
               if r.id == expected)
    assert hit.signals["bm25"] > 0 and np.isfinite(hit.score)
    assert found.index(expected) <= [r.id for r in plain].index(expected)
    assert found.index(expected) == 0 or not first


def test_the_engine_weighs_added_words_by_its_config(translator, index) -> None:
    config = replace(RankingConfig(), abstain=None, relative_margins=SHOW_ALL)
    engine = SearchEngine(index, FakeEmbedder(), ("en", "sv", "ru"), config, translator)

    def keyword_score(weight: float) -> float:
        engine.config = replace(config, expansion_weight=weight)
        results = engine.search("не могу зайти", lang="ru", trust_lang=True).results
        return next(r for r in results if r.id == "ru/sign-in").signals["bm25"]

    assert 0 < keyword_score(0.25) < keyword_score(1.0)
