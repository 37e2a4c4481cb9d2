"""Peer benchmark: this engine and txtai side by side on the same help centers and questions.

Run: .venv/bin/python benchmarks/peer.py [SET ...] [--dict FOLDER]
Needs the benchmark extra (`pip install -e ".[bench]"`: txtai). Writes peer.json and peer.md to
--output (default: benchmarks/). SET is a deflection help center (corpus.jsonl, queries.jsonl);
by default the five development ones.

- This engine: each help center indexed and searched exactly as `kb eval` does it (the whole
  collection one knowledge base, the question's language detected, fallback to English, and it
  may abstain). With --dict, open dictionaries are imported first (as `kb dict import`) and
  question translation uses them, as in a deployment that imported them.
- txtai: hybrid search (dense vectors plus its BM25 "scoring", fused by txtai), the same model
  (all-MiniLM-L6-v2 from the bundled package, offline) through sentence-transformers. txtai has
  no notion of a customer's language, so it is given the answer: one txtai index per served pool
  of the deflection protocol (the question's language plus the English-only topics), and each
  question searches its own language's pool. It never abstains (it always returns its top k).
- Both are scored by `search/evaluation.py` (Recall@3 with the deflection protocol's any-hit
  rule; abstention on off-topic questions).
- Latency: every question asked of both engines and encoded by the model alone, one after the
  other, in-process and on one thread each (as a worker with its share of 2 cores), so the
  ratios to the model's own time are measured in the same run. The model alone is timed in both
  runtimes: ONNX Runtime (what this engine runs) and PyTorch (what txtai runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.timing import percentile, timed_ms  # noqa: E402

DEFAULT_SETS = ("../shared/eval/deflection", "../shared/eval/deflection-2", "eval/deflection-3",
                "eval/deflection-4", "eval/deflection-5", "eval/deflection-6")
ENGINES = ("ours", "txtai")
THREADS = 1



class TxtaiPools:
    """txtai hybrid indexes of one help center, one per served pool (question language)."""

    def __init__(self, documents: Sequence[Any], languages: Sequence[str], model_path: Path):
        from txtai import Embeddings

        from search.evaluation import served_documents

        self.pools = {}
        for lang in languages:
            embeddings = Embeddings(path=str(model_path), method="sentence-transformers",
                                    hybrid=True, content=True)
            embeddings.index([{"id": d.id, "text": f"{d.title} {d.text}"}
                              for d in served_documents(documents, lang)])
            self.pools[lang] = embeddings

    def search(self, text: str, lang: str, limit: int = 10) -> list[str]:
        return [hit["id"] for hit in self.pools[lang].search(text, limit)]


def imported_dictionaries(folder: Path | None, work: Path) -> Any:
    """The open dictionaries in `folder` as `kb dict import` would store them, or None."""
    if folder is None:
        return None
    from search import load_lexicon_dir, read_dictionaries, write_tables

    if not folder.is_dir():
        raise SystemExit(f"--dict: {folder} is not a folder of dictionaries")
    write_tables(read_dictionaries([folder]), work / "lexicons")
    return load_lexicon_dir(work / "lexicons")


def run_set(folder: Path, embedder: Any, plain: Any, dictionaries: Any,
            model_path: Path) -> dict[str, Any]:
    """Both engines on one help center: outcomes per task and the timings of every question."""
    from search import (EvalDataError, TranslationSetup, collection_engine, collections_of,
                        ranking_config_for, read_jsonl)
    from search.evaluation import QueryOutcome, summarize_task

    try:
        corpus, queries = read_jsonl(folder / "corpus.jsonl"), read_jsonl(folder / "queries.jsonl")
    except EvalDataError as exc:
        raise SystemExit(f"{folder}: {exc}")
    outcomes: dict[str, dict[str, list[QueryOutcome]]] = {e: defaultdict(list) for e in ENGINES}
    times: dict[str, list[float]] = {key: [] for key in [*ENGINES, "encode_onnx", "encode_torch"]}
    for collection, documents, wanted in collections_of(corpus, queries):
        print(f"{folder.name}: {collection}, {len(documents)} articles, {len(wanted)} questions",
              flush=True)
        ours = collection_engine(documents, embedder, ["en", "sv", "ru"],
                                 ranking_config_for(embedder.name),
                                 TranslationSetup(dictionaries=dictionaries))
        peer = TxtaiPools(documents, sorted({q["lang"] for q in wanted}), model_path)
        ours.search("warm up")
        for lang in peer.pools:
            peer.search("warm up", lang)
        for query in wanted:
            text = query["text"]
            took, response = timed_ms(lambda: ours.search(text, limit=10))
            times["ours"].append(took)
            outcomes["ours"][query["task"]].append(
                QueryOutcome(query, [r.id for r in response.results], took))
            took, ranked = timed_ms(lambda: peer.search(text, query["lang"]))
            times["txtai"].append(took)
            outcomes["txtai"][query["task"]].append(QueryOutcome(query, ranked, took))
            times["encode_onnx"].append(timed_ms(lambda: embedder.encode_queries([text]))[0])
            times["encode_torch"].append(timed_ms(lambda: plain.encode([text]))[0])
    quality = {engine: {task: summarize_task(found, any_hit=True)
                        for task, found in sorted(outcomes[engine].items())}
               for engine in ENGINES}
    return {"quality": quality, "times": times}


def latency_of(times: dict[str, list[float]]) -> dict[str, Any]:
    p50 = {key: statistics.median(values) for key, values in times.items()}
    out: dict[str, Any] = {"questions": len(times["ours"])}
    for key, values in times.items():
        out[key] = {"p50_ms": round(p50[key], 2), "p99_ms": round(percentile(values, 99), 2)}
    for engine, floor in (("ours", "encode_onnx"), ("txtai", "encode_torch")):
        out[engine]["floor"] = floor
        out[engine]["p50_over_own_model"] = round(p50[engine] / p50[floor], 3)
        out[engine]["p99_over_own_model"] = round(percentile(times[engine], 99) / p50[floor], 3)
        out[engine]["p50_over_onnx_model"] = round(p50[engine] / p50["encode_onnx"], 3)
    out["txtai_p50_over_ours"] = round(p50["txtai"] / p50["ours"], 3)
    out["txtai_p99_over_ours"] = round(percentile(times["txtai"], 99)
                                       / percentile(times["ours"], 99), 3)
    return out


def write_report(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "peer.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    lat = results["latency"]
    lines = [
        "# Peer: this engine and txtai side by side", "",
        f"Produced by `benchmarks/peer.py`: txtai {results['txtai_version']} hybrid (dense + "
        "BM25 scoring) and this engine, the same model (all-MiniLM-L6-v2 from the bundled "
        f"package, offline), the same {len(results['sets'])} help centers and "
        f"{lat['questions']} questions, in one run on {results['machine']['cpus']} CPU cores "
        f"shared with other work; each engine and the model alone on {THREADS} thread. "
        f"Question translation: {results['dictionaries']}.", "",
        "txtai is told each question's language (it searches that language's served pool); "
        "this engine detects it. txtai has no notion of abstaining, so its abstention is 0.", "",
        "## Latency per question (in-process)", "",
        "| engine | p50 ms | p99 ms | p50 / its model alone | p99 / its model alone "
        "| p50 / model in ONNX Runtime |", "|---|---:|---:|---:|---:|---:|"]
    for engine, label in (("ours", "this engine (model in ONNX Runtime)"),
                          ("txtai", "txtai (model in PyTorch)")):
        row = lat[engine]
        lines.append(f"| {label} | {row['p50_ms']} | {row['p99_ms']} | "
                     f"{row['p50_over_own_model']} | {row['p99_over_own_model']} | "
                     f"{row['p50_over_onnx_model']} |")
    lines += ["", f"The model alone, one question: ONNX Runtime p50 {lat['encode_onnx']['p50_ms']} "
              f"ms, PyTorch p50 {lat['encode_torch']['p50_ms']} ms. txtai's p50 is "
              f"{lat['txtai_p50_over_ours']}x this engine's, its p99 "
              f"{lat['txtai_p99_over_ours']}x.", "",
              "## Quality (Recall@3; abstain tasks: share of off-topic questions answered "
              "with nothing)", "",
              "| help center | task | questions | this engine | txtai | false abstention: this "
              "engine / txtai |", "|---|---|---:|---:|---:|---:|"]
    for name, quality in results["quality"].items():
        for task, ours in quality["ours"].items():
            peer = quality["txtai"][task]
            key = "abstain_rate" if "abstain_rate" in ours else "recall@3"
            missed = (f"{ours['false_abstain_rate']} / {peer['false_abstain_rate']}"
                      if "false_abstain_rate" in ours else "")
            lines.append(f"| {name} | {task} | {int(ours['n'])} | {ours[key]} | {peer[key]} | "
                         f"{missed} |")
    lines += ["", "Mean over the answerable tasks of all help centers (Recall@3): this engine "
              f"{results['mean_recall@3']['ours']}, txtai {results['mean_recall@3']['txtai']}; "
              "over the abstain tasks (abstention): this engine "
              f"{results['mean_abstain_rate']['ours']}, txtai "
              f"{results['mean_abstain_rate']['txtai']}."]
    (out / "peer.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", type=Path, default=[REPO / s for s in DEFAULT_SETS],
                        help="deflection help centers (folders with corpus.jsonl, queries.jsonl)")
    parser.add_argument("--dict", type=Path, default=None,
                        help="open dictionaries to import for question translation "
                             "(as kb dict import); default: none")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args()
    try:
        import txtai  # noqa: F401
    except ImportError:
        raise SystemExit("txtai is not installed; install the benchmark extra: "
                         "pip install -e '.[bench]'")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never ask the network
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    from search import load_embedder
    from search.embedder import OFFLINE_MODEL, offline_model_path

    torch.set_num_threads(THREADS)
    with tempfile.TemporaryDirectory(prefix="kb-peer-") as tmp:
        work = Path(tmp)
        dictionaries = imported_dictionaries(args.dict, work)
        embedder = load_embedder(OFFLINE_MODEL, runtime="onnx", export_dir=work / "onnx")
        plain = SentenceTransformer(str(offline_model_path()), device="cpu")
        results: dict[str, Any] = {"quality": {}}
        times: dict[str, list[float]] = defaultdict(list)
        for folder in args.sets:
            if not (folder / "queries.jsonl").is_file():
                raise SystemExit(f"{folder}: no queries.jsonl (a deflection help center has "
                                 "corpus.jsonl and queries.jsonl)")
            done = run_set(folder, embedder, plain, dictionaries, offline_model_path())
            results["quality"][folder.name] = done["quality"]
            for key, values in done["times"].items():
                times[key] += values
    answerable = defaultdict(list)
    abstain = defaultdict(list)
    for quality in results["quality"].values():
        for engine in ENGINES:
            for metrics in quality[engine].values():
                if "abstain_rate" in metrics:
                    abstain[engine].append(metrics["abstain_rate"])
                else:
                    answerable[engine].append(metrics["recall@3"])
    results.update({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "txtai_version": metadata.version("txtai"),
        "model": embedder.name, "runtime": embedder.runtime, "threads": THREADS,
        "sets": [folder.name for folder in args.sets],
        "dictionaries": "open dictionaries imported (--dict)" if args.dict else
                        "learned from each help center's translations only (no --dict)",
        "latency": latency_of(times),
        "mean_recall@3": {e: round(statistics.mean(answerable[e]), 4) for e in ENGINES},
        "mean_abstain_rate": {e: round(statistics.mean(abstain[e]), 4) for e in ENGINES}})
    write_report(results, args.output)
    print(json.dumps({k: results[k] for k in ("latency", "mean_recall@3", "mean_abstain_rate")},
                     indent=1), flush=True)


if __name__ == "__main__":
    main()
