"""The engine on a small help center, with a fake multilingual embedder (fast, deterministic)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import search.answer_cache
from search.answer_cache import AnswerCache
from search.collection import load_articles
from search.dense_index import DenseIndex, DenseSignals, language_blocks
from search.document import document_from_article
from search.engine import SearchEngine
from search.index import SearchIndex
from search.decision import SHOW_ALL
from search.ranking import AbstainRule, RankingConfig, Signals
from search.query_translation import translator_for
from search.vector_index import VectorIndex
from tests.support.articles import WriteArticle
from tests.support.fakes import FakeEmbedder
from tests.support.help_center import ARTICLES

@pytest.fixture
def engine(articles_dir: Path, write_article: WriteArticle) -> SearchEngine:
    for (lang, slug), (title, summary, body) in ARTICLES.items():
        write_article(lang, slug, title=title, summary=summary, body=body)
    articles = load_articles(articles_dir, ("en", "sv", "ru"))
    embedder = FakeEmbedder()
    index = SearchIndex.build([document_from_article(a) for a in articles.published()], embedder)
    return SearchEngine(index, embedder, ("en", "sv", "ru"),
                        RankingConfig(abstain={"default": AbstainRule(0.3, 0.4)}))


def test_answers_in_the_customers_language(engine: SearchEngine) -> None:
    sv = engine.search("jag har glömt mitt lösenord")
    assert sv.lang == "sv"
    assert sv.results[0].id == "sv/reset-password"
    assert not sv.results[0].fallback
    ru = engine.search("хочу вернуть деньги за подписку")
    assert ru.lang == "ru"
    assert ru.results[0].id == "ru/cancel-and-refund"


def test_one_result_per_article_in_the_served_language(engine: SearchEngine) -> None:
    response = engine.search("glömt lösenord", limit=10)
    slugs = [r.slug for r in response.results]
    assert len(slugs) == len(set(slugs))
    # Translated articles come in Swedish; only the English-only one may fall back.
    assert {(r.lang, r.fallback) for r in response.results} <= {("sv", False), ("en", True)}


def test_falls_back_to_english_only_article_with_a_label(engine: SearchEngine) -> None:
    response = engine.search("hur installerar jag kommando i linux terminal")
    assert response.lang == "sv"
    top = response.results[0]
    assert (top.id, top.lang, top.fallback) == ("en/linux-command-line", "en", True)


def test_off_topic_question_gets_no_suggestion(engine: SearchEngine) -> None:
    response = engine.search("what is the weather like in Paris tomorrow")
    assert response.abstained and response.results == []


def test_without_abstention_there_is_always_an_answer(engine: SearchEngine) -> None:
    engine.config = RankingConfig(abstain=None, relative_margins=SHOW_ALL)
    assert engine.search("what is the weather like in Paris tomorrow").results


def test_result_fields_and_highlighted_snippet(engine: SearchEngine) -> None:
    result = engine.search("refund within 14 days <script>").results[0]
    assert result.id == "en/cancel-and-refund"
    assert result.title == "Cancel and get a refund"
    assert result.summary.startswith("Cancel any time")
    assert result.anchor == "refunds"
    assert "<mark>refund</mark>" in result.snippet
    assert "<script>" not in result.snippet


def test_explicit_language_is_a_hint_not_an_override(engine: SearchEngine) -> None:
    assert engine.search("jag har glömt mitt lösenord", lang="en").lang == "sv"
    assert engine.search("Driftbox", lang="ru").lang == "ru"


def test_empty_and_huge_queries(engine: SearchEngine) -> None:
    assert engine.search("   ").results == []
    response = engine.search("password " * 5000)
    assert len(response.query) <= 1000
    assert response.results[0].slug == "reset-password"


def test_russian_typed_on_english_layout_is_repaired(engine: SearchEngine) -> None:
    response = engine.search("pf,skf gfhjkm")  # «забыла пароль» with the layout left on English
    assert response.repaired_query == "забыла пароль"
    assert response.lang == "ru"
    assert response.results[0].id == "ru/reset-password"


def test_plain_english_is_not_repaired(engine: SearchEngine) -> None:
    assert engine.search("forgot password").repaired_query is None


def test_repeated_queries_come_from_the_cache(engine: SearchEngine) -> None:
    calls = len(engine.embedder.calls)
    cached = AnswerCache(engine)
    first = cached.search("glömt lösenord")
    second = cached.search("glömt lösenord")
    assert [r.id for r in second.results] == [r.id for r in first.results]
    assert second.cache == "local" and first.cache is None
    # The whole answer comes back as it was, scores and snippets included.
    assert replace(second, took_ms=0.0, cache=None) == replace(first, took_ms=0.0)
    assert len(engine.embedder.calls) == calls + 1  # the model ran once
    cached.search("glömt lösenord", limit=2)
    assert len(engine.embedder.calls) == calls + 2  # another question, another run


class DictCache:
    """A shared cache level kept in a dict, holding what survives a trip through JSON (Redis)."""

    def __init__(self) -> None:
        self.entries: dict[str, Any] = {}

    def get(self, key: str) -> Mapping[str, Any] | None:
        return self.entries.get(key)

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        self.entries[key] = json.loads(json.dumps(value))


def _sharing(engine: SearchEngine, shared: DictCache, index: SearchIndex | None = None
             ) -> AnswerCache:
    """Another process's engine: its own model and local cache, the same shared cache."""
    return AnswerCache(SearchEngine(index or engine.index, FakeEmbedder(), engine.languages,
                                    engine.config), shared)


def test_a_second_engine_answers_from_the_shared_cache(engine: SearchEngine) -> None:
    shared = DictCache()
    first, second = _sharing(engine, shared), _sharing(engine, shared)
    asked = first.search("glömt lösenord", hints=["sv-SE"])
    assert asked.cache is None and len(shared.entries) == 1
    # Padding and hints past the first configured language cannot change the answer.
    answered = second.search("  glömt lösenord ", hints=["de", "sv", "en"])
    assert answered.cache == "shared"
    assert second.embedder.calls == []  # the model never ran in the second process
    assert answered.results == asked.results and answered.lang == asked.lang
    assert second.search("glömt lösenord", hints=["sv"]).cache == "local"
    assert second.search("glömt lösenord", hints=["ru"]).cache is None  # another hint, new entry


def test_another_build_never_reads_older_answers(engine: SearchEngine) -> None:
    shared = DictCache()
    _sharing(engine, shared).search("refund")
    smaller = SearchIndex.build([d for d in engine.index.documents if d.lang != "sv"],
                                FakeEmbedder())
    assert smaller.identity != engine.index.identity
    rebuilt = _sharing(engine, shared, smaller)
    assert rebuilt.search("refund").cache is None
    assert len(shared.entries) == 2


def test_another_version_of_the_code_never_reads_older_answers(
        engine: SearchEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = DictCache()
    _sharing(engine, shared).search("refund")
    # A deploy that changes how answers are ranked: same index, same settings, new code.
    monkeypatch.setattr(search.answer_cache, "code_identity", lambda: "the next release")
    assert _sharing(engine, shared).search("refund").cache is None
    assert len(shared.entries) == 2


def test_an_unreadable_shared_entry_is_searched_again(engine: SearchEngine) -> None:
    shared = DictCache()
    first = _sharing(engine, shared)
    expected = first.search("refund")
    for key in shared.entries:
        shared.entries[key] = {"written_by": "another version"}
    response = _sharing(engine, shared).search("refund")
    assert response.cache is None and response.results == expected.results


# --- Scoring only what the served pool needs changes no ranking -------------------------------

def _every_score(vectors: VectorIndex, query: np.ndarray) -> np.ndarray:
    """Every stored vector's score the plain way: a FAISS search for all of them."""
    scores, ids = vectors.search(query, len(vectors))
    out = np.full(len(vectors), -1.0, dtype=np.float32)
    out[ids] = scores
    return out


class ScoreEverythingEngine(SearchEngine):
    """The reference: every document in every language scored, the best chunk found by a loop."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dense = ScoreEverythingDense(self.index)

    def keyword_signals(self, query: str, candidates: np.ndarray) -> Signals:
        index = self.index
        bm25 = np.zeros(len(index.documents), dtype=np.float32)
        chars = np.zeros(len(index.documents), dtype=np.float32)
        for lang, positions in index.positions_by_lang.items():
            bm25[positions] = index.keyword[lang].bm25(query)
            chars[positions] = index.keyword[lang].chargram(query)
        return Signals(bm25=bm25, chargram=chars)


class ScoreEverythingDense(DenseIndex):
    """Every vector scored, whatever languages are asked for (its feedback pass too)."""

    def __init__(self, index: SearchIndex) -> None:
        super().__init__(index.article_vectors, index.chunk_vectors, index.chunk_owner,
                         np.array([d.lang for d in index.documents]))
        self.index = index
        self.blocks = None

    def signals(self, query_vector: np.ndarray, langs: object = None) -> DenseSignals:
        index = self.index
        chunk_scores = _every_score(index.chunk_vectors, query_vector)
        best_chunk = np.full(len(index.documents), -1.0, dtype=np.float32)
        for row, owner in enumerate(index.chunk_owner):
            best_chunk[owner] = max(best_chunk[owner], chunk_scores[row])
        return DenseSignals(best_chunk, _every_score(index.article_vectors, query_vector),
                            chunk_scores)


SAMPLE_QUESTIONS = [
    ("I forgot my password", None), ("how do I get my money back", None),
    ("jag har glömt mitt lösenord", None), ("hur installerar jag i linux terminal", None),
    ("не могу войти в аккаунт", None), ("pf,skf gfhjkm", None), ("zabyla parol", None),
    ("share a folder with my team", "sv"), ("konto", "ru"), ("refund", "en"),
    ("what is the weather like in Paris", None), ("Driftbox", "sv"),
]


@pytest.mark.parametrize(("translated", "embedded"), [(False, False), (True, False), (True, True)],
                         ids=["as-typed", "translated", "translation-embedded"])
def test_scoring_only_the_served_pool_ranks_as_scoring_everything(
        sample_index: Path, monkeypatch: pytest.MonkeyPatch, translated: bool,
        embedded: bool) -> None:
    index = SearchIndex.load(sample_index)
    # Embedded in English (as with an English-only model), a Swedish or Russian article is
    # compared through its English version: scores from another language than it is in.
    config = RankingConfig(abstain=None, relative_margins=SHOW_ALL, embed_translation=embedded)
    # With translation, translated articles are scored through their English versions.
    translator = translator_for(index) if translated else None
    assert not translated or translator is not None
    engine = SearchEngine(index, FakeEmbedder(), ("en", "sv", "ru"), config, translator)
    reference = ScoreEverythingEngine(index, FakeEmbedder(), ("en", "sv", "ru"), config, translator)
    assert engine.dense.blocks is not None  # the engine reads only the languages it serves from

    def answers(search_engine: SearchEngine) -> list[list[tuple[object, ...]]]:
        out = []
        for question, lang in SAMPLE_QUESTIONS:
            response = search_engine.search(question, lang=lang, limit=10, trust_lang=bool(lang))
            out.append([(r.id, r.score, r.signals, r.snippet, r.anchor, r.fallback)
                        for r in response.results])
        return out

    served = answers(engine)
    # The feedback pass scores articles too: make the reference score every one of them.
    monkeypatch.setattr(VectorIndex, "scores", lambda self, query, *a, **k: _every_score(self, query))
    expected = answers(reference)
    assert all(len(results) == 10 for results in expected)  # full pools, feedback pass included
    assert any(r[5] for results in expected for r in results)  # and English fallbacks
    assert served == expected


def test_dense_scores_are_read_for_the_languages_asked_only(sample_index: Path) -> None:
    index = SearchIndex.load(sample_index)
    embedder = FakeEmbedder()
    engine = SearchEngine(index, embedder, ("en", "sv", "ru"))
    dense = engine.dense.signals(embedder.encode_queries(["forgot password"])[0], ["sv"])
    swedish = np.array([d.lang == "sv" for d in index.documents])
    assert (dense.article[~swedish] == -1).all() and (dense.article[swedish] > -1).all()
    assert (dense.chunk[~swedish] == -1).all() and (dense.chunk[swedish] > -1).all()


def test_language_blocks_only_for_articles_that_sit_together() -> None:
    owner = np.array([0, 0, 1, 2, 2, 2, 3])  # article of each chunk
    blocks = language_blocks(np.array(["en", "en", "sv", "sv"]), owner)
    assert blocks == ({"en": (0, 2), "sv": (2, 4)}, {"en": (0, 3), "sv": (3, 7)})
    assert language_blocks(np.array(["en", "sv", "en", "sv"]), owner) is None


def test_snippets_are_made_for_the_results_shown_only(engine: SearchEngine,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from search.answer import AnswerBuilder

    made: list[int] = []
    original = AnswerBuilder.result
    monkeypatch.setattr(AnswerBuilder, "result",
                        lambda self, position, *args: made.append(position)
                        or original(self, position, *args))
    engine.config = RankingConfig(abstain={"default": AbstainRule(0.3, 0.4)}, relative_margins={"default": 0.99})
    shown = engine.search("refund within 14 days", limit=5)
    assert 1 <= len(shown.results) < 5  # the margin cut the suggestions the limit allowed
    assert len(made) == len(shown.results)
    made.clear()
    assert engine.search("what is the weather like in Paris tomorrow").abstained
    assert made == []  # nothing shown, no snippet made


def test_a_near_miss_gets_nothing_and_says_which_words_gave_it_away(engine: SearchEngine) -> None:
    engine.config = RankingConfig(abstain={"default": AbstainRule(
        0.0, 0.0, unfamiliar_below=0.6, unfamiliar_dense=1.0, unfamiliar_chargram=1.0)})
    near_miss = engine.search("how do I reset my gym membership password at the spa")
    assert near_miss.abstained
    assert {"gym", "membership", "spa"} <= set(near_miss.unknown_words)
    assert "gym" in near_miss.explanation
    own_words = engine.search("how do I reset my password")
    assert own_words.familiar_share == 1.0 and not own_words.abstained


def test_swedish_typed_without_accents_is_searched_as_the_articles_write_it(
        engine: SearchEngine) -> None:
    response = engine.search("jag har glomt mitt losenord")
    assert response.repaired_query == "jag har glömt mitt lösenord"
    assert response.results[0].id == "sv/reset-password"
    assert engine.search("jag har glömt mitt lösenord").repaired_query is None
    # Words no article uses get their accents from general Swedish; a verb's form stays.
    assert engine.search("jag sa upp allt igar men fick inget mejl").repaired_query == \
        "jag sa upp allt igår men fick inget mejl"
