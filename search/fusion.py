"""Combining dense and keyword scores into one ranking, with weights per language pair.

Each signal is min-max normalized over the candidate pool, then summed with weights. On the dev set
this beat reciprocal rank fusion and z-scores (it keeps how far ahead a document is, not just its
rank, and one outlier does not squash the rest), and the
best weights differ by language: the offline model is English-only, so Swedish and Russian lean
on keywords and character n-grams (see docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


# The prefix of the weights for candidates compared with the question's English translation.
IN_ENGLISH = "in_english"


@dataclass(frozen=True)
class Weights:
    """How much each signal counts."""

    dense: float
    bm25: float
    chargram: float
    feedback: float = 0.0  # dense score of the query moved towards the first-pass top articles


# Chosen by grid search on the dev retrieval set (per query language; "cross" when the article
# is in another language than the query).
DEFAULT_WEIGHTS: Mapping[str, Weights] = {
    "en": Weights(dense=4.0, bm25=1.0, chargram=0.5, feedback=2.0),
    "sv": Weights(dense=0.5, bm25=1.0, chargram=1.5),
    # Russian dense 0.125 (was 0.25): `kb tune --ranking` chose it on the other two help centers
    # in every leave-one-out fold, and no left-out task lost by it (docs/quality.md).
    "ru": Weights(dense=0.125, bm25=1.0, chargram=3.0, feedback=1.0),
    "cross": Weights(dense=1.0, bm25=1.0, chargram=1.0),
    # English articles scored on a Swedish or Russian question's English translation.
    "translated_sv": Weights(dense=2.0, bm25=1.0, chargram=2.0),
    "translated_ru": Weights(dense=3.0, bm25=1.0, chargram=1.0),
    # Every article whose meaning was compared with that translation embedded (the English
    # ones, and those in the customer's language through their English versions: `fuse`),
    # whatever its language: their dense scores are the same kind of evidence, on one scale.
    # One set for both languages, chosen leave-one-help-center-out on five help centers
    # (docs/quality.md); the two above then weigh only what is compared as typed.
    "in_english_sv": Weights(dense=6.0, bm25=1.0, chargram=2.0),
    "in_english_ru": Weights(dense=6.0, bm25=1.0, chargram=2.0),
    "default": Weights(dense=1.0, bm25=1.0, chargram=1.0),
}
# The same, chosen leave-one-help-center-out with no dictionaries imported (translations from the
# lexicon learned from the articles alone). Russian questions still gain from one scale (their
# loanwords and the learned pairs carry the meaning), Swedish ones lose (everyday Swedish words go
# untranslated and the dense scores mislead), so Swedish keeps its own weights there.
IN_ENGLISH_WITHOUT_DICTIONARIES: Mapping[str, Weights] = {
    "in_english_ru": Weights(dense=2.0, bm25=1.0, chargram=2.0),
}


def normalize_scores(values: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1]; all zeros when the values do not vary (no evidence either way)."""
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.zeros_like(values, dtype=np.float64)
    return (values - low) / (high - low)


def best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest scores, highest first, ties in position order: the first
    `k` of a stable sort of the negated scores, without sorting every other document (at
    16,000 articles, a millisecond of each search)."""
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    if k >= scores.size:
        return np.argsort(-scores, kind="stable")
    # Most of a large pool shares the lowest score (no evidence at all: articles in another
    # language than the question's), and numpy's selection slows tenfold on a mass of equal
    # values; the first k come from above it whenever k scores are.
    pool = np.flatnonzero(scores > scores.min())
    if pool.size < k:
        pool = np.arange(scores.size)
    kept = scores[pool]
    kth_highest = np.partition(kept, kept.size - k)[kept.size - k]
    contenders = pool[kept >= kth_highest]  # every tie with it too, in position order
    return contenders[np.argsort(-scores[contenders], kind="stable")][:k]


def languages_in(doc_langs: np.ndarray) -> list[str]:
    """The distinct languages of a per-document array, sorted. An index keeps each language's
    articles together, so one look per run of the same language is enough: nine times faster
    than np.unique's hashing of every entry at 16,000 articles."""
    if doc_langs.size == 0:
        return []
    run_starts = np.flatnonzero(doc_langs[1:] != doc_langs[:-1]) + 1
    return sorted(set(doc_langs[np.concatenate(([0], run_starts))].tolist()))


def weights_for(query_lang: str, doc_lang: str, table: Mapping[str, Weights],
                translated: bool = False) -> Weights:
    if query_lang != doc_lang:
        if translated and f"translated_{query_lang}" in table:
            return table[f"translated_{query_lang}"]
        return table.get("cross", table["default"])
    return table.get(query_lang, table["default"])


def one_scale(table: Mapping[str, Weights], query_lang: str,
              in_english: np.ndarray | None) -> tuple[Weights, np.ndarray] | None:
    """The weights every candidate compared in English (`in_english`: with the question's
    translation embedded, or, for a multilingual model, through the article's English version;
    None: none was) is weighed by, whatever its language, and those candidates; None where the
    table has no such weights for the question's language (without a dictionary for it, say).
    The one place that decides it, for fusion, feedback and the native lift alike."""
    weights = table.get(f"{IN_ENGLISH}_{query_lang}")
    if weights is None or in_english is None or not in_english.any():
        return None
    return weights, in_english


def feedback_weights(doc_langs: np.ndarray, query_lang: str,
                     table: Mapping[str, Weights] = DEFAULT_WEIGHTS,
                     in_english: np.ndarray | None = None) -> np.ndarray:
    """Per-candidate weight of the pseudo-relevance feedback score (`one_scale` for the
    candidates compared in English)."""
    out = np.zeros(len(doc_langs), dtype=np.float64)
    for lang in languages_in(doc_langs):
        out[doc_langs == lang] = weights_for(query_lang, lang, table).feedback
    if (scale := one_scale(table, query_lang, in_english)) is not None:
        weights, compared = scale
        out[compared] = weights.feedback
    return out


def fuse(dense: np.ndarray, bm25: np.ndarray, chargram: np.ndarray, doc_langs: np.ndarray,
         query_lang: str, table: Mapping[str, Weights] = DEFAULT_WEIGHTS,
         translated: bool = False, in_english: np.ndarray | None = None) -> np.ndarray:
    """One score per candidate: weighted sum of the normalized signals, by the weights of the
    candidate's language, or (`one_scale`) of how it was compared. `in_english` is given only
    for a translated question."""
    z_dense, z_bm25, z_char = (normalize_scores(dense), normalize_scores(bm25),
                               normalize_scores(chargram))
    fused = np.zeros(len(dense), dtype=np.float64)
    for lang in languages_in(doc_langs):
        mask = doc_langs == lang
        w = weights_for(query_lang, lang, table, translated)
        fused[mask] = w.dense * z_dense[mask] + w.bm25 * z_bm25[mask] + w.chargram * z_char[mask]
    if (scale := one_scale(table, query_lang, in_english)) is not None:
        w, compared = scale
        fused[compared] = (w.dense * z_dense[compared] + w.bm25 * z_bm25[compared]
                           + w.chargram * z_char[compared])
    return fused
