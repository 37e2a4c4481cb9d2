"""The dense index's best chunk per article, against a plain loop over every chunk."""

from __future__ import annotations

import numpy as np
import pytest

from search.dense_index import DenseIndex
from search.vector_index import FLAT, HNSW, VectorIndex


def unit_rows(rng: np.random.Generator, count: int) -> np.ndarray:
    rows = rng.standard_normal((count, 16)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def best_chunk_by_loop(chunk_scores: np.ndarray, owner: np.ndarray, articles: int) -> np.ndarray:
    best = np.full(articles, -1.0, dtype=np.float32)
    for row, article in enumerate(owner.tolist()):
        best[article] = max(best[article], chunk_scores[row])
    return best


@pytest.mark.parametrize("kind", [FLAT, HNSW])
@pytest.mark.parametrize("langs", [None, ["en"], ["sv"]])
def test_best_chunk_is_the_highest_of_each_articles_chunks(kind: str, langs: list[str] | None
                                                           ) -> None:
    rng = np.random.default_rng(7)
    # 400 articles, English then Swedish; article 5 has no chunk, the others one to five.
    counts = rng.integers(1, 6, size=400)
    counts[5] = 0
    owner = np.repeat(np.arange(400), counts)
    doc_langs = np.array(["en"] * 200 + ["sv"] * 200)
    chunks, articles = VectorIndex(16, kind), VectorIndex(16, FLAT)
    chunks.add(unit_rows(rng, owner.size))
    articles.add(unit_rows(rng, 400))
    dense = DenseIndex(articles, chunks, owner, doc_langs)
    for query in unit_rows(rng, 5):
        signals = dense.signals(query, langs)
        expected = best_chunk_by_loop(signals.chunk_scores, owner, 400)
        assert np.array_equal(signals.chunk, expected)
        assert signals.chunk[5] == -1.0
        if kind == HNSW:
            # Most chunks were not among those HNSW found: they share the lowest score.
            assert (signals.chunk_scores == signals.chunk_scores.min()).mean() > 0.5
