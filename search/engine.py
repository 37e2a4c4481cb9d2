"""The search engine: a customer's question in, the articles that answer it (or nothing) out.

It only composes the units: query understanding (`search/query.py`), keyword and dense signals
(`search/keyword.py`, `search/dense_index.py`), the ranking policy (`search/ranking.py`) and the
answers (`search/answer.py`). Remembering answers is `search/answer_cache.py`'s job.
"""

from __future__ import annotations

import time
from dataclasses import replace
from collections.abc import Callable, Sequence

import numpy as np

from search.answer import AnswerBuilder, Result, SearchResponse, shown_score
from search.dense_index import DenseIndex
from search.document import Document
from search.embedder import Embedder
from search.fusion import best_first, fuse
from search.index import SearchIndex
from search.language import fallback_order
from search.query import MAX_QUERY_CHARS, QueryReader, Question
from search.query_translation import QueryTranslator, TranslatedQuery
from search.decision import (Decision, decide, margin_for, names_nothing_known, rule_for,
                             rule_key)
from search.snippet import query_stems
from search.ranking import (FEEDBACK_TOP, TRANSLATION_TARGET, EmbeddingPlan, RankingConfig,
                            Signals, add_feedback, as_typed, feedback_applies, feedback_query,
                            plan_embedding, prefer_native)
from search.synonyms import SynonymIndex
from search.vocabulary import Familiarity, KnowledgeBaseVocabulary


class SearchEngine:
    """Hybrid search over one SearchIndex: dense + BM25 + character n-grams, fused per language."""

    def __init__(self, index: SearchIndex, embedder: Embedder, languages: Sequence[str],
                 config: RankingConfig | None = None, translator: QueryTranslator | None = None,
                 max_query_chars: int = MAX_QUERY_CHARS):
        self.index = index
        self.embedder = embedder
        self.languages = tuple(languages)
        self.config = config or RankingConfig()
        self.query = QueryReader(self.languages, index, translator, max_query_chars)
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
        self.dense = DenseIndex(index.article_vectors, index.chunk_vectors, index.chunk_owner,
                                self._doc_langs)
        self._answers = AnswerBuilder(docs)
        self.synonyms = (SynonymIndex(translator, {
            lang: [d.keyword_text for d in docs if d.lang == lang] for lang in self.languages})
            if translator is not None and self.config.expand_synonyms else None)
        self._vocabulary: KnowledgeBaseVocabulary | None = None

    @property
    def vocabulary(self) -> KnowledgeBaseVocabulary:
        """Every word the knowledge base uses (built with the keyword indexes it reads)."""
        if self._vocabulary is None:
            self._vocabulary = KnowledgeBaseVocabulary(
                self.index.keyword, [d.keyword_text for d in self.index.documents],
                self.query.translator)
        return self._vocabulary

    def warm_up(self) -> None:
        """Build now what a first question would otherwise wait for: the keyword indexes and the
        language detector."""
        _ = self.index.keyword
        self.query.warm_up()
        # One question end to end, and one in every language: the lazily loaded code, the
        # model's first-run allocations, each language's served pool (which visits every
        # document) and word frequencies then sit in the preloaded master's pages, shared by every worker forked
        # from it.
        self.search("warm up", limit=1)
        for lang in self.languages:
            self.search("warm up", lang, limit=1, trust_lang=True)

    def served_pool(self, lang: str) -> np.ndarray:
        """Articles a customer of `lang` may see: their language, else the best other version."""
        if lang in self._served:
            return self._served[lang].copy()
        order = fallback_order(lang, self.config.fallback_languages, self.languages)
        keep = np.zeros(len(self.index.documents), dtype=bool)
        for i, doc in enumerate(self.index.documents):
            available = self._slug_langs[doc.slug]
            chosen = next((candidate for candidate in order if candidate in available), doc.lang)
            keep[i] = doc.lang == chosen
        self._served[lang] = keep
        return keep.copy()

    def keyword_signals(self, query: str, candidates: np.ndarray) -> Signals:
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
        return Signals(bm25=bm25, chargram=chars)

    def search(self, query: str, lang: str | None = None, hints: Sequence[str] = (),
               limit: int = 5, pool: Callable[[Document], bool] | None = None,
               trust_lang: bool = False, second_look: bool = False) -> SearchResponse:
        """Rank articles for `query`. `lang` is a hint unless `trust_lang`; `pool` restricts.
        `second_look` answers with the second look as typed alone, whatever the first finds (no
        results where the engine never takes one): for replaying the decision
        (search/tuning.py)."""
        started = time.perf_counter()
        question = self.query.read(query, lang, hints, trust_lang)
        familiarity = (self.vocabulary.familiarity(question.text, question.guess.lang)
                       if question.text and self.index.documents else Familiarity(1.0, ()))
        results, decision = self._answer(question, familiarity, limit, pool, second_look)
        return SearchResponse(question.text, question.guess.lang, question.guess.reason, results,
                              decision.abstained, (time.perf_counter() - started) * 1000,
                              question.repair.text if question.repair else None,
                              explanation=decision.reason, rule=decision.rule,
                              familiar_share=familiarity.share,
                              unknown_words=familiarity.unknown)

    def _answer(self, question: Question, familiarity: Familiarity, limit: int,
                pool: Callable[[Document], bool] | None,
                second_look: bool = False) -> tuple[list[Result], Decision]:
        """The results for a question read, and the decision on how many to show."""
        query, query_lang = question.text, question.guess.lang
        if not query or not self.index.documents:
            return [], Decision(0, "nothing to search for" if not query else "no articles")
        candidates = self.served_pool(query_lang)
        if pool is not None:
            candidates &= np.array([pool(d) for d in self.index.documents])
        positions = np.flatnonzero(candidates)
        if positions.size == 0:
            return [], Decision(0, "no article in the languages this customer is served")
        signals = self.keyword_signals(query, candidates)
        english = self._doc_langs[positions] == TRANSLATION_TARGET
        translation = self.query.translate(query, query_lang, bool(english.any()))
        if translation is not None:
            self._add_translated_signals(signals, translation)
        plan = plan_embedding(query, query_lang, translation.text if translation else None,
                              signals.bm25[positions], english, self.config)
        self._add_synonym_signals(signals, query, query_lang, candidates)
        # Nothing came close through the word-by-word translation, which can miss the point:
        # the customer's own articles may still answer the question as typed.
        # A multilingual model has read it as typed already.
        looks_again = bool(self.config.embed_translation and plan.in_english.all()
                           and not english.all())
        # Unless the question's words alone say it is about something else: they are the same
        # words as typed (search/decision.py).
        looks_again &= not names_nothing_known(familiarity.share, familiarity.unknown)
        if second_look:
            if not looks_again:
                return [], Decision(0, "no second look as typed")
            return self._rank(query, query_lang, positions, signals, translation,
                              as_typed(query, positions.size), familiarity, limit)
        results, decision = self._rank(query, query_lang, positions, signals, translation,
                                       plan, familiarity, limit)
        if decision.abstained and looks_again:
            first = decision
            results, decision = self._rank(query, query_lang, positions, signals, translation,
                                           as_typed(query, positions.size), familiarity, limit)
            if decision.abstained:
                # Both looks are why nothing is suggested (kb search --explain).
                decision = replace(decision, reason=f"compared through its English translation, "
                                                    f"{first.reason}; compared as typed, "
                                                    f"{decision.reason}")
        return results, decision

    def _add_synonym_signals(self, signals: Signals, query: str, lang: str,
                             candidates: np.ndarray) -> None:
        """Native BM25 also counts the knowledge base's own words for the question's words
        (search/synonyms.py). Added after the embedding plan, which weighs keyword evidence
        as typed."""
        positions = self.index.positions_by_lang.get(lang)
        if self.synonyms is None or positions is None or not candidates[positions].any():
            return
        keyword = self.index.keyword[lang]
        expansion = self.synonyms.expand(query, lang, keyword.has_stem,
                                           self.config.expansion_weight)
        if expansion:
            signals.bm25[positions] += keyword.bm25_weighted(expansion)

    def _add_translated_signals(self, signals: Signals, translation: TranslatedQuery) -> None:
        """English articles are scored on the translated query: weighted BM25 and character
        n-grams of its reading (the original's n-grams still count: names and cognates)."""
        english = self.index.positions_by_lang[TRANSLATION_TARGET]
        keyword = self.index.keyword[TRANSLATION_TARGET]
        signals.bm25[english] = keyword.bm25_weighted(translation.terms)
        if translation.text:
            signals.chargram[english] = np.maximum(signals.chargram[english],
                                                   keyword.chargram(translation.text))

    def _rank(self, query: str, query_lang: str, positions: np.ndarray, signals: Signals,
              translation: TranslatedQuery | None, plan: EmbeddingPlan,
              familiarity: Familiarity, limit: int) -> tuple[list[Result], Decision]:
        """Embed as planned, fuse every signal, and decide whether the best is good enough."""
        vectors = self.embedder.encode_queries(plan.texts)
        doc_langs = self._doc_langs[positions]
        # Each candidate takes its dense scores from the question embedded as typed or in
        # English; a translated article compared in English stands in with its English version.
        stand_ins = np.where(plan.in_english & (self._english_version[positions] >= 0)
                             & (doc_langs != TRANSLATION_TARGET),
                             self._english_version[positions], positions)
        source = plan.vector_of(positions.size)
        self._add_dense_signals(signals, vectors, positions, stand_ins, source, plan)
        dense_score = signals.chunk[positions] + signals.article[positions]
        # Which candidates were compared through their English versions (fusion.py `one_scale`).
        in_english = plan.in_english if plan.in_english.any() else None
        fused = fuse(dense_score, signals.bm25[positions], signals.chargram[positions],
                     doc_langs, query_lang, self.config.weights,
                     translated=translation is not None, in_english=in_english)
        if translation is not None:
            fused = prefer_native(fused, doc_langs, query_lang, self.config, in_english)
        native = doc_langs != TRANSLATION_TARGET
        feedback_vector = int(source[native][0]) if native.any() else int(source[0])
        fused = self._feedback(fused, doc_langs, vectors[feedback_vector], query_lang, stand_ins,
                               in_english)
        order = best_first(fused, limit)
        if order.size == 0:
            return [], Decision(0, "no article to compare")
        top_positions = positions[order]
        # Meaning was compared in English: through the question's translation, or the
        # article's English version.
        key = rule_key(query_lang, bool(plan.in_english[order[0]]))
        rule = rule_for(self.config.abstain, key) if self.config.abstain is not None else None
        decision = decide([shown_score(float(fused[i])) for i in order.tolist()],
                          signals.of(int(top_positions[0])), rule,
                          margin_for(self.config.relative_margins, key),
                          key, familiarity.share, familiarity.unknown)
        # The decision reads scores and signals only: snippets are made for the results shown.
        shown = order[:decision.count].tolist()
        # English articles found through the translation show the translated words highlighted.
        english_words = f"{query} {translation.text}" if translation is not None else query
        stems: dict[str, frozenset[str]] = {}
        results = []
        for i in shown:
            position = int(positions[i])
            lang = str(self._doc_langs[position])
            words = english_words if lang == TRANSLATION_TARGET else query
            if lang not in stems:
                stems[lang] = query_stems(words, lang)
            results.append(self._answers.result(position, float(fused[i]), query_lang, words,
                                                signals, stems[lang]))
        return results, decision

    def _add_dense_signals(self, signals: Signals, vectors: np.ndarray, positions: np.ndarray,
                           stand_ins: np.ndarray, source: np.ndarray, plan: EmbeddingPlan) -> None:
        """Each candidate's dense scores, from the vector the plan gives it (read at its stand-in)."""
        # Only the languages the candidates and their stand-ins are in are ever read.
        needed = self.dense.languages_of(positions, stand_ins)
        dense = [self.dense.signals(vector, needed) for vector in vectors]
        n = len(self.index.documents)
        signals.chunk = np.zeros(n, dtype=np.float32)
        signals.article = np.zeros(n, dtype=np.float32)
        for which in range(len(vectors)):
            chosen = source == which
            signals.chunk[positions[chosen]] = dense[which].chunk[stand_ins[chosen]]
            signals.article[positions[chosen]] = dense[which].article[stand_ins[chosen]]
        signals.chunk_scores = dense[plan.vector_for_snippets].chunk_scores

    def _feedback(self, fused: np.ndarray, doc_langs: np.ndarray, vector: np.ndarray,
                  query_lang: str, vector_positions: np.ndarray,
                  in_english: np.ndarray | None = None) -> np.ndarray:
        """Pseudo-relevance feedback: it helps English and Russian on the dev set."""
        weights = feedback_applies(doc_langs, query_lang, self.config, in_english)
        if weights is None:
            return fused
        top = vector_positions[best_first(fused, FEEDBACK_TOP)]
        moved = feedback_query(vector, self.dense.article_vectors(top))
        feedback = self.dense.article_scores(
            moved, self.dense.languages_of(vector_positions))[vector_positions]
        return add_feedback(fused, feedback, weights)
