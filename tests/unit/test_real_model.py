"""The real offline model on the sample help center: what a writer sees with `kb search`."""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import main
from search.embedder import (OFFLINE_MODEL, ModelLoadError, SentenceTransformerEmbedder,
                             _prompts_for, load_embedder)
from tests.support.articles import SAMPLE_ARTICLES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The bundled model, loaded once for the whole session."""
    from kb.searcher import use_model

    embedder = SentenceTransformerEmbedder(OFFLINE_MODEL)
    use_model(OFFLINE_MODEL, embedder)
    return embedder


def test_offline_model_gives_normalized_vectors(real_embedder: SentenceTransformerEmbedder) -> None:
    vectors = real_embedder.encode_documents(["reset your password", "refund my payment"])
    assert vectors.shape == (2, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4
    query = real_embedder.encode_queries(["I forgot my password"])[0]
    assert query @ vectors[0] > query @ vectors[1]


def test_a_single_query_gets_the_vector_model_encode_gives(
        real_embedder: SentenceTransformerEmbedder) -> None:
    # One question skips model.encode()'s per-call set-up; the vector must not change by a bit.
    # (The bundled model has no query or passage prompt, so documents go through encode().)
    for text in ["I forgot my password", "jag har glömt mitt lösenord", "не могу войти", "x"]:
        query = real_embedder.encode_queries([text])
        assert query.shape == (1, 384) and query.dtype == np.float32
        assert np.array_equal(query, real_embedder.encode_documents([text]))


def test_concurrent_searches_take_turns_on_the_model(
        real_embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch) -> None:
    # A threaded worker runs several searches at once; their forward passes must not overlap.
    model = real_embedder._model
    running, most = [0], [0]
    guard = threading.Lock()
    forward = type(model).forward

    def counting_forward(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.02)  # long enough for the other threads to arrive
            return forward(self, *args, **kwargs)
        finally:
            with guard:
                running[0] -= 1

    monkeypatch.setattr(type(model), "forward", counting_forward)
    texts = [f"question number {n}" for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        vectors = list(pool.map(lambda t: real_embedder.encode_queries([t])[0], texts))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(real_embedder.encode_documents, [texts[:3], texts[3:]]))
    assert most[0] == 1
    assert np.allclose(vectors[2], real_embedder.encode_queries([texts[2]])[0], atol=1e-5)


def test_unloadable_model_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="KB_MODEL"):
        load_embedder(str(tmp_path / "no-such-model"), fallback=False)


def test_unloadable_model_falls_back_loudly(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            real_embedder: SentenceTransformerEmbedder) -> None:
    with caplog.at_level(logging.WARNING):
        embedder = load_embedder("intfloat/multilingual-e5-small-not-cached", fallback=True)
    assert embedder.name == OFFLINE_MODEL
    assert "FALLING BACK" in caplog.text


def test_e5_models_get_query_and_passage_prompts() -> None:
    assert _prompts_for("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert _prompts_for("sentence-transformers/all-MiniLM-L6-v2") == ("", "")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory,
            real_embedder: SentenceTransformerEmbedder) -> dict[str, str]:
    instance = tmp_path_factory.mktemp("instance")
    env = {"KB_INSTANCE_PATH": str(instance), "KB_ARTICLES_DIR": str(SAMPLE_ARTICLES)}
    result = CliRunner().invoke(main, ["index"], env=env)
    assert result.exit_code == 0, result.output
    assert "indexed 63 published articles" in result.output
    again = CliRunner().invoke(main, ["index"], env=env)
    assert "embedded 0 texts" in again.output  # nothing changed, everything from the cache
    return env


@pytest.mark.parametrize(("question", "lang", "slug"), [
    ("jag har glömt mitt lösenord", "sv", "reset-password"),
    ("hur får jag pengarna tillbaka", "sv", "cancel-and-refund"),
    ("kan inte öppna filen jag laddade ner", "sv", "open-downloaded-files"),
    ("не могу войти в аккаунт", "ru", "sign-in-problems"),
    ("как удалить аккаунт навсегда", "ru", "delete-account"),
    ("карта не проходит оплата", "ru", "payment-failed"),
    ("when will support answer me", "en", "contact-support"),
])
def test_kb_search_answers_newbie_questions(indexed: dict[str, str], question: str, lang: str,
                                            slug: str) -> None:
    result = CliRunner().invoke(main, ["search", question, "--json"], env=indexed)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["lang"] == lang
    top3 = [(r["lang"], r["slug"]) for r in data["results"][:3]]
    assert (lang, slug) in top3, top3


def test_kb_search_without_index_says_how_to_build_one(tmp_path: Path,
                                                      real_embedder: SentenceTransformerEmbedder
                                                      ) -> None:
    result = CliRunner().invoke(main, ["search", "password"],
                                env={"KB_INSTANCE_PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "kb index" in result.output


def test_kb_search_explain_says_why_and_how_a_russian_question_was_read(
        indexed: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["search", "как перенести файлы из гугл диска", "--explain"],
                                env=indexed)
    assert result.exit_code == 0, result.output
    assert "why: " in result.output
    # «гугл» is in no dictionary here: it is read as the articles' own "Google" (a loanword).
    reading = next(line for line in result.output.splitlines()
                   if line.startswith("read in English as: "))
    assert "гугл -> google" in reading.lower()
    english = CliRunner().invoke(main, ["search", "how do I reset my password", "--explain"],
                                 env=indexed)
    assert "read in English as" not in english.output


def test_kb_search_explain_names_what_the_help_center_never_mentions(
        indexed: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["search", "how do I cancel my gym membership",
                                       "--explain", "--json"], env=indexed)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert {"gym", "membership"} <= set(answer["unknown_words"]) and answer["familiar_share"] < 0.6
    own_words = CliRunner().invoke(main, ["search", "how do I cancel my subscription",
                                          "--explain"], env=indexed)
    assert "words no article uses" not in own_words.output
