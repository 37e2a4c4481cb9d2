"""Swedish questions answered from English-only articles through query translation (engine and CLI).

A small help center with the fake model: Swedish words the fake model does not link to English
(`skriva ut`, `kvitto`) can only reach the English articles through the translator.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import main
from search.document import document_from_record
from search.engine import SearchEngine
from search.index import SearchIndex
from search.lexicon import Lexicon
from search.query_translation import translator_for
from search.decision import SHOW_ALL
from search.fusion import Weights
from search.ranking import AbstainRule, RankingConfig
from tests.support.fakes import FakeEmbedder
from tests.support.dictionaries import write_dsl, write_wiktionary_text

LANGUAGES = ("en", "sv", "ru")
ARTICLES = [
    ("en", "reset-password", "Reset your password",
     "Forgot your password? Click Forgot password.\nFollow the link in the email."),
    ("sv", "reset-password", "Återställ ditt lösenord",
     "Glömt lösenordet? Klicka på Glömt lösenord.\nFölj länken i mejlet."),
    ("en", "cancel-subscription", "Cancel your subscription",
     "Open the account page.\nClick Cancel subscription."),
    ("sv", "cancel-subscription", "Avsluta ditt abonnemang",
     "Öppna kontosidan.\nKlicka på Avsluta abonnemang."),
    # English only: the Swedish customer gets these in English or not at all.
    ("en", "print-receipt", "Print a receipt",
     "Open the order history.\nClick Print next to the order to print the receipt."),
    ("en", "password-manager", "Use a password manager",
     "Save every password in a password manager.\nThe manager fills in the password for you."),
    ("en", "shipping-times", "Shipping times",
     "Orders ship within two days.\nTracking links arrive by email."),
]
DICTIONARY = [("skriva ut", "print"), ("kvitto", "receipt"), ("beställning", "order"),
              ("lösenord", "password"), ("glömma", "forget"), ("avsluta", "cancel")]
STRICT = RankingConfig(abstain={"default": AbstainRule(min_dense=0.3, min_chargram=0.4)})
# The fake model links Swedish and English words of one concept, as a multilingual model does,
# so a question is embedded as typed; the English-only offline model compares a Swedish question
# through its translation instead (search/ranking.py).
AS_TYPED = {"embed_translation": False}
# Keywords never send the question to English: it is compared as typed with the articles as they
# are, each by its own language's weights (the look the preference for the customer's language
# is for).
EACH_BY_ITS_LANGUAGE = {"translation_band": {"sv": (float("inf"), float("inf"))}}


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    documents = [document_from_record({"id": f"{lang}/{slug}", "lang": lang, "group": slug,
                                       "title": title, "body": body})
                 for lang, slug, title, body in ARTICLES]
    return SearchIndex.build(documents, FakeEmbedder())


@pytest.fixture(scope="module")
def dictionaries() -> Lexicon:
    lexicon = Lexicon()
    lexicon.add("sv", [(source, english, 1.0) for source, english in DICTIONARY])
    return lexicon


def engine_with(index: SearchIndex, translator_lexicon: Lexicon | None,
                config: RankingConfig = STRICT) -> SearchEngine:
    translator = translator_for(index, translator_lexicon) if translator_lexicon else None
    return SearchEngine(index, FakeEmbedder(), LANGUAGES, config, translator)


def ids(engine: SearchEngine, question: str) -> list[str]:
    return [r.id for r in engine.search(question, lang="sv", trust_lang=True, limit=5).results]


def test_swedish_question_on_an_english_only_topic_finds_the_english_article(
        index: SearchIndex, dictionaries: Lexicon) -> None:
    response = engine_with(index, dictionaries).search("skriva ut kvittot för beställningen",
                                                      lang="sv", trust_lang=True)
    top = response.results[0]
    assert (top.id, top.lang, top.fallback) == ("en/print-receipt", "en", True)
    assert top.signals["bm25"] > 0  # found by its English words, through the translation


def test_without_a_translator_the_english_only_article_is_out_of_reach(
        index: SearchIndex) -> None:
    everything = RankingConfig(abstain=None, relative_margins=SHOW_ALL)
    results = engine_with(index, None, everything).search(
        "skriva ut kvittot för beställningen", lang="sv", trust_lang=True, limit=10).results
    assert results[0].id != "en/print-receipt"
    receipt = next(r for r in results if r.id == "en/print-receipt")
    assert receipt.signals["bm25"] == 0.0  # no English word in common with the question


def test_swedish_question_on_a_swedish_topic_gets_the_swedish_article_first(
        index: SearchIndex, dictionaries: Lexicon) -> None:
    engine = engine_with(index, dictionaries, replace(STRICT, **AS_TYPED))
    response = engine.search("jag har glömt mitt lösenord", lang="sv", trust_lang=True)
    found = [r.id for r in response.results]
    assert found[0] == "sv/reset-password"
    assert not response.results[0].fallback
    assert "en/reset-password" not in found  # one version per article: the customer's
    # The translation does reach English-only articles on the same subject, ranked below.
    assert "en/password-manager" in found


def test_native_preference_decides_a_close_race(index: SearchIndex,
                                                dictionaries: Lexicon) -> None:
    # Translated, "lösenord" makes the English-only password-manager article a strong keyword
    # match too; the preference for the customer's language keeps the Swedish article first.
    question = "jag har glömt mitt lösenord"
    neutral = RankingConfig(abstain=None, relative_margins=SHOW_ALL, native_preference={"sv": 0.0},
                            **EACH_BY_ITS_LANGUAGE)
    assert ids(engine_with(index, dictionaries, neutral), question)[0] == "en/password-manager"
    preferring = RankingConfig(abstain=None, relative_margins=SHOW_ALL,
                               **EACH_BY_ITS_LANGUAGE)  # the default preference
    assert ids(engine_with(index, dictionaries, preferring), question)[0] == "sv/reset-password"


def test_articles_compared_through_the_translation_are_ranked_on_one_scale(
        index: SearchIndex, dictionaries: Lexicon) -> None:
    # The engine tells fusion which candidates were compared in English: weigh those by keywords
    # alone (dense 0) and the Swedish article, compared through its English version, loses the
    # lift and the dense score it had by its own language's weights.
    question = "jag har glömt mitt lösenord"
    by_language = RankingConfig(abstain=None, relative_margins=SHOW_ALL,
                                weights={k: v for k, v in RankingConfig().weights.items()
                                         if not k.startswith("in_english")})
    keywords_only = replace(by_language, weights={**by_language.weights,
                                                  "in_english_sv": Weights(0.0, 1.0, 0.0)})
    lifted = engine_with(index, dictionaries, by_language).search(question, lang="sv",
                                                                  trust_lang=True, limit=5)
    scaled = engine_with(index, dictionaries, keywords_only).search(question, lang="sv",
                                                                   trust_lang=True, limit=5)
    swedish = next(r for r in lifted.results if r.id == "sv/reset-password")
    assert swedish.score > 1.0  # the lift of 1 and its language's weights
    assert "sv/reset-password" in {r.id for r in scaled.results}
    assert all(r.score <= 1.0 for r in scaled.results)  # normalized BM25 alone: at most 1


def misreading_engine(index: SearchIndex, embedder: FakeEmbedder,
                      as_typed_dense: float) -> SearchEngine:
    """An engine whose dictionary has the wrong senses: the translation points «glömt lösenord»
    at the shipping article, where nothing is close enough in English to show; the question as
    typed is judged by a dense cut of `as_typed_dense`."""
    misleading = Lexicon()
    misleading.add("sv", [("glömt", "shipping", 1.0), ("glömma", "shipping", 1.0),
                          ("lösenord", "times", 1.0)])
    config = RankingConfig(
        abstain={"translated_sv": AbstainRule(min_dense=0.99, min_chargram=1.1),
                 "sv": AbstainRule(min_dense=as_typed_dense, min_chargram=1.1),
                 "default": AbstainRule(min_dense=0.99, min_chargram=1.1)},
        translation_band={"sv": (0.0, 0.0)})  # always compare through the translation first
    return SearchEngine(index, embedder, LANGUAGES, config,
                        translator_for(index, misleading, learned=False))


def test_a_question_the_translation_misreads_is_answered_as_typed(index: SearchIndex) -> None:
    # The Swedish article answers the question as the customer typed it, so the engine embeds
    # it a second time rather than show nothing.
    embedder = FakeEmbedder()
    engine = misreading_engine(index, embedder, as_typed_dense=0.3)
    response = engine.search("glömt lösenord", lang="sv", trust_lang=True)
    assert [r.id for r in response.results][:1] == ["sv/reset-password"]
    assert not response.abstained
    assert embedder.calls == [1, 1]  # the translation, then the question as typed
    # A question nothing answers in either reading still gets no suggestion.
    embedder.calls.clear()
    nothing = engine.search("glömt vädret", lang="sv", trust_lang=True)
    assert nothing.abstained and nothing.results == []


def test_nothing_suggested_after_both_looks_says_why_for_each(index: SearchIndex) -> None:
    # Not close enough as typed either: the explanation gives the reason of each look, not only
    # the last one's.
    engine = misreading_engine(index, FakeEmbedder(), as_typed_dense=0.98)
    response = engine.search("glömt lösenord", lang="sv", trust_lang=True)
    assert response.abstained
    assert response.explanation.startswith("compared through its English translation, ")
    assert "; compared as typed, " in response.explanation
    assert response.explanation.count("neither close in meaning (dense") == 2
    assert "< 0.99" in response.explanation and "< 0.98" in response.explanation


def test_learned_lexicon_alone_translates_the_help_centers_own_words(index: SearchIndex) -> None:
    # Without imported dictionaries the translator learns from the translated pairs: lösenord
    # and password share the titles and lines of the reset-password article.
    translator = translator_for(index, None)
    assert translator is not None
    assert "password" in translator.translate("lösenord", "sv").terms
    assert translator_for(index, None, learned=False) is None  # nothing else to translate with


def test_english_and_untranslatable_questions_are_not_translated(
        index: SearchIndex, dictionaries: Lexicon) -> None:
    engine = engine_with(index, dictionaries)
    assert engine.query.translate("print a receipt", "en", True) is None
    assert engine.query.translate("распечатать чек", "ru", True) is None  # no Russian lexicon
    translated = engine.query.translate("skriva ut kvittot", "sv", True)
    assert translated is not None and translated.text == "print receipt"


# --- kb dict import / lookup ---------------------------------------------------------------------

def test_dict_import_writes_one_lexicon_per_language_and_kind(runner: CliRunner,
                                                              tmp_path: Path) -> None:
    sources = tmp_path / "downloads"
    write_wiktionary_text(sources)
    write_dsl(sources)
    result = runner.invoke(main, ["dict", "import", str(sources), "--lexicon-dir",
                                  str(tmp_path / "lexicons")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "lexicons").iterdir())
    assert written == ["ru-en.wiktionary.tsv", "sv-en.wiktionary.tsv"]
    assert "ru-en.wiktionary.tsv: 4 pairs" in result.output
    assert "пароль\tpassword\t1" in (tmp_path / "lexicons" / "ru-en.wiktionary.tsv").read_text(
        encoding="utf-8")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("en-sv-enwiktionary.txt", "get {v} få\n".encode(),
     "en-sv-enwiktionary.txt:1: not a Wiktionary"),
    ("en-ru-enwiktionary.dsl.dz", b"plain text", "not a readable dictzip/gzip file"),
    ("en-ru-enwiktionary.dsl.dz", gzip.compress(b"just some text\n"), "no DSL entries found"),
    ("wn-wikt-swe.tab", "00001-n\tlösenord\n".encode(), "wn-wikt-swe.tab:1: expected 'synset"),
], ids=["txt", "dsl-not-gzip", "dsl-not-dsl", "tab"])
def test_dict_import_of_a_broken_file_fails_clearly(runner: CliRunner, tmp_path: Path, name: str,
                                                    content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    result = runner.invoke(main, ["dict", "import", str(tmp_path / name), "--lexicon-dir",
                                  str(tmp_path / "lexicons")])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert f"Error: {tmp_path / name}" in result.output and message in result.output
    assert not (tmp_path / "lexicons").exists()  # nothing half-written


def test_dict_lookup_shows_the_translation_word_by_word(runner: CliRunner, tmp_path: Path,
                                                        fake_model: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    articles = tmp_path / "articles"
    for lang, slug, title, body in ARTICLES:
        (articles / lang).mkdir(parents=True, exist_ok=True)
        (articles / lang / f"{slug}.md").write_text(
            f"---\ntitle: {title}\nsummary: {title}.\n---\n\n{body}\n", encoding="utf-8")
    write_wiktionary_text(tmp_path / "downloads")
    monkeypatch.setenv("KB_MODEL", fake_model)
    monkeypatch.setenv("KB_ARTICLES_DIR", str(articles))
    assert runner.invoke(main, ["dict", "import", str(tmp_path / "downloads")]).exit_code == 0
    indexed = runner.invoke(main, ["index"])
    assert indexed.exit_code == 0, indexed.output
    result = runner.invoke(main, ["dict", "lookup", "skriver ut kvittot", "--lang", "sv"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["skriver", "ut", "->", "print"]
    assert lines[1].split() == ["kvittot", "->", "receipt"]
    assert lines[-1] == "reading: print receipt"


def test_dict_lookup_without_an_index_fails_clearly(runner: CliRunner, fake_model: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_MODEL", fake_model)
    result = runner.invoke(main, ["dict", "lookup", "lösenord", "--lang", "sv"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "no search index" in result.output and "kb index" in result.output


def test_english_snippet_highlights_the_translated_words(index: SearchIndex,
                                                          dictionaries: Lexicon) -> None:
    response = engine_with(index, dictionaries).search("skriva ut kvittot", lang="sv",
                                                      trust_lang=True)
    top = response.results[0]
    assert top.id == "en/print-receipt"
    assert "<mark>receipt</mark>" in top.snippet


def test_kb_index_says_what_it_derived_from_the_help_center(runner: CliRunner, tmp_path: Path,
                                                            fake_model: str,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    articles = tmp_path / "articles"
    for lang, slug, title, body in ARTICLES:
        (articles / lang).mkdir(parents=True, exist_ok=True)
        (articles / lang / f"{slug}.md").write_text(
            f"---\ntitle: {title}\nsummary: {title}.\n---\n\n{body}\n", encoding="utf-8")
    monkeypatch.setenv("KB_MODEL", fake_model)
    monkeypatch.setenv("KB_ARTICLES_DIR", str(articles))
    lexicons = tmp_path / "lexicons"
    monkeypatch.setenv("KB_LEXICON_DIR", str(lexicons))

    indexed = runner.invoke(main, ["index"])
    assert indexed.exit_code == 0, indexed.output
    lines = [line.strip() for line in indexed.output.splitlines()]
    derived = lines[lines.index("calibrated from the help center itself:") + 1:]
    assert derived[0].startswith("its vocabulary") and "en " in derived[0] and "sv " in derived[0]
    assert derived[1].startswith("word pairs learned from its translated articles: sv→en ")
    assert derived[2].startswith("sv questions: no dictionary imported")
    # A model whose decision was never chosen for it is said so: here, the fake model.
    assert derived[3].startswith(f"when no article answers: {fake_model} has no cuts of its own")

    # A dictionary, not a handful of words (search/lexicon.py MIN_DICTIONARY_ENTRIES), changes
    # how Swedish questions are read and judged.
    lexicons.mkdir()
    (lexicons / "sv-en.big.tsv").write_text(
        "".join(f"ord{n}\tword{n}\t1\n" for n in range(1200)), encoding="utf-8")
    again = runner.invoke(main, ["index"])
    assert again.exit_code == 0, again.output
    assert "sv questions: read with the imported dictionaries" in again.output
    assert "no dictionary imported" not in again.output


def test_the_second_look_as_typed_can_be_asked_for_alone(index: SearchIndex,
                                                         dictionaries: Lexicon) -> None:
    engine = engine_with(index, dictionaries, RankingConfig())
    # A Swedish question is compared through its translation first; where Swedish articles are
    # candidates, the engine's second look compares it as typed, judged by the Swedish rule.
    first = engine.search("glömt lösenordet", lang="sv", trust_lang=True)
    second = engine.search("glömt lösenordet", lang="sv", trust_lang=True, second_look=True)
    assert first.rule == "translated_sv"
    assert second.rule == "sv" and second.results
    # An English question is never looked at twice.
    none = engine.search("forgot password", lang="en", trust_lang=True, second_look=True)
    assert none.results == [] and none.abstained


def test_a_question_of_words_no_article_uses_is_not_looked_at_again(index: SearchIndex) -> None:
    # Neither word, nor its English sense, is in any article: the question as typed has the same
    # words, so it is not embedded a second time, and the reason is given once.
    lexicon = Lexicon()
    lexicon.add("sv", [("väder", "weather", 1.0), ("maraton", "marathon", 1.0)])
    config = RankingConfig(abstain={"default": AbstainRule(min_dense=-1.0, min_chargram=0.0)},
                           translation_band={"sv": (0.0, 0.0)})
    embedder = FakeEmbedder()
    engine = SearchEngine(index, embedder, LANGUAGES, config,
                          translator_for(index, lexicon, learned=False))
    response = engine.search("väder maraton", lang="sv", trust_lang=True)
    assert embedder.calls == [1]  # the translation only
    assert response.abstained
    assert response.explanation.startswith("the help center uses none of the words")
    assert response.explanation.count("uses none of the words") == 1


class SwedishLeaning(FakeEmbedder):
    """Like a real multilingual model, finds any two Swedish texts somewhat alike, whatever
    they are about."""

    SWEDISH = {"jag", "mitt", "ditt", "hur", "på", "för", "att", "och", "med"}

    def _vector(self, text: str) -> np.ndarray:
        vector = super()._vector(text)
        if self.SWEDISH & set(text.lower().split()):
            vector[15] += 2.0  # a dimension no concept or hashed word uses
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector


def test_a_multilingual_model_weighs_every_article_through_its_english_version() -> None:
    embedder = SwedishLeaning()
    documents = [document_from_record({"id": f"{lang}/{slug}", "lang": lang, "group": slug,
                                       "title": title, "body": body})
                 for lang, slug, title, body in [
        ("en", "sign-in", "Sign in", "Sign in to your account with your password."),
        ("sv", "sign-in", "Logga in", "Logga in på ditt konto med ditt lösenord."),
        ("en", "refunds", "Refunds", "Ask for a refund within 30 days."),
        ("sv", "refunds", "Återbetalning", "Be om återbetalning inom 30 dagar och för alla köp."),
        # English only.
        ("en", "linux", "Install on Linux", "Open a terminal and run the install command."),
    ]]
    question = "hur installerar jag på linux"
    # The model reads the question as typed and finds an unrelated Swedish article closer than
    # the English-only answer, by their language alone.
    vectors = dict(zip((d.id for d in documents),
                       embedder.encode_documents([d.embed_text for d in documents])))
    asked = embedder.encode_queries([question])[0]
    assert asked @ vectors["sv/sign-in"] > asked @ vectors["en/linux"]
    # Compared through their English versions, the Swedish articles lose that lean, and every
    # article is weighed on one scale: the English-only answer comes first.
    index = SearchIndex.build(documents, embedder)
    engine = SearchEngine(index, embedder, LANGUAGES,
                          RankingConfig(abstain=None, relative_margins=SHOW_ALL, **AS_TYPED),
                          translator_for(index, None))
    response = engine.search(question, lang="sv", trust_lang=True, limit=5)
    dense = {r.id: r.signals["dense"] for r in response.results}
    assert dense["sv/sign-in"] < dense["en/linux"]
    assert response.results[0].id == "en/linux"
    assert response.rule == "translated_sv"  # judged as compared in English


def test_only_the_english_only_model_takes_a_second_look_as_typed(
        index: SearchIndex, dictionaries: Lexicon) -> None:
    # The offline model read the question through its word-by-word translation, which can miss
    # the point; a multilingual model has read it as typed already.
    question = "jag har glömt mitt lösenord"
    offline = engine_with(index, dictionaries, replace(STRICT, abstain=None))
    again = offline.search(question, lang="sv", trust_lang=True, second_look=True)
    assert again.results and again.results[0].id == "sv/reset-password"
    multilingual = engine_with(index, dictionaries, replace(STRICT, abstain=None, **AS_TYPED))
    assert multilingual.search(question, lang="sv", trust_lang=True).results
    none = multilingual.search(question, lang="sv", trust_lang=True, second_look=True)
    assert not none.results and none.explanation == "no second look as typed"
