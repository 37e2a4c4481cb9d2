"""What the decision's newest evidence costs: looking up a question's words in the knowledge base.

Run: .venv/bin/python benchmarks/familiarity_cost.py --eval-set <folder with corpus.jsonl and
queries.jsonl> [--eval-set ...] [--lexicon-dir DIR]
Writes benchmarks/familiarity_cost.json and benchmarks/familiarity_cost.md.

Every question of each set (all languages, off-topic ones included) is searched once, in order,
by an engine over that set's corpus, as the service would meet them: the word look-ups a
question repeats are remembered from earlier questions. For each search the time of the
familiarity step (search/vocabulary.py) is taken next to the whole search's, in the same run,
so the ratio holds on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.timing import percentile, timed_ms  # noqa: E402
from kb.searcher import embedder_for, imported_lexicon, ranking_config  # noqa: E402
from kb.settings import load_settings  # noqa: E402
from search.document import document_from_record  # noqa: E402
from search.engine import SearchEngine  # noqa: E402
from search.evaluation import read_jsonl  # noqa: E402
from search.index import SearchIndex  # noqa: E402
from search.query_translation import translator_for  # noqa: E402


def measure(folder: Path, settings: dict) -> tuple[list[float], list[float]]:
    """Per question of the set: the familiarity step's milliseconds and the whole search's."""
    records = read_jsonl(folder / "corpus.jsonl")
    documents = [document_from_record(r, "group" if "group" in r else "id") for r in records]
    embedder = embedder_for(settings)
    index = SearchIndex.build(documents, embedder)
    engine = SearchEngine(index, embedder, settings["LANGUAGES"],
                          ranking_config(settings, embedder.name),
                          translator_for(index, imported_lexicon(settings)))
    engine.warm_up()
    step, search = [], []
    for question in read_jsonl(folder / "queries.jsonl"):
        text = question["text"]
        lang = engine.query.read(text, None, (), False).guess.lang
        step.append(timed_ms(lambda: engine.vocabulary.familiarity(text, lang))[0])
        search.append(timed_ms(lambda: engine.search(text))[0])
    return step, search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-set", type=Path, action="append", required=True)
    parser.add_argument("--lexicon-dir", type=Path)
    args = parser.parse_args()
    settings = dict(load_settings())
    if args.lexicon_dir:
        settings["LEXICON_DIR"] = str(args.lexicon_dir)
    step: list[float] = []
    search: list[float] = []
    for folder in args.eval_set:
        more_step, more_search = measure(folder, settings)
        step += more_step
        search += more_search
    result = {
        "questions": len(step), "sets": [folder.name for folder in args.eval_set],
        "familiarity_ms": {"p50": percentile(step, 50), "p99": percentile(step, 99),
                           "max": max(step), "mean": sum(step) / len(step)},
        "search_ms": {"p50": percentile(search, 50), "p99": percentile(search, 99)},
        "machine": {"python": platform.python_version()},
    }
    result["familiarity_p50_over_search_p50"] = (result["familiarity_ms"]["p50"]
                                                 / result["search_ms"]["p50"])
    out = REPO / "benchmarks"
    (out / "familiarity_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    step_ms, search_ms = result["familiarity_ms"], result["search_ms"]
    (out / "familiarity_cost.md").write_text(
        "# The decision's word look-up: what it adds to a search\n\n"
        f"{len(step)} questions of {', '.join(result['sets'])}, each searched once in order, "
        "in-process, with the configured model and lexicons. Produced by "
        "`benchmarks/familiarity_cost.py`.\n\n"
        "| | p50 ms | p99 ms | max ms | mean ms |\n|---|---:|---:|---:|---:|\n"
        f"| familiarity (search/vocabulary.py) | {step_ms['p50']:.3f} | {step_ms['p99']:.3f} | "
        f"{step_ms['max']:.3f} | {step_ms['mean']:.3f} |\n"
        f"| the whole search | {search_ms['p50']:.2f} | {search_ms['p99']:.2f} | | |\n\n"
        f"- familiarity p50 / search p50: {result['familiarity_p50_over_search_p50']:.3f}\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
