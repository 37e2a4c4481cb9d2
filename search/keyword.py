"""Keyword search for one language: BM25 over Snowball stems, plus character n-grams for typos."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from search.text import normalize, stem_tokens

logging.getLogger("bm25s").setLevel(logging.WARNING)


class KeywordIndex:
    """Scores every document of one language for a query: BM25 and character n-gram cosine."""

    def __init__(self, texts: Sequence[str], lang: str, k1: float = 1.2, b: float = 0.75):
        self.lang = lang
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        corpus = [stem_tokens(t, lang) or ["\u2205"] for t in texts]
        self._bm25.index(corpus, show_progress=False)
        # Character 3-5-grams inside word boundaries match misspelled and inflected words.
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                      preprocessor=normalize, min_df=1)
        # Column-compressed, so a query touches only the columns of its own n-grams.
        self._char_matrix = self._chars.fit_transform(texts).tocsc() if texts else None

    def known_share(self, text: str) -> float:
        """Share of the text's words (stems) that occur in this language's articles."""
        stems = stem_tokens(text, self.lang, drop_stopwords=False)
        if not stems:
            return 0.0
        vocabulary = self._bm25.vocab_dict
        return sum(1 for s in stems if s in vocabulary) / len(stems)

    def bm25(self, query: str) -> np.ndarray:
        """BM25 score of every document (0 where no stem is shared)."""
        tokens = stem_tokens(query, self.lang)
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def chargram(self, query: str) -> np.ndarray:
        """Cosine similarity of character n-gram TF-IDF vectors, in [0, 1]."""
        if self._char_matrix is None:
            return np.zeros(self.size, dtype=np.float32)
        vector = self._chars.transform([query])
        columns, weights = vector.indices, vector.data
        if columns.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        scores = self._char_matrix[:, columns] @ weights
        return np.asarray(scores, dtype=np.float32).ravel()
