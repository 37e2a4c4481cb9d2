"""The ranking policy: what the signals of one search are, and how they become an order or nothing.

Every step is a small function of plain arrays; every tunable number is in `RankingConfig`, chosen
per model in one place (`ranking_config_for`), which the service and `kb eval` both call. How the
signals are normalized and weighted is in `search/fusion.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from search.decision import (DEFAULT_ABSTAIN, DEFAULT_MARGINS, AbstainRule, abstain_rules,
                             suggestion_margins)
from search.fusion import (DEFAULT_WEIGHTS, IN_ENGLISH, IN_ENGLISH_WITHOUT_DICTIONARIES, Weights,
                           feedback_weights, normalize_scores, one_scale)
from search.synonyms import EXPANSION_WEIGHT

# The language an English-only model compares meaning in, and that questions are translated to.
TRANSLATION_TARGET = "en"
# Pseudo-relevance feedback: how many first-pass articles the query moves towards, and how far.
FEEDBACK_TOP = 3
FEEDBACK_BETA = 0.6


@dataclass(frozen=True)
class RankingConfig:
    """Tunable ranking behaviour, kept apart from the engine so it can be measured and changed."""

    weights: Mapping[str, Weights] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    abstain: Mapping[str, AbstainRule] | None = field(default_factory=lambda: dict(DEFAULT_ABSTAIN))
    fallback_languages: Sequence[str] = (TRANSLATION_TARGET,)
    # With an English-only model a Swedish or Russian question is embedded in its English
    # translation (one encoding either way; a second, as typed, only when nothing is close
    # enough through the translation); a multilingual model gets the question as typed.
    embed_translation: bool = True
    # Keyword evidence (best translated English BM25 over best native BM25) below the band:
    # embed as typed; above: embed the translation; inside: embed both (a second encoding, a few
    # milliseconds). A point each, so one encoding. Swedish and Russian are always compared in
    # English: the English-only model reads a question's word-by-word translation better than
    # the question itself, so every article, the English-only ones too, is compared on one scale
    # (sv->en Recall@3 +.04 to +.17 on the three help centers; Russian off-topic abstention left
    # out +.03 to +.10 on each of five, the order unchanged; docs/quality.md).
    translation_band: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {"sv": (0.0, 0.0), "ru": (0.0, 0.0)})
    # Added to the fused score of articles in the customer's own language compared as typed:
    # where an article exists in it, it wins a close race against an English-only one. Articles
    # compared through the question's translation are weighed on one scale and get no lift
    # (fusion.py `in_english_<lang>`: with a lift, English-only answers lost, docs/quality.md).
    native_preference: Mapping[str, float] = field(
        default_factory=lambda: {"sv": 1.0, "ru": 1.0})  # tuned on the deflection dev set
    # Add the knowledge base's own words for a Swedish or Russian question's words, found
    # through their English senses (search/synonyms.py).
    expand_synonyms: bool = True
    # How much such an added word counts next to a typed one.
    expansion_weight: float = EXPANSION_WEIGHT
    # A second or third suggestion only when its score is at least this share of the first's,
    # per rule key (search/decision.py); 0 shows every result up to the limit.
    relative_margins: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MARGINS))


def ranking_config_for(model: str, source_language: str = TRANSLATION_TARGET,
                       dictionary_languages: Collection[str] | None = None) -> RankingConfig:
    """The ranking configuration for a model: the one place the service and `kb eval` get it.
    Articles missing in a customer's language are shown in `source_language`, as the articles
    API does; `dictionary_languages` are those whose questions imported dictionaries read
    (None: all), which the decision's rules and margins depend on (search/decision.py), and so
    do the weights of articles compared through a translation (`weights_for_translations`)."""
    from search.embedder import is_multilingual

    return RankingConfig(fallback_languages=(source_language,),
                         embed_translation=not is_multilingual(model),
                         weights=weights_for_translations(DEFAULT_WEIGHTS, dictionary_languages),
                         abstain=abstain_rules(dictionary_languages, model),
                         relative_margins=suggestion_margins(dictionary_languages, model))


def weights_for_translations(weights: Mapping[str, Weights],
                             dictionary_languages: Collection[str] | None) -> dict[str, Weights]:
    """The weights, with the one scale for the articles compared through a question's
    translation (fusion.py `in_english_<lang>`) chosen with dictionaries where imported ones
    read that language (None: all), else the one chosen without them, if any. Read with the
    lexicon learned from the articles alone, a Swedish translation misses the everyday words and
    its dense scores say less: weighed on the one scale, Swedish answers of two help centers fell
    below plain BM25 (docs/quality.md), so there the articles in the customer's language keep
    their own weights and their lift."""
    chosen = {}
    for key, value in weights.items():
        lang = key.removeprefix(f"{IN_ENGLISH}_")
        if lang == key or dictionary_languages is None or lang in dictionary_languages:
            chosen[key] = value  # not a one-scale set, or one a dictionary reads
        elif key in IN_ENGLISH_WITHOUT_DICTIONARIES:
            chosen[key] = IN_ENGLISH_WITHOUT_DICTIONARIES[key]
    return chosen


@dataclass
class Signals:
    """Per-document evidence for one search (0 or -1 where not scored); `chunk_scores` is per chunk."""

    bm25: np.ndarray
    chargram: np.ndarray
    chunk: np.ndarray | None = None  # best chunk's dense cosine
    article: np.ndarray | None = None  # whole article's dense cosine
    chunk_scores: np.ndarray | None = None  # every chunk's dense cosine, for snippets

    def of(self, position: int) -> dict[str, float]:
        """What a result reports of why it ranked."""
        assert self.chunk is not None and self.article is not None
        dense = max(float(self.chunk[position]), float(self.article[position]))
        return {"dense": round(dense, 4), "bm25": round(float(self.bm25[position]), 4),
                "chargram": round(float(self.chargram[position]), 4)}


@dataclass(frozen=True)
class EmbeddingPlan:
    """The texts to embed for one search, and which candidates are compared in English."""

    texts: list[str]
    # Per candidate: compared through its English version (with the question's English
    # translation, or with the question as typed by a multilingual model).
    in_english: np.ndarray

    def vector_of(self, count: int) -> np.ndarray:
        """Per candidate, the index of the text whose vector scores it."""
        if len(self.texts) == 1:
            return np.zeros(count, dtype=np.int64)
        return self.in_english.astype(np.int64)

    @property
    def vector_for_snippets(self) -> int:
        """The text whose chunk scores choose the snippets."""
        return 0


def as_typed(query: str, count: int) -> EmbeddingPlan:
    """Embed the question as the customer typed it, for every candidate."""
    return EmbeddingPlan([query], np.zeros(count, dtype=bool))


def in_every_language(query: str, count: int) -> EmbeddingPlan:
    """A multilingual model's plan for a Swedish or Russian question: the question as typed,
    compared with every article through its English version where it has one. Compared with
    the articles as they are, such a model finds any text in the question's own language a
    little closer than one in another, so English-only answers were lost to unrelated articles
    in the customer's language (docs/quality.md, "The production model, measured offline")."""
    return EmbeddingPlan([query], np.ones(count, dtype=bool))


def plan_embedding(query: str, query_lang: str, translation_text: str | None,
                   bm25: np.ndarray, english: np.ndarray, config: RankingConfig) -> EmbeddingPlan:
    """What to embed, the one place it is decided: an English question as typed; a Swedish or
    Russian one, for a multilingual model, as typed but compared through the articles' English
    versions (`in_every_language`); for the English-only model, its English translation when
    keywords point to English articles (then translated articles are compared through their
    English versions), with a band configured both at once where keywords leave it open, else
    as typed. `translation_text` is None when the question was not translated; `bm25` and
    `english` are per candidate."""
    if query_lang == TRANSLATION_TARGET:
        return as_typed(query, english.size)
    if not config.embed_translation:
        return in_every_language(query, english.size)
    if not translation_text:
        return as_typed(query, english.size)
    if english.all():
        return EmbeddingPlan([translation_text], np.ones(english.size, dtype=bool))
    native_best = float(bm25[~english].max())
    english_best = float(bm25[english].max())
    ratio = english_best / native_best if native_best > 0 else float("inf")
    low, high = config.translation_band.get(query_lang, (1.0, 1.0))
    if ratio < low:
        return as_typed(query, english.size)
    if ratio >= high:
        return EmbeddingPlan([translation_text], np.ones(english.size, dtype=bool))
    return EmbeddingPlan([query, translation_text], english)


def prefer_native(fused: np.ndarray, doc_langs: np.ndarray, query_lang: str,
                  config: RankingConfig, in_english: np.ndarray | None = None) -> np.ndarray:
    """Lift the candidates in the customer's own language over a close English-only race,
    those compared in English (`in_english`) aside: they are on the English articles' scale."""
    preference = config.native_preference.get(query_lang, 0.0)
    native = doc_langs == query_lang
    if (scale := one_scale(config.weights, query_lang, in_english)) is not None:
        native &= ~scale[1]
    return fused + preference * native


def feedback_applies(doc_langs: np.ndarray, query_lang: str, config: RankingConfig,
                     in_english: np.ndarray | None = None) -> np.ndarray | None:
    """Per-candidate weights of the feedback score, or None when feedback does not apply."""
    weights = feedback_weights(doc_langs, query_lang, config.weights, in_english)
    if not weights.any() or len(doc_langs) < 2 * FEEDBACK_TOP:
        return None
    return weights


def feedback_query(vector: np.ndarray, top_vectors: np.ndarray) -> np.ndarray:
    """Pseudo-relevance feedback (Rocchio): the query moved towards the first-pass top articles."""
    moved = vector + FEEDBACK_BETA * top_vectors.mean(axis=0)
    moved /= np.linalg.norm(moved) or 1.0
    return moved


def add_feedback(fused: np.ndarray, feedback_scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The fused scores plus the weighted, normalized dense scores of the moved query."""
    return fused + weights * normalize_scores(feedback_scores)
