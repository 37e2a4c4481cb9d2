"""Plain BM25: the floor every evaluation task is compared with.

The dev sets' READMEs define it: lower-cased `\\w+` tokens, no stemming, no stopwords, Lucene's
BM25 (k1 = 1.2, b = 0.75) with statistics over the pool searched, and only articles scoring above
zero are suggested (so it abstains only when no word is shared). `kb eval` prints it next to the
engine on the same pool, so a task where the engine falls below it shows at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np

from search.document import Document
from search.fusion import best_first

_WORD = re.compile(r"\w+")


def plain_tokens(text: str) -> list[str]:
    """Lower-cased word tokens, exactly as the baseline reads text."""
    return _WORD.findall(text.lower())


class PlainBM25:
    """BM25 over one pool of documents, ranking by the baseline's rules."""

    def __init__(self, documents: Sequence[Document]):
        self.ids = [d.id for d in documents]
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
        corpus = [plain_tokens(f"{d.title} {d.text}") or ["\u2205"] for d in documents]
        self._bm25.index(corpus, show_progress=False)

    def rank(self, query: str, limit: int = 10) -> list[str]:
        """The ids of the best-scoring documents (score above zero), best first."""
        tokens = [t for t in plain_tokens(query) if t in self._bm25.vocab_dict]
        if not tokens or not self.ids:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float64)
        order = best_first(scores, limit)
        return [self.ids[i] for i in order if scores[i] > 0]
