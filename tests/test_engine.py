"""The engine on a small help center, with a fake multilingual embedder (fast, deterministic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.collection import load_articles
from search.document import document_from_article
from search.engine import AbstainRule, RankingConfig, SearchEngine
from search.index import SearchIndex
from tests.conftest import WriteArticle
from tests.fakes import FakeEmbedder

ARTICLES = {
    ("en", "reset-password"): ("Reset your password", "Forgot your password? Get a reset link.",
                               "## Steps\n\nClick Forgot password and follow the email link.\n"),
    ("sv", "reset-password"): ("Återställ lösenordet", "Glömt lösenordet? Be om en länk.",
                               "## Gör så här\n\nKlicka på Glömt lösenord och följ länken i mejlet.\n"),
    ("ru", "reset-password"): ("Сброс пароля", "Забыли пароль? Запросите ссылку.",
                               "## Что делать\n\nНажмите «Забыли пароль» и перейдите по ссылке.\n"),
    ("en", "cancel-and-refund"): ("Cancel and get a refund", "Cancel any time; refunds within 14 days.",
                                  "## Refunds\n\nAsk for a refund within 14 days of paying.\n"),
    ("sv", "cancel-and-refund"): ("Avsluta och få pengarna tillbaka", "Säg upp när du vill.",
                                  "## Återbetalning\n\nBe om återbetalning inom 14 dagar.\n"),
    ("ru", "cancel-and-refund"): ("Отмена и возврат денег", "Отмените подписку в любой момент.",
                                  "## Возврат\n\nВозврат денег возможен в течение 14 дней.\n"),
    ("en", "linux-command-line"): ("Use Driftbox from the Linux terminal",
                                   "Install the command-line client.",
                                   "## Install\n\nInstall the .deb package, then run the command "
                                   "driftbox login in a terminal.\n"),
}


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
    engine.config = RankingConfig(abstain=None)
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
    first = engine.search("glömt lösenord")
    second = engine.search("glömt lösenord")
    assert [r.id for r in second.results] == [r.id for r in first.results]
    assert len(engine.embedder.calls) == calls + 1  # the model ran once
    engine.search("glömt lösenord", limit=2)
    assert len(engine.embedder.calls) == calls + 2  # another question, another run
