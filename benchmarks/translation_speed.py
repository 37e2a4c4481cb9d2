"""What query translation costs: search latency of Swedish and Russian questions with and without it.

Run: .venv/bin/python benchmarks/translation_speed.py --eval-set <folder with corpus.jsonl and
queries.jsonl> [--lexicon-dir DIR] [--rounds 3]
Writes benchmarks/translation_speed.json and benchmarks/translation_speed.md.

The knowledge base is the evaluation set's corpus (articles in several languages, some only in
English), indexed with the configured model. Every Swedish and Russian question is searched
uncached by two engines over the same index, one with the translator and one without, in
alternating order, and the per-question latencies are compared. Without a lexicon folder (the
LEXICON_DIR setting), only the lexicon learned from the translated articles is used.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.searcher import embedder_for, imported_lexicon, model_for, ranking_config  # noqa: E402
from kb.settings import load_settings  # noqa: E402
from search.document import document_from_record  # noqa: E402
from search.engine import SearchEngine  # noqa: E402
from search.evaluation import read_jsonl  # noqa: E402
from search.index import SearchIndex  # noqa: E402
from search.query_translation import translator_for  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class TextCounter:
    """The model, counting the texts each search embeds (into the last slot of `counts`)."""

    def __init__(self, model: object, counts: list[int]):
        self.model, self.counts = model, counts

    def __getattr__(self, name: str) -> object:
        return getattr(self.model, name)

    def encode_queries(self, texts: list[str]) -> object:
        self.counts[-1] += len(texts)
        return self.model.encode_queries(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-set", type=Path, required=True)
    parser.add_argument("--lexicon-dir", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = dict(load_settings())
    if args.lexicon_dir:
        settings["LEXICON_DIR"] = str(args.lexicon_dir)
    records = read_jsonl(args.eval_set / "corpus.jsonl")
    questions = [q for q in read_jsonl(args.eval_set / "queries.jsonl") if q["lang"] in ("sv", "ru")]
    documents = [document_from_record(r, "group" if "group" in r else "id") for r in records]
    index = SearchIndex.build(documents, embedder_for(settings))
    model = model_for(settings)
    translator = translator_for(index, imported_lexicon(settings))
    config = ranking_config(settings, model.name)
    languages = settings["LANGUAGES"]
    timings: dict[str, list[float]] = {"without": [], "with": []}
    translate_ms: list[float] = []
    encoded: list[int] = []  # texts embedded per translated search
    for text in ("warm up", "värm upp", "разогрев"):
        SearchEngine(index, model, languages, config, translator).search(text)
    for round_number in range(args.rounds):
        plain = SearchEngine(index, model, languages, config, None)
        translating = SearchEngine(index, TextCounter(model, encoded), languages, config,
                                   translator)
        for number, question in enumerate(questions):
            order = [("without", plain), ("with", translating)]
            if (number + round_number) % 2:
                order.reverse()
            for name, engine in order:
                if engine is translating:
                    encoded.append(0)
                response = engine.search(question["text"], limit=10)
                timings[name].append(response.took_ms)
            started = time.perf_counter()
            translator.translate(question["text"], question["lang"])
            translate_ms.append((time.perf_counter() - started) * 1000)
    deltas = [w - o for w, o in zip(timings["with"], timings["without"])]
    report = {
        "questions": len(questions), "rounds": args.rounds, "model": model.name,
        "lexicon_languages": translator.languages() if translator else [],
        "p50_ms_without": round(statistics.median(timings["without"]), 2),
        "p50_ms_with": round(statistics.median(timings["with"]), 2),
        "p95_ms_without": round(percentile(timings["without"], 0.95), 2),
        "p95_ms_with": round(percentile(timings["with"], 0.95), 2),
        "p50_added_ms": round(statistics.median(timings["with"]) - statistics.median(timings["without"]), 2),
        "median_per_question_added_ms": round(statistics.median(deltas), 2),
        "translate_step_p50_ms": round(statistics.median(translate_ms), 3),
        "share_embedded_twice": round(sum(n > 1 for n in encoded) / len(encoded), 3),
        "machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count()},
    }
    out = REPO / "benchmarks"
    (out / "translation_speed.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Query translation: added search latency", "",
        f"{report['questions']} Swedish and Russian questions x {args.rounds} rounds, searched "
        f"uncached in-process, model `{report['model']}`, lexicons: "
        f"{', '.join(report['lexicon_languages']) or 'none'}.", "",
        "| | without translation | with translation |", "|---|---:|---:|",
        f"| p50 ms | {report['p50_ms_without']} | {report['p50_ms_with']} |",
        f"| p95 ms | {report['p95_ms_without']} | {report['p95_ms_with']} |", "",
        f"- p50 added: {report['p50_added_ms']} ms (median of per-question differences "
        f"{report['median_per_question_added_ms']} ms)",
        f"- translating a question alone: p50 {report['translate_step_p50_ms']} ms",
        f"- questions embedded twice (translated, then as typed when nothing was close enough "
        f"through the translation): {report['share_embedded_twice']:.0%}", "",
    ]
    (out / "translation_speed.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
