"""Saving, loading, swapping the index; refusing the wrong model; reusing cached embeddings."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import main

from search.collection import load_articles
from search.document import Document, document_from_article
from search.embedding_cache import CachedEmbedder, EmbeddingCache
from search.index import (MANIFEST, IndexMismatchError, SearchIndex, UnusableIndexError,
                          publish_index)
from search.vector_index import FLAT, HNSW, VectorIndex
from tests.support.articles import SAMPLE_ARTICLES, WriteArticle
from tests.support.fakes import FakeEmbedder


@pytest.fixture
def documents(articles_dir: Path, write_article: WriteArticle) -> list[Document]:
    write_article("en", "reset-password")
    write_article("en", "refunds", title="Refunds", summary="Money back within 14 days.",
                  body="## How\n\nAsk for a refund.\n\n## When\n\nWithin 14 days.\n")
    write_article("sv", "refunds", title="Återbetalning", summary="Pengarna tillbaka.")
    return [document_from_article(a) for a in load_articles(articles_dir, ("en", "sv")).articles]


def test_manifest_describes_the_build(tmp_path: Path, documents: list[Document]) -> None:
    index = SearchIndex.build(documents, FakeEmbedder())
    target = publish_index(index, tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text())
    assert manifest["model"] == "fake-multilingual"
    assert manifest["dimension"] == 64
    assert manifest["index_kind"] == {"chunks": FLAT, "articles": FLAT}
    assert manifest["articles"] == {d.id: d.hash for d in documents}
    assert set(manifest["articles"]) == {"en/reset-password", "en/refunds", "sv/refunds"}
    assert manifest["counts"] == {"en": 2, "sv": 1}
    assert "faiss-cpu" in manifest["versions"] and manifest["built_at"]
    assert (tmp_path / "index").resolve() == target.resolve()


def test_saved_index_loads_and_scores_the_same(tmp_path: Path, documents: list[Document]) -> None:
    embedder = FakeEmbedder()
    index = SearchIndex.build(documents, embedder)
    publish_index(index, tmp_path / "index")
    loaded = SearchIndex.load(tmp_path / "index", "fake-multilingual")
    query = embedder.encode_queries(["refund"])[0]
    assert [d.id for d in loaded.documents] == [d.id for d in index.documents]
    assert loaded.chunk_vectors.scores(query).tolist() == index.chunk_vectors.scores(query).tolist()


def test_index_from_another_model_is_refused(tmp_path: Path, documents: list[Document]) -> None:
    publish_index(SearchIndex.build(documents, FakeEmbedder("model-a")), tmp_path / "index")
    with pytest.raises(IndexMismatchError, match="built with the model 'model-a'.*kb index"):
        SearchIndex.load(tmp_path / "index", "model-b")
    # The same model run quantized has other vectors: the message names the runtime setting too.
    with pytest.raises(IndexMismatchError, match=r"KB_MODEL_RUNTIME.*'model-a \(int8-v1\)'"):
        SearchIndex.load(tmp_path / "index", "model-a (int8-v1)")


def test_missing_or_damaged_index_gives_a_clear_error(tmp_path: Path,
                                                      documents: list[Document]) -> None:
    with pytest.raises(UnusableIndexError, match="no search index.*kb index"):
        SearchIndex.load(tmp_path / "nothing", None)
    target = publish_index(SearchIndex.build(documents, FakeEmbedder()), tmp_path / "index")
    (target / "chunk_vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(UnusableIndexError, match="damaged"):
        SearchIndex.load(tmp_path / "index", None)


def test_hnsw_above_the_threshold(documents: list[Document]) -> None:
    index = SearchIndex.build(documents, FakeEmbedder(), hnsw_threshold=2)
    assert index.chunk_vectors.kind == HNSW
    assert index.manifest["index_kind"]["chunks"] == HNSW
    query = FakeEmbedder().encode_queries(["refund"])[0]
    assert index.chunk_vectors.scores(query).max() > 0.5


def test_swap_is_atomic_for_readers(tmp_path: Path, documents: list[Document]) -> None:
    link = tmp_path / "index"
    publish_index(SearchIndex.build(documents, FakeEmbedder()), link)
    failures: list[Exception] = []
    stop = threading.Event()

    def read_continuously() -> None:
        while not stop.is_set():
            try:
                SearchIndex.load(link, "fake-multilingual")
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                failures.append(exc)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for _ in range(15):
            publish_index(SearchIndex.build(documents, FakeEmbedder()), link)
    finally:
        stop.set()
        reader.join()
    assert failures == []
    # Old builds are pruned, the served one is kept.
    assert len(list((tmp_path / "index-builds").iterdir())) <= 2


def test_reindex_embeds_only_changed_chunks(tmp_path: Path, articles_dir: Path,
                                            write_article: WriteArticle,
                                            documents: list[Document]) -> None:
    fake = FakeEmbedder()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = CachedEmbedder(fake, cache)
    SearchIndex.build(documents, first)
    assert first.stats.reused == 0 and first.stats.embedded > 0
    # A writer edits one section of one article.
    write_article("en", "refunds", title="Refunds", summary="Money back within 14 days.",
                  body="## How\n\nAsk for a refund by email.\n\n## When\n\nWithin 14 days.\n")
    edited = [document_from_article(a) for a in load_articles(articles_dir, ("en", "sv")).articles]
    second = CachedEmbedder(fake, cache)
    SearchIndex.build(edited, second)
    # The changed chunk and its article vector are new; everything else comes from the cache.
    assert second.stats.embedded == 2
    assert second.stats.reused == first.stats.embedded - 2


def test_empty_articles_folder_is_never_published(tmp_path: Path, fake_model: str) -> None:
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    (tmp_path / "articles" / "en").mkdir(parents=True)
    settings = load_settings(environ={}, overrides={"INSTANCE_PATH": str(tmp_path / "i"),
                                                    "MODEL": fake_model,
                                                    "ARTICLES_DIR": str(tmp_path / "articles")})
    with pytest.raises(UnusableIndexError, match="no published articles"):
        build_and_publish(settings)
    assert not Path(settings["INDEX_DIR"]).exists()


def test_flat_scores_are_what_a_faiss_search_returns() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 48)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(48)
    index.add(vectors)
    for query in vectors[:20] * 0.7 + vectors[20:40] * 0.3:
        found, ids = index.search(query, len(index))
        expected = np.empty(len(index), dtype=np.float32)
        expected[ids] = found
        assert np.array_equal(index.scores(query), expected)


def test_kb_index_says_what_it_embeds_and_shows_progress(
        runner: CliRunner, fake_model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KB_MODEL", fake_model)
    monkeypatch.setenv("KB_ARTICLES_DIR", str(SAMPLE_ARTICLES))
    result = runner.invoke(main, ["index"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"loading the model {fake_model}"
    documents = SearchIndex.load(Path(os.environ["KB_INSTANCE_PATH"]) / "index").documents
    texts = len(documents) + sum(len(d.chunks) for d in documents)
    assert lines[1].startswith(f"embedding {texts} texts ({len(documents)} articles")
    assert f"embedded {texts}/{texts} texts in " in result.output  # progress, in a log too
    assert "publishing the new index" in result.output


def test_hnsw_scores_what_it_did_not_retrieve_as_its_farthest_retrieved() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    approximate = VectorIndex(16, HNSW)
    approximate.add(vectors)
    scores = approximate.scores(vectors[0], k=20)
    retrieved = np.sort(scores)[-20:]
    # The nearest are scored exactly; the others get the farthest retrieved score, an upper
    # bound, not -1, which would sink an article that its keywords found.
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert (scores >= retrieved.min() - 1e-6).all()
    assert np.isclose(scores, retrieved.min()).sum() >= 400 - 20
