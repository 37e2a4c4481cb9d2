"""What a search costs in CPU time, in one process: the model alone, the engine, the whole request.

Run: .venv/bin/python benchmarks/request_cost.py --workdir DIR [--output benchmarks/]
DIR is a --workdir of benchmarks/load.py (its knowledge base, index and embedding cache).
Writes request_cost.json and request_cost.md.

CPU time (`time.process_time`) instead of the clock: on a machine that other work shares, a
thread waiting for a core adds wall time that has nothing to do with the code measured. Each new
question goes through three steps in turn, so all three see the same conditions:

1. the runtime floor: `encode_queries([question])`, the model in the service's runtime (the
   question's tokens read by the tokenizer's core, search/direct_tokens.py); and, for comparison,
   the same encode with the model's own preprocessing, as the service did before;
2. the engine: `SearchEngine.search` (language, keywords, the model, fusion, snippets);
3. the whole request through Flask's test client, with a session id as the widget sends it
   (routing, validation, rate limit, recording the search, the JSON answer);

and then the same request again, answered from the worker's cache. What the web stack adds
under gunicorn (reading the request, writing the answer) is in benchmarks/load.py instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from load import QUESTIONS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    os.environ.update({"HF_HUB_OFFLINE": "1", "KB_INSTANCE_PATH": str(workdir / "instance"),
                       "KB_ARTICLES_DIR": str(workdir / "articles"),
                       "KB_RATE_LIMIT_SEARCH": "100000000/minute"})
    import torch

    from kb import create_app
    from kb.services import services
    from search.embedder import SentenceTransformerEmbedder

    app = create_app()
    client = app.test_client()
    engine = services(app).live_index.current().engine
    # A gunicorn worker runs PyTorch on its share of the cores (gunicorn.conf.py): the model's
    # own preprocessing makes PyTorch tensors, so it is measured with the same share.
    torch.set_num_threads(1)
    preprocessing = SentenceTransformerEmbedder(
        app.config["MODEL"], runtime=app.config["MODEL_RUNTIME"],
        export_dir=Path(app.config["CACHE_DIR"]) / "onnx", direct_tokens=False)
    languages = list(QUESTIONS)
    questions = [f"{QUESTIONS[languages[n % 3]][n // 3 % 6]} {n}" for n in range(args.questions)]
    steps: dict[str, list[float]] = {"runtime_floor": [], "engine": [], "request": [],
                                     "cache_hit_request": [],
                                     "encode_with_the_model_preprocessing": []}

    def cpu_ms(action) -> float:  # type: ignore[no-untyped-def]
        started = time.process_time()
        action()
        return (time.process_time() - started) * 1000

    for number, question in enumerate(questions):
        path = (f"/api/v1/search?limit=5&session_id=cost-{number}&q="
                f"{urllib.parse.quote_plus(question + ' web')}")
        steps["runtime_floor"].append(cpu_ms(lambda: engine.embedder.encode_queries([question])))
        steps["encode_with_the_model_preprocessing"].append(
            cpu_ms(lambda: preprocessing.encode_queries([question])))
        steps["engine"].append(cpu_ms(lambda: engine.search(question + " engine")))
        steps["request"].append(cpu_ms(lambda: client.get(path)))
        steps["cache_hit_request"].append(cpu_ms(lambda: client.get(path)))
    services(app).event_log.close()
    p50 = {name: round(statistics.median(values), 3) for name, values in steps.items()}
    floor = p50["runtime_floor"]
    results = {"questions": len(questions), "cpu_p50_ms": p50,
               "engine_over_runtime_floor": round(p50["engine"] / floor, 2),
               "request_over_runtime_floor": round(p50["request"] / floor, 2)}
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "request_cost.json").write_text(json.dumps(results, indent=2) + "\n",
                                                   encoding="utf-8")
    lines = ["# CPU time of a search, in one process", "",
             f"{len(questions)} new questions (en, sv, ru) in turn, median CPU ms. Produced by "
             "`benchmarks/request_cost.py`.", "",
             "| step | CPU ms (p50) | over the runtime floor |", "|---|---:|---:|",
             *(f"| {name.replace('_', ' ')} | {value} | {round(value / floor, 2)} |"
               for name, value in p50.items()), ""]
    (args.output / "request_cost.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
