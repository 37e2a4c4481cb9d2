"""Test doubles for the model: fast, deterministic, and able to fail a test."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

# Words of one concept share a dimension across languages, as a multilingual model would place
# translations close together. Keys are word prefixes, so inflected forms match too.
CONCEPTS: dict[str, int] = {
    "password": 0, "lösenord": 0, "парол": 0,
    "forgot": 1, "glömt": 1, "забыл": 1,
    "refund": 2, "återbetal": 2, "pengar": 2, "возврат": 2, "деньг": 2,
    "install": 3, "installera": 3, "установ": 3,
    "linux": 4, "terminal": 5, "терминал": 5, "command": 5, "kommando": 5, "команд": 5,
    "sign": 6, "logga": 6, "войти": 6, "вход": 6,
    "team": 7, "колле": 7, "kolleg": 7,
}
DIMENSION = 64
_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Bag-of-concepts vectors; unknown words hash into the remaining dimensions."""

    def __init__(self, name: str = "fake-multilingual"):
        self.name = name
        self.dimension = DIMENSION
        self.calls: list[int] = []

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(DIMENSION, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            dim = next((d for key, d in CONCEPTS.items() if word.startswith(key)), None)
            if dim is None:
                dim = 16 + int(hashlib.md5(word.encode()).hexdigest(), 16) % (DIMENSION - 16)
                vector[dim] += 0.3
            else:
                vector[dim] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_documents(texts)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])
