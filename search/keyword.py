"""Keyword search for one language: BM25 over Snowball stems, plus character n-grams for typos."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import bm25s
import numpy as np
from scipy.sparse._sparsetools import csc_matvec  # the kernel of scipy's CSC product
from sklearn.feature_extraction.text import TfidfVectorizer

from search.text import normalize, stem_tokens, stopwords

logging.getLogger("bm25s").setLevel(logging.WARNING)


def char_vectorizer() -> TfidfVectorizer:
    """Character 3-5-grams inside word boundaries: they match misspelled and inflected words."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                           preprocessor=normalize, min_df=1)


class KeywordIndex:
    """Scores every document of one language for a query: BM25 and character n-gram cosine."""

    def __init__(self, texts: Sequence[str], lang: str, k1: float = 1.2, b: float = 0.75):
        self.lang = lang
        self.size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        corpus = [stem_tokens(t, lang) or ["\u2205"] for t in texts]
        self._bm25.index(corpus, show_progress=False)
        self._chars = char_vectorizer()
        # Column-compressed, so a query touches only the columns of its own n-grams.
        self._char_matrix = self._chars.fit_transform(texts).tocsc() if texts else None
        if texts:
            self._char_ngrams = self._chars.build_analyzer()
            self._char_columns: dict[str, int] = self._chars.vocabulary_
            self._char_idf: np.ndarray = self._chars.idf_

    def known_share(self, text: str) -> float:
        """Share of the text's words (stems) that occur in this language's articles."""
        stems = stem_tokens(text, self.lang, drop_stopwords=False)
        if not stems:
            return 0.0
        vocabulary = self._bm25.vocab_dict
        return sum(1 for s in stems if s in vocabulary) / len(stems)

    @property
    def vocabulary_size(self) -> int:
        """How many distinct stems this language's articles use."""
        return len(self._bm25.vocab_dict)

    def has_stem(self, stem: str) -> bool:
        """Whether any article of this language has a word with this stem."""
        return stem in self._bm25.vocab_dict

    def bm25(self, query: str) -> np.ndarray:
        """BM25 score of every document (0 where no stem is shared)."""
        tokens = stem_tokens(query, self.lang)
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def document_frequency(self, word: str) -> int:
        """In how many documents the word's stem occurs."""
        stems = stem_tokens(word, self.lang, drop_stopwords=False)
        column = self._bm25.vocab_dict.get(stems[0]) if stems else None
        if column is None or self.size == 0:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])

    def bm25_weighted(self, terms: Mapping[str, float]) -> np.ndarray:
        """BM25 of a query given as weighted words (a translated query: each word counts by how
        likely it is the meant sense)."""
        scores = np.zeros(self.size, dtype=np.float32)
        if self.size == 0:
            return scores
        weights: dict[int, float] = {}
        stop = stopwords(self.lang)
        for word, weight in terms.items():
            if word in stop:
                continue
            for stem in stem_tokens(word, self.lang, drop_stopwords=False):
                column = self._bm25.vocab_dict.get(stem)
                if column is not None:
                    weights[column] = weights.get(column, 0.0) + weight
        matrix = self._bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        for column, weight in weights.items():
            start, end = indptr[column], indptr[column + 1]
            scores[indices[start:end]] += weight * data[start:end]
        return scores

    def chargram(self, query: str) -> np.ndarray:
        """Cosine similarity of character n-gram TF-IDF vectors, in [0, 1]."""
        if self._char_matrix is None:
            return np.zeros(self.size, dtype=np.float32)
        columns, weights = self.chargram_vector(query)
        if columns.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        # The product of the query's columns with its weights, one column at a time in scipy's
        # own compiled kernel, reading each column's slice of the CSC arrays in place: the
        # entries of a column are added in the order scipy's product adds them, so the sums are
        # the same bit for bit. Slicing the matrix with scipy builds intermediate matrices (their
        # allocations left each gunicorn worker 1-2 MB larger after a few thousand questions),
        # and gathering the entries with numpy passes over them six times: at 5,500 articles a
        # common trigram is in most of them, and that cost 2 ms of each search.
        matrix = self._char_matrix
        scores = np.zeros(self.size, dtype=np.float64)
        bounds = np.zeros(2, dtype=matrix.indptr.dtype)
        weight = np.zeros(1, dtype=np.float64)
        for start, end, column_weight in zip(matrix.indptr[columns].tolist(),
                                             matrix.indptr[columns + 1].tolist(),
                                             weights.tolist()):
            bounds[1], weight[0] = end - start, column_weight
            csc_matvec(self.size, 1, bounds, matrix.indices[start:end], matrix.data[start:end],
                       weight, scores)
        return scores.astype(np.float32)

    def chargram_vector(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's n-gram columns and TF-IDF weights, exactly as the fitted vectorizer's
        `transform` computes them (sublinear tf, idf, l2 norm). For one short query that call
        spends almost all its time validating its input, more than the rest of keyword search."""
        counts: dict[int, int] = {}
        for ngram in self._char_ngrams(query):
            column = self._char_columns.get(ngram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.array(sorted(counts), dtype=np.intp)
        weights = np.array([counts[c] for c in columns.tolist()], dtype=np.float64)
        np.log(weights, out=weights)
        weights += 1.0
        weights *= self._char_idf[columns]
        # Summed in order, one square at a time, as scikit-learn's normalize() does.
        squares = 0.0
        for weight in weights.tolist():
            squares += weight * weight
        if squares:
            weights /= math.sqrt(squares)
        return columns, weights
