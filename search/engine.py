"""The search engine: a customer's question in, the articles that answer it (or nothing) out."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from search.answer_store import AnswerStore
from search.document import Document
from search.embedder import Embedder
from search.fusion import DEFAULT_WEIGHTS, Weights, feedback_weights, fuse, normalize_scores
from search.index import SearchIndex
from search.language import LanguageGuess, hinted_language, identify_language, load_detector
from search.query_translation import QueryTranslator, TranslatedQuery
from search.repair import Repair, repair_query
from search.snippet import highlight
from search.text import stem_tokens
from search.vector_index import VectorIndex

MAX_QUERY_CHARS = 1000
CACHE_SIZE = 2048
TRANSLATION_TARGET = "en"
FEEDBACK_TOP = 3
FEEDBACK_BETA = 0.6


@dataclass(frozen=True)
class AbstainRule:
    """Suggest nothing unless the best article is close enough in meaning or in wording."""

    min_dense: float
    min_chargram: float
    min_bm25: float = float("inf")

    def keeps(self, dense: float, chargram: float, bm25: float = 0.0) -> bool:
        return dense >= self.min_dense or chargram >= self.min_chargram or bm25 >= self.min_bm25


# Calibrated on the off-topic and answerable queries of the deflection dev set (README).
DEFAULT_ABSTAIN: Mapping[str, AbstainRule] = {
    "en": AbstainRule(min_dense=0.38, min_chargram=0.14),
    "sv": AbstainRule(min_dense=0.52, min_chargram=0.12),
    "ru": AbstainRule(min_dense=0.48, min_chargram=0.14, min_bm25=2.0),
    # A Swedish or Russian question compared in English, through its word-by-word translation.
    "translated": AbstainRule(min_dense=0.38, min_chargram=0.14),
    "default": AbstainRule(min_dense=0.45, min_chargram=0.14),
}


def language_blocks(doc_langs: np.ndarray, chunk_owner: np.ndarray
                    ) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]] | None:
    """Each language's (start, end) rows among the articles and among the chunks, when each
    language's articles sit together (an index built from the articles folder, one language
    folder after the other); None otherwise."""
    article_rows: dict[str, tuple[int, int]] = {}
    chunk_rows: dict[str, tuple[int, int]] = {}
    for lang in np.unique(doc_langs).tolist():
        at = np.flatnonzero(doc_langs == lang)
        start, end = int(at[0]), int(at[-1]) + 1
        if end - start != at.size:
            return None
        article_rows[lang] = (start, end)
        # chunk_owner is sorted: a language's chunks follow each other as its articles do.
        chunk_rows[lang] = (int(np.searchsorted(chunk_owner, start)),
                            int(np.searchsorted(chunk_owner, end)))
    return article_rows, chunk_rows


@functools.cache
def code_identity() -> str:
    """A digest of this library's source: after a deploy that changes how answers are ranked,
    replicas sharing an answer cache stop reading what the old code wrote."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode("utf-8") + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class EmbeddingPlan:
    """The texts to embed for one search, and which candidates are compared in English."""

    texts: list[str]
    in_english: np.ndarray  # per candidate: scored with the English (translated) embedding

    def vector_of(self, count: int) -> np.ndarray:
        """Per candidate, the index of the text whose vector scores it."""
        if len(self.texts) == 1:
            return np.zeros(count, dtype=np.int64)
        return self.in_english.astype(np.int64)

    @property
    def vector_for_snippets(self) -> int:
        return 0


@dataclass(frozen=True)
class RankingConfig:
    """Tunable ranking behaviour, kept apart from the engine so it can be measured and changed."""

    weights: Mapping[str, Weights] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    abstain: Mapping[str, AbstainRule] | None = field(default_factory=lambda: dict(DEFAULT_ABSTAIN))
    fallback_languages: Sequence[str] = ("en",)
    # With an English-only model a Swedish or Russian question is embedded in its English
    # translation (one encoding either way; a second, as typed, only when nothing is close
    # enough through the translation); a multilingual model gets the question as typed.
    embed_translation: bool = True
    # Keyword evidence (best translated English BM25 over best native BM25) below the band:
    # embed as typed; above: embed the translation; inside: embed both (a second encoding, a few
    # milliseconds). Tuned per language on the deflection dev set to a point: one encoding.
    translation_band: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {"sv": (1.0, 1.0), "ru": (0.5, 0.5)})
    # Added to the fused score of articles in the customer's own language: where an article
    # exists in it, it wins a close race against an English-only one.
    native_preference: Mapping[str, float] = field(
        default_factory=lambda: {"sv": 1.0, "ru": 1.0})  # tuned on the deflection dev set


@dataclass(frozen=True)
class Result:
    """One suggested article: what the customer sees and why it ranked."""

    id: str
    slug: str
    lang: str
    title: str
    summary: str
    snippet: str
    anchor: str
    score: float
    fallback: bool
    signals: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        # Field by field, not asdict(): its recursive deep copy was a tenth of answering from the cache.
        return {**self.__dict__, "signals": dict(self.signals)}


@dataclass(frozen=True)
class SearchResponse:
    """Ranked results in the language used, or none when the engine abstained."""

    query: str
    lang: str
    lang_reason: str
    results: list[Result]
    abstained: bool
    took_ms: float
    repaired_query: str | None = None  # "Showing results for …" when the input was repaired
    cache: str | None = None  # None: searched now; "local": this process's cache; "shared"

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a shared cache (where it came from is not part of the answer)."""
        data = asdict(self)
        del data["cache"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SearchResponse:
        values = dict(data)
        values["results"] = [Result(**result) for result in values["results"]]
        return cls(**values)


class SharedCache(Protocol):
    """A second cache level shared by several processes or hosts (e.g. Redis). It only saves
    time: `get` answers None and `put` does nothing when the store cannot be reached."""

    def get(self, key: str) -> Mapping[str, Any] | None: ...

    def put(self, key: str, value: Mapping[str, Any]) -> None: ...


class SearchEngine:
    """Hybrid search over one SearchIndex: dense + BM25 + character n-grams, fused per language."""

    def __init__(self, index: SearchIndex, embedder: Embedder, languages: Sequence[str],
                 config: RankingConfig | None = None, translator: QueryTranslator | None = None,
                 shared_cache: SharedCache | None = None):
        self.index = index
        self.translator = translator
        self.embedder = embedder
        self.languages = tuple(languages)
        self.config = config or RankingConfig()
        self.shared_cache = shared_cache
        # Everything besides the request that decides an answer: a shared entry written by
        # another build, language list, ranking or version of this code is never read back.
        self.answers_identity = hashlib.sha256(
            repr((index.identity, self.languages, self.config,
                  translator.identity if translator else None,
                  code_identity())).encode("utf-8")).hexdigest()[:32]
        docs = index.documents
        self._doc_langs = np.array([d.lang for d in docs])
        self._slug_langs: dict[str, set[str]] = {}
        for d in docs:
            self._slug_langs.setdefault(d.slug, set()).add(d.lang)
        self._served: dict[str, np.ndarray] = {}
        # Where each article's English version sits (-1: none): an English-only model compares a
        # translated question with the English version of a Swedish or Russian article.
        english_at = {d.slug: i for i, d in enumerate(docs) if d.lang == TRANSLATION_TARGET}
        self._english_version = np.array([english_at.get(d.slug, -1) for d in docs], dtype=np.int64)
        # Search-as-you-type repeats the same texts (reloads, retyped words, several tabs):
        # remember recent answers. The engine is immutable, so entries never go stale.
        self._cache: OrderedDict[tuple[Any, ...], SearchResponse] = OrderedDict()
        self._cache_lock = threading.Lock()
        # Answers are built from this, not from the documents: see search/answer_store.py.
        self._answers = AnswerStore(docs)
        self._blocks = language_blocks(self._doc_langs, index.chunk_owner)

    def warm_up(self) -> None:
        """Build now what a first question would otherwise wait for: the keyword indexes and the
        language detector."""
        _ = self.index.keyword
        load_detector(self.languages)
        if self.translator is not None:
            self.translator.warm_up()
        # One question end to end, and one in every language: the lazily loaded code, the
        # model's first-run allocations and each language's served pool (which visits every
        # document) then sit in the preloaded master's pages, shared by every worker forked
        # from it.
        self._search("warm up", None, (), 1, None, False)
        for lang in self.languages:
            self._search("warm up", lang, (), 1, None, True)

    def identify(self, query: str, hints: Sequence[str] = ()) -> LanguageGuess:
        return identify_language(query, self.languages, hints, default=self.languages[0])

    def served_pool(self, lang: str) -> np.ndarray:
        """Articles a customer of `lang` may see: their language, else the best other version."""
        if lang in self._served:
            return self._served[lang].copy()
        order = [lang, *self.config.fallback_languages,
                 *(other for other in self.languages if other != lang)]
        keep = np.zeros(len(self.index.documents), dtype=bool)
        for i, doc in enumerate(self.index.documents):
            available = self._slug_langs[doc.slug]
            chosen = next((candidate for candidate in order if candidate in available), doc.lang)
            keep[i] = doc.lang == chosen
        self._served[lang] = keep
        return keep.copy()

    def keyword_signals(self, query: str, candidates: np.ndarray) -> dict[str, np.ndarray]:
        """BM25 and character n-gram scores of the candidates (a mask over documents), each in
        its own language's index; the rest get 0."""
        n = len(self.index.documents)
        bm25 = np.zeros(n, dtype=np.float32)
        chars = np.zeros(n, dtype=np.float32)
        for lang, positions in self.index.positions_by_lang.items():
            # A customer is served from one language or two, out of all that are indexed.
            if not candidates[positions].any():
                continue
            keyword = self.index.keyword[lang]
            bm25[positions] = keyword.bm25(query)
            chars[positions] = keyword.chargram(query)
        return {"bm25": bm25, "chargram": chars}

    def dense_signals(self, query_vector: np.ndarray,
                      langs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Dense cosine of the documents in `langs` (all when None): best chunk and whole
        article; the others get -1. Each language's vectors are scored in one pass on the
        calling thread, which is faster than picking positions (FAISS's per-position kernel
        leaves an OpenMP thread spinning on the core the model needs)."""
        index = self.index
        chunk_scores = self._scores(index.chunk_vectors, query_vector, langs, chunks=True)
        article_scores = self._scores(index.article_vectors, query_vector, langs)
        best_chunk = np.full(len(index.documents), -1.0, dtype=np.float32)
        np.maximum.at(best_chunk, index.chunk_owner, chunk_scores)
        return {"chunk": best_chunk, "article": article_scores, "chunk_scores": chunk_scores}

    def _scores(self, vectors: VectorIndex, query_vector: np.ndarray,
                langs: Sequence[str] | None, chunks: bool = False) -> np.ndarray:
        """Scores of `vectors` (the articles', or with `chunks` the chunks'), read for `langs`
        only where each language's rows sit together."""
        if langs is None or self._blocks is None:
            return vectors.scores(query_vector)
        rows = self._blocks[1 if chunks else 0]
        return vectors.scores_in(query_vector, [rows[lang] for lang in langs])

    def _languages_of(self, *positions: np.ndarray) -> list[str]:
        return np.unique(np.concatenate([self._doc_langs[p] for p in positions])).tolist()

    def search(self, query: str, lang: str | None = None, hints: Sequence[str] = (),
               limit: int = 5, pool: Callable[[Document], bool] | None = None,
               trust_lang: bool = False) -> SearchResponse:
        """Rank articles for `query`. `lang` is a hint unless `trust_lang`; `pool` restricts."""
        if pool is not None:
            return self._search(query, lang, hints, limit, pool, trust_lang)
        started = time.perf_counter()
        key = self.request_key(query, lang, hints, limit, trust_lang)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is not None:
            return replace(cached, took_ms=(time.perf_counter() - started) * 1000, cache="local")
        # Only a shared cache needs the hashed key (a tenth of a millisecond, on every miss).
        shared_key = self._shared_key(key) if self.shared_cache is not None else ""
        response = self._from_shared_cache(shared_key)
        if response is None:
            response = self._search(query, lang, hints, limit, None, trust_lang)
            if self.shared_cache is not None:
                self.shared_cache.put(shared_key, response.to_dict())
        else:
            response = replace(response, took_ms=(time.perf_counter() - started) * 1000)
        with self._cache_lock:
            self._cache[key] = replace(response, cache=None)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return response

    def request_key(self, query: str, lang: str | None, hints: Sequence[str], limit: int,
                    trust_lang: bool) -> tuple[Any, ...]:
        """The parts of a request that can change its answer, normalized as `_search` reads
        them, so requests that must get the same answer share one cache entry."""
        query = query.strip()[:MAX_QUERY_CHARS]
        if trust_lang and lang:
            return (query, lang, True, limit)
        return (query, hinted_language([h for h in (lang, *hints) if h], self.languages), False,
                limit)

    def _shared_key(self, key: tuple[Any, ...]) -> str:
        request = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()
        return f"{self.answers_identity}:{request[:32]}"

    def _from_shared_cache(self, shared_key: str) -> SearchResponse | None:
        if self.shared_cache is None:
            return None
        data = self.shared_cache.get(shared_key)
        if data is None:
            return None
        try:
            return replace(SearchResponse.from_dict(data), cache="shared")
        except (KeyError, TypeError, ValueError):
            return None  # written by another version of this code: search again

    def _search(self, query: str, lang: str | None, hints: Sequence[str], limit: int,
                pool: Callable[[Document], bool] | None, trust_lang: bool) -> SearchResponse:
        started = time.perf_counter()
        query = query.strip()[:MAX_QUERY_CHARS]
        repair = self.repair(query)
        if repair is not None and trust_lang and lang and repair.lang != lang:
            repair = None  # the caller fixed another language: take the text as typed
        if repair is not None:
            query = repair.text
            guess = LanguageGuess(repair.lang, 1.0, repair.kind)
        elif trust_lang and lang:
            guess = LanguageGuess(lang, 1.0, "given")
        else:
            guess = self.identify(query, [h for h in (lang, *hints) if h])
        if not query or not self.index.documents:
            return SearchResponse(query, guess.lang, guess.reason, [], True,
                                  (time.perf_counter() - started) * 1000)
        candidates = self.served_pool(guess.lang)
        if pool is not None:
            candidates &= np.array([pool(d) for d in self.index.documents])
        positions = np.flatnonzero(candidates)
        if positions.size == 0:
            return SearchResponse(query, guess.lang, guess.reason, [], True,
                                  (time.perf_counter() - started) * 1000)
        raw = self.keyword_signals(query, candidates)
        translation = self.translate(query, guess.lang, positions)
        if translation is not None:
            self._add_translated_signals(raw, translation)
        plan = self._plan_embedding(query, translation, raw, positions)
        results, abstained = self._rank(query, guess.lang, positions, raw, translation, plan,
                                        limit)
        english_only = (self._doc_langs[positions] == TRANSLATION_TARGET).all()
        if abstained and plan.in_english.all() and not english_only:
            # Nothing came close through the word-by-word translation, which can miss the
            # point; the customer's own articles may still answer the question as typed.
            as_typed = EmbeddingPlan([query], np.zeros(positions.size, dtype=bool))
            results, abstained = self._rank(query, guess.lang, positions, raw, translation,
                                            as_typed, limit)
        return SearchResponse(query, guess.lang, guess.reason, results, abstained,
                              (time.perf_counter() - started) * 1000,
                              repair.text if repair else None)

    def _rank(self, query: str, query_lang: str, positions: np.ndarray,
              raw: dict[str, np.ndarray], translation: TranslatedQuery | None,
              plan: EmbeddingPlan, limit: int) -> tuple[list[Result], bool]:
        """Embed as planned, fuse every signal, and decide whether the best is good enough."""
        vectors = self.embedder.encode_queries(plan.texts)
        # Each candidate takes its dense scores from the question embedded as typed or in
        # English; a translated article compared in English stands in with its English version.
        stand_ins = np.where(plan.in_english & (self._english_version[positions] >= 0)
                             & (self._doc_langs[positions] != TRANSLATION_TARGET),
                             self._english_version[positions], positions)
        source = plan.vector_of(positions.size)
        # Only the languages the candidates and their stand-ins are in are ever read.
        needed = self._languages_of(positions, stand_ins)
        dense = [self.dense_signals(vector, needed) for vector in vectors]
        for signal in ("chunk", "article"):
            raw[signal] = np.zeros(len(self.index.documents), dtype=np.float32)
            for which in range(len(vectors)):
                chosen = source == which
                raw[signal][positions[chosen]] = dense[which][signal][stand_ins[chosen]]
        raw["chunk_scores"] = dense[plan.vector_for_snippets]["chunk_scores"]
        dense_score = raw["chunk"][positions] + raw["article"][positions]
        fused = fuse(dense_score, raw["bm25"][positions], raw["chargram"][positions],
                     self._doc_langs[positions], query_lang, self.config.weights,
                     translated=translation is not None)
        native = self._doc_langs[positions] != TRANSLATION_TARGET
        if translation is not None:
            preference = self.config.native_preference.get(query_lang, 0.0)
            fused = fused + preference * (self._doc_langs[positions] == query_lang)
        feedback_vector = int(source[native][0]) if native.any() else int(source[0])
        fused = self._add_feedback(fused, positions, vectors[feedback_vector], query_lang,
                                   stand_ins)
        order = np.argsort(-fused, kind="stable")
        top_positions = positions[order[:limit]]
        # English articles found through the translation show the translated words highlighted.
        english_words = f"{query} {translation.text}" if translation is not None else query
        results = [self._result(int(p), float(fused[order[i]]), query_lang,
                                english_words if self._doc_langs[p] == TRANSLATION_TARGET else query,
                                raw)
                   for i, p in enumerate(top_positions)]
        if self.config.abstain is None or not results:
            return results, False
        # Meaning was compared in English when the question was embedded translated.
        top = int(np.flatnonzero(positions == top_positions[0])[0])
        rule_lang = "translated" if plan.in_english[top] else query_lang
        rule = self.config.abstain.get(rule_lang, self.config.abstain["default"])
        best = results[0].signals
        if not rule.keeps(best["dense"], best["chargram"], best["bm25"]):
            return [], True
        return results, False

    def translate(self, query: str, lang: str, positions: np.ndarray) -> TranslatedQuery | None:
        """The query in English, when English articles are among the candidates."""
        if (self.translator is None or lang == TRANSLATION_TARGET
                or lang not in self.translator.languages()
                or TRANSLATION_TARGET not in self.index.keyword
                or not (self._doc_langs[positions] == TRANSLATION_TARGET).any()):
            return None
        return self.translator.translate(query, lang)

    def _plan_embedding(self, query: str, translation: TranslatedQuery | None,
                        raw: dict[str, np.ndarray], positions: np.ndarray) -> EmbeddingPlan:
        """What to embed: the question as typed, or its English translation when keywords point
        to English articles (then translated articles are compared through their English
        versions); with a band configured, both at once where keywords leave it open."""
        english = self._doc_langs[positions] == TRANSLATION_TARGET
        if translation is None or not translation.text or not self.config.embed_translation:
            return EmbeddingPlan([query], np.zeros(positions.size, dtype=bool))
        if english.all():
            return EmbeddingPlan([translation.text], np.ones(positions.size, dtype=bool))
        native_best = float(raw["bm25"][positions[~english]].max())
        english_best = float(raw["bm25"][positions[english]].max())
        ratio = english_best / native_best if native_best > 0 else float("inf")
        low, high = self.config.translation_band.get(translation.lang, (1.0, 1.0))
        if ratio < low:
            return EmbeddingPlan([query], np.zeros(positions.size, dtype=bool))
        if ratio >= high:
            return EmbeddingPlan([translation.text], np.ones(positions.size, dtype=bool))
        return EmbeddingPlan([query, translation.text], english)

    def _add_translated_signals(self, raw: dict[str, np.ndarray],
                                translation: TranslatedQuery) -> None:
        """English articles are scored on the translated query: weighted BM25 and character
        n-grams of its reading (the original's n-grams still count: names and cognates)."""
        english = self.index.positions_by_lang[TRANSLATION_TARGET]
        keyword = self.index.keyword[TRANSLATION_TARGET]
        raw["bm25"][english] = keyword.bm25_weighted(translation.terms)
        if translation.text:
            raw["chargram"][english] = np.maximum(raw["chargram"][english],
                                                  keyword.chargram(translation.text))

    def _add_feedback(self, fused: np.ndarray, positions: np.ndarray, vector: np.ndarray,
                      query_lang: str, vector_positions: np.ndarray | None = None) -> np.ndarray:
        """Pseudo-relevance feedback (Rocchio): move the query towards the first-pass top
        articles and add that dense score; it helps English and Russian on the dev set."""
        weights = feedback_weights(self._doc_langs[positions], query_lang, self.config.weights)
        if not weights.any() or len(positions) < 2 * FEEDBACK_TOP:
            return fused
        vector_positions = positions if vector_positions is None else vector_positions
        top = vector_positions[np.argsort(-fused, kind="stable")[:FEEDBACK_TOP]]
        moved = vector + FEEDBACK_BETA * self.index.article_vectors.vectors(top).mean(axis=0)
        moved /= np.linalg.norm(moved) or 1.0
        feedback = self._scores(self.index.article_vectors, moved,
                                self._languages_of(vector_positions))[vector_positions]
        return fused + weights * normalize_scores(feedback)

    def repair(self, query: str) -> Repair | None:
        """Russian typed on an English layout or in Latin letters, read as Russian."""
        keyword = self.index.keyword
        if "ru" not in keyword:
            return None
        latin = tuple(lang for lang in keyword if lang != "ru")
        return repair_query(query, lambda text, lang: keyword[lang].known_share(text), latin)

    def _result(self, position: int, score: float, query_lang: str, query: str,
                raw: dict[str, np.ndarray]) -> Result:
        doc = self._answers.document(position)
        chunks = self._answers.chunks_of(position)
        # The snippet comes from the chunk closest in meaning, nudged by the words it shares.
        overlaps = self._answers.stem_overlaps(stem_tokens(query, doc.lang), chunks)
        values = [float(raw["chunk_scores"][c]) + 0.05 * int(o) for c, o in zip(chunks, overlaps)]
        chunk = self._answers.chunk(chunks[int(np.argmax(values))]) if values else None
        text = chunk.source if chunk else doc.text
        dense = max(float(raw["chunk"][position]), float(raw["article"][position]))
        return Result(
            id=doc.id, slug=doc.slug, lang=doc.lang, title=doc.title, summary=doc.summary,
            snippet=highlight(text, query, doc.lang), anchor=chunk.anchor if chunk else "",
            score=round(score, 4), fallback=doc.lang != query_lang,
            signals={"dense": round(dense, 4), "bm25": round(float(raw["bm25"][position]), 4),
                     "chargram": round(float(raw["chargram"][position]), 4)},
        )
