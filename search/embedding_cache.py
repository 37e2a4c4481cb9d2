"""On-disk embedding cache keyed by model and text hash, so re-indexing embeds only what changed."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.embedder import Embedder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """What one `encode_documents` call took from the cache and what it had to embed."""

    reused: int = 0
    embedded: int = 0


class EmbeddingCache:
    """A SQLite file of (model, text hash) -> float32 vector; safe to share between processes."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS embedding (model TEXT NOT NULL, "
                         "key TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key))")
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def get_many(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            batch = unique[start:start + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, vector FROM embedding WHERE model = ? AND key IN ({marks})",
                [model, *batch])
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO embedding (model, key, vector) VALUES (?, ?, ?)",
            [(model, key, np.asarray(vec, dtype=np.float32).tobytes()) for key, vec in items.items()])
        self._db.commit()


class CachedEmbedder:
    """Wraps an Embedder so documents already embedded with the same model come from the cache."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache):
        self.inner = embedder
        self.cache = cache
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.stats = CacheStats()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        found = self.cache.get_many(self.name, keys)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts)}
            vectors = self.inner.encode_documents([by_key[k] for k in missing])
            fresh = dict(zip(missing, vectors))
            self.cache.put_many(self.name, fresh)
            found.update(fresh)
        self.stats.reused += len(texts) - len(missing)
        self.stats.embedded += len(missing)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)
