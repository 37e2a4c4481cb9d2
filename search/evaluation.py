"""`kb eval`: the evaluation protocol of the shared dev sets (retrieval and deflection).

Retrieval sets: each task is searched within its pool (same collection, the task's article
language), and the engine is told the query's language. Deflection sets (collections named
`deflect_*`): the whole collection is one knowledge base in several languages, and the engine runs
exactly as in production (it detects the language, prefers it, falls back, and may abstain).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from search.baseline import PlainBM25
from search.document import Document, document_from_record
from search.embedder import Embedder
from search.engine import SearchEngine
from search.index import SearchIndex
from search.lexicon import Lexicon
from search.query_translation import QueryTranslator, translator_for
from search.ranking import RankingConfig, ranking_config_for
from search.tuning import decision_off


class EvalDataError(ValueError):
    """An evaluation file that cannot be read; the message names the file and line."""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except ValueError as exc:
                        raise EvalDataError(f"{path}:{number}: not valid JSON ({exc})") from None
    except OSError as exc:
        raise EvalDataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return rows


@dataclass(frozen=True)
class TranslationSetup:
    """Which lexicons query translation uses: imported dictionaries, the learned one, or none."""

    dictionaries: Lexicon | None = None
    learned: bool = True
    enabled: bool = True

    def translator(self, index: SearchIndex) -> QueryTranslator | None:
        if not self.enabled:
            return None
        return translator_for(index, self.dictionaries, self.learned)


@dataclass
class QueryOutcome:
    """The ranked article ids for one query, with what it took."""

    query: dict[str, Any]
    ranked: list[str]
    took_ms: float


@dataclass
class EvalReport:
    """Per-task metrics, macro averages, model and latency: what `kb eval --json` prints."""

    tasks: dict[str, dict[str, float]] = field(default_factory=dict)
    macro: dict[str, float] = field(default_factory=dict)
    model: str = ""
    latency_ms: dict[str, float] = field(default_factory=dict)
    # The same tasks scored by plain BM25 on the same pools (search/baseline.py).
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": self.tasks, "macro": self.macro, "model": self.model,
                "latency_ms": self.latency_ms, "baseline": self.baseline}

    def below_baseline(self, metric: str = "recall@3", tolerance: float = 0.0) -> list[str]:
        """Answerable tasks where the engine scores below plain BM25 on `metric`."""
        return [task for task, metrics in self.tasks.items()
                if metric in metrics and task in self.baseline
                and metrics[metric] < self.baseline[task].get(metric, 0.0) - tolerance]


def query_metrics(ranked: Sequence[str], relevant: Iterable[str],
                  any_hit: bool = False) -> dict[str, float]:
    """Binary-relevance metrics of one ranked list (see the dev set README). With `any_hit`
    (the deflection protocol), a query whose problem two articles solve is found when either is
    among the first k: the customer needs one answer, not both."""
    relevant = set(relevant)
    top10 = list(ranked[:10])
    hits = [doc in relevant for doc in top10]
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    first = next((i for i, hit in enumerate(hits) if hit), None)

    def recall(k: int) -> float:
        found = len(relevant & set(ranked[:k]))
        return float(found > 0) if any_hit else found / len(relevant)

    return {"ndcg@10": dcg / ideal if ideal else 0.0,
            "mrr@10": 1 / (first + 1) if first is not None else 0.0,
            "recall@1": recall(1), "recall@3": recall(3), "recall@10": recall(10)}


def summarize_task(outcomes: Sequence[QueryOutcome], any_hit: bool = False) -> dict[str, float]:
    """Mean metrics over a task's queries; abstain tasks report how often nothing was shown."""
    answerable = [o for o in outcomes if o.query.get("relevant_ids")]
    summary: dict[str, float] = {"n": len(outcomes)}
    if answerable:
        per_query = [query_metrics(o.ranked, o.query["relevant_ids"], any_hit)
                     for o in answerable]
        for name in per_query[0]:
            summary[name] = round(float(np.mean([m[name] for m in per_query])), 4)
        summary["false_abstain_rate"] = round(
            sum(1 for o in answerable if not o.ranked) / len(answerable), 4)
    else:
        summary["abstain_rate"] = round(sum(1 for o in outcomes if not o.ranked) / len(outcomes), 4)
    return summary


def _is_deflection(queries: Sequence[Mapping[str, Any]]) -> bool:
    return any(str(q.get("collection", "")).startswith("deflect") for q in queries)


def collections_of(corpus: Sequence[Mapping[str, Any]], queries: Sequence[Mapping[str, Any]]
                ) -> list[tuple[str, list[Document], list[Mapping[str, Any]]]]:
    """Each collection that has queries: its documents (a deflection collection is one help
    center, translations sharing their `group` as slug) and its queries."""
    deflection = _is_deflection(queries)
    by_collection: dict[str, list[Document]] = defaultdict(list)
    for record in corpus:
        by_collection[str(record.get("collection", ""))].append(
            document_from_record(record, "group" if deflection else "id"))
    out = []
    for collection, documents in sorted(by_collection.items()):
        wanted = [q for q in queries if q.get("collection", "") == collection]
        if wanted:
            out.append((collection, documents, wanted))
    return out


def collection_engine(documents: Sequence[Document], embedder: Embedder,
                      languages: Sequence[str], config: RankingConfig,
                      translation: TranslationSetup) -> SearchEngine:
    """An engine over one collection, built as `kb index` and the service build theirs."""
    index = SearchIndex.build(documents, embedder)
    doc_langs = sorted({d.lang for d in documents})
    return SearchEngine(index, embedder, [lang for lang in languages if lang in doc_langs]
                        or doc_langs, config, translation.translator(index))


def evaluate(corpus: Sequence[Mapping[str, Any]], queries: Sequence[Mapping[str, Any]],
             embedder: Embedder, languages: Sequence[str], config: RankingConfig | None = None,
             progress: Callable[[str], None] | None = None,
             translation: TranslationSetup | None = None) -> EvalReport:
    """Run every query of the set and score it by the protocol of its kind, ranked by `config`
    (by default the model's, as the service ranks)."""
    translation = translation or TranslationSetup()
    config = config or ranking_config_for(
        embedder.name, dictionary_languages=(translation.dictionaries or Lexicon())
        .dictionary_languages())
    deflection = _is_deflection(queries)
    outcomes: dict[str, list[QueryOutcome]] = defaultdict(list)
    baseline_outcomes: dict[str, list[QueryOutcome]] = defaultdict(list)
    for collection, documents, wanted in collections_of(corpus, queries):
        if progress:
            progress(f"{collection}: indexing {len(documents)} articles, {len(wanted)} queries")
        # Retrieval tasks rank a pool to the tenth article: no decision to make there.
        engine = collection_engine(documents, embedder, languages,
                                   config if deflection else decision_off(config), translation)
        for query in wanted:
            if deflection:
                response = engine.search(query["text"], limit=10)
            else:
                doc_lang = query["doc_lang"]
                response = engine.search(query["text"], lang=query["lang"], limit=10,
                                         trust_lang=True,
                                         pool=lambda d, dl=doc_lang: d.lang == dl)
            outcomes[query["task"]].append(
                QueryOutcome(dict(query), [r.id for r in response.results], response.took_ms))
        baselines: dict[str, PlainBM25] = {}
        for query in wanted:
            pool_lang = query["lang"] if deflection else query["doc_lang"]
            if pool_lang not in baselines:
                baselines[pool_lang] = PlainBM25(
                    served_documents(documents, pool_lang) if deflection
                    else [d for d in documents if d.lang == pool_lang])
            baseline_outcomes[query["task"]].append(
                QueryOutcome(dict(query), baselines[pool_lang].rank(query["text"]), 0.0))
    report = EvalReport(model=embedder.name)
    for task in sorted(outcomes):
        report.tasks[task] = summarize_task(outcomes[task], any_hit=deflection)
        report.baseline[task] = summarize_task(baseline_outcomes[task], any_hit=deflection)
    report.macro = macro_averages(report.tasks)
    latencies = [o.took_ms for task in outcomes.values() for o in task]
    if latencies:
        report.latency_ms = {"p50": round(float(np.percentile(latencies, 50)), 2),
                             "p95": round(float(np.percentile(latencies, 95)), 2)}
    return report


def served_documents(documents: Sequence[Document], lang: str,
                     fallback: str = "en") -> list[Document]:
    """The deflection protocol's pool for a customer of `lang`: their language, and the
    `fallback` version of topics not translated into it."""
    has_lang = {d.slug for d in documents if d.lang == lang}
    return [d for d in documents
            if d.lang == lang or (d.lang == fallback and d.slug not in has_lang)]


def macro_averages(tasks: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Means over tasks (never pooled by query count): monolingual, cross-lingual, per language."""
    groups: dict[str, list[str]] = defaultdict(list)
    for task, metrics in tasks.items():
        if "abstain_rate" in metrics:
            groups["abstain"].append(task)
            continue
        kind = "cross_lingual" if "2en" in task else "monolingual"
        groups[kind].append(task)
        groups["all"].append(task)
        suffix = task.rsplit("_", 1)[-1]
        if kind == "monolingual" and len(suffix) == 2:
            groups[f"monolingual_{suffix}"].append(task)
    macro: dict[str, float] = {}
    for group, names in groups.items():
        keys = ["abstain_rate"] if group == "abstain" else ["ndcg@10", "mrr@10", "recall@1",
                                                            "recall@3", "recall@10"]
        for key in keys:
            macro[f"{group}/{key}"] = round(float(np.mean([tasks[t][key] for t in names])), 4)
    return macro
