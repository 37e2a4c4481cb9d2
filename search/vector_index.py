"""Inner-product vector search with FAISS: exact for small knowledge bases, HNSW above a threshold."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

FLAT = "flat"
HNSW = "hnsw"


class VectorIndex:
    """Normalized vectors in a FAISS index; `scores` gives a score for every vector."""

    def __init__(self, dimension: int, kind: str = FLAT, hnsw_neighbors: int = 32):
        self.dimension = dimension
        self.kind = kind
        if kind == FLAT:
            self._index: faiss.Index = faiss.IndexFlatIP(dimension)
        elif kind == HNSW:
            self._index = faiss.IndexHNSWFlat(dimension, hnsw_neighbors, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efSearch = 128
        else:
            raise ValueError(f"unknown index kind {kind!r}; use {FLAT!r} or {HNSW!r}")

    @classmethod
    def for_size(cls, dimension: int, size: int, hnsw_threshold: int) -> VectorIndex:
        """Exact search below `hnsw_threshold` vectors, approximate (HNSW) from there on."""
        return cls(dimension, HNSW if size >= hnsw_threshold else FLAT)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, positions) for one query vector."""
        k = min(k, len(self))
        if k == 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores, ids = self._index.search(np.ascontiguousarray(query[None, :], dtype=np.float32), k)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def scores(self, query: np.ndarray, k: int = 256, floor: float = -1.0) -> np.ndarray:
        """A score per stored vector: exact for flat indexes. HNSW scores the `k` nearest it
        finds; every other vector is treated as at most as close as the farthest of those and
        gets that score (not `floor`, which would rank an article found by its keywords below
        every unrelated one)."""
        if self.kind == FLAT:
            return self._all_inner_products(query)
        scores, ids = self.search(query, k)
        out = np.full(len(self), float(scores.min()) if len(scores) else floor, dtype=np.float32)
        out[ids] = scores
        return out

    def _all_inner_products(self, query: np.ndarray) -> np.ndarray:
        # The kernel FAISS's flat search runs for a single query, so the values are the same as
        # `search` gives, without sorting every stored vector (most of a flat search's time).
        # It runs on the calling thread: FAISS's per-position variant opens an OpenMP region
        # whose idle thread keeps spinning on a core the model then needs.
        out = np.empty(len(self), dtype=np.float32)
        if len(out):
            query = np.ascontiguousarray(query, dtype=np.float32)
            faiss.fvec_inner_products_ny(faiss.swig_ptr(out), faiss.swig_ptr(query),
                                         self._index.get_xb(), self.dimension, len(out))
        return out

    def scores_in(self, query: np.ndarray, rows: Sequence[tuple[int, int]],
                  floor: float = -1.0) -> np.ndarray:
        """Like `scores`, but a flat index scores only the vectors in the given (start, end)
        ranges; the rest get `floor`. Scoring reads every stored vector it scores (memory, not
        arithmetic, is what it waits for), so a question served from one language of three
        saves two thirds of it."""
        if self.kind != FLAT:
            return self.scores(query, floor=floor)
        out = np.full(len(self), floor, dtype=np.float32)
        query = np.ascontiguousarray(query, dtype=np.float32)
        # A view of FAISS's own storage, taken now: adding vectors may move it.
        stored = faiss.rev_swig_ptr(self._index.get_xb(), len(self) * self.dimension)
        for start, end in rows:
            if end > start:
                faiss.fvec_inner_products_ny(
                    faiss.swig_ptr(out[start:end]), faiss.swig_ptr(query),
                    faiss.swig_ptr(stored[start * self.dimension:end * self.dimension]),
                    self.dimension, end - start)
        return out

    def vectors(self, positions: np.ndarray) -> np.ndarray:
        """The stored vectors at these positions."""
        return np.stack([self._index.reconstruct(int(p)) for p in positions]) if len(positions) \
            else np.zeros((0, self.dimension), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> VectorIndex:
        index = cls.__new__(cls)
        index._index = faiss.read_index(str(path))
        index.dimension = int(index._index.d)
        index.kind = kind
        if kind == HNSW:
            faiss.downcast_index(index._index).hnsw.efSearch = 128
        return index
