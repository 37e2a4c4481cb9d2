"""Scale benchmark: how build time, index size, memory per worker and search latency grow with the
knowledge base, exact vector search next to HNSW on the same vectors.

Run: .venv/bin/python benchmarks/scale.py [--sizes 1000,10000,100000] [--work-dir DIR]
Writes scale.json and scale.md to --output (default: benchmarks/).

1. For each size, writes a synthetic help center of exactly that many chunks in en/sv/ru
   (`benchmarks/synthetic_kb.py`) and indexes it as `kb index` does (the model in its runtime,
   batches on every core). The build's time and its size on disk are recorded. With --work-dir
   the help centers, their embedding caches and the build records are kept, so a repeated run
   reuses them (the recorded build time is the first, cold one).
2. Builds the same vectors a second time with the other vector index: exact (flat) where the
   default (`KB_HNSW_THRESHOLD`, 50,000 chunks) chose HNSW, HNSW where it chose exact. The
   vectors come from the embedding cache, so both indexes hold the same vectors.
3. Serves each default index under gunicorn (2 workers, `gunicorn.conf.py`), asks every worker
   a few distinct questions, and reads each worker's private memory (Private_Clean +
   Private_Dirty in /proc/PID/smaps_rollup: what an extra worker adds), as benchmarks/load.py does.
4. Loads every index in this process and times `SearchEngine.search` (the library's public
   interface) on distinct questions, in rounds that alternate between every index and the model
   alone encoding the question in the same runtime (the denominator of every ratio), so the
   machine's other load weighs on all alike.
5. Recall@10 of HNSW against exact: the ten nearest chunk vectors of each question's vector in
   both indexes of one size; and how often the engine's top five answers are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.timing import percentile, timed_ms  # noqa: E402

from benchmarks.synthetic_kb import LANGUAGES, questions, write_knowledge_base  # noqa: E402
from search.index import DEFAULT_HNSW_THRESHOLD  # noqa: E402  (light: not the model stack)

EXACT, APPROXIMATE = "flat", "hnsw"
NEVER = 10 ** 12  # an HNSW threshold no knowledge base reaches: exact search


def recall_at_k(exact: Sequence[Sequence[int]], approximate: Sequence[Sequence[int]],
                k: int = 10) -> float:
    """Mean share of each query's exact top-k that the approximate top-k also found."""
    if len(exact) != len(approximate):
        raise ValueError("one list of neighbours per query in both")
    shares = [len(set(e[:k]) & set(a[:k])) / min(k, len(e[:k]))
              for e, a in zip(exact, approximate) if len(e)]
    return sum(shares) / len(shares) if shares else 0.0



def folder_mb(folder: Path, skip: str = "") -> float:
    """Size of the files under `folder` (MB), leaving out the sub-folder named `skip`."""
    return sum(f.stat().st_size for f in folder.rglob("*")
               if f.is_file() and not (skip and skip in f.relative_to(folder).parts)) / 2 ** 20


def default_kind_of(size: int) -> str:
    """The vector index `kb index` gives the chunks of a knowledge base of `size` chunks."""
    return APPROXIMATE if size >= DEFAULT_HNSW_THRESHOLD else EXACT


def settings_for(work: Path, size: int, kind: str) -> dict[str, Any]:
    """Settings of one size's instance; both kinds share the knowledge base and the cache."""
    from kb.settings import load_settings

    default_kind = default_kind_of(size)
    if kind == default_kind:
        threshold = DEFAULT_HNSW_THRESHOLD
    else:
        # The other kind for the chunks; the articles (fewer) stay exact as the default keeps them.
        threshold = NEVER if kind == EXACT else size
    instance = work / f"size-{size}" / "instance"
    settings = load_settings(overrides={"INSTANCE_PATH": str(instance),
                                        "LANGUAGES": list(LANGUAGES),
                                        "HNSW_THRESHOLD": threshold})
    settings["ARTICLES_DIR"] = str(work / f"size-{size}" / "articles")
    settings["CACHE_DIR"] = str(instance / "cache")
    settings["INDEX_DIR"] = str(instance / ("index" if kind == default_kind else f"index-{kind}"))
    return settings


def build(work: Path, size: int, kind: str) -> dict[str, Any]:
    """Build one size's index of `kind` unless kept from an earlier run; its build record."""
    from kb.searcher import build_and_publish, model_for

    settings = settings_for(work, size, kind)
    record_file = Path(settings["INDEX_DIR"] + ".build.json")
    if record_file.is_file() and Path(settings["INDEX_DIR"]).exists():
        return json.loads(record_file.read_text(encoding="utf-8"))
    articles = Path(settings["ARTICLES_DIR"])
    if not articles.is_dir():
        write_knowledge_base(articles, size)
    model_for(settings).document_threads = os.cpu_count() or 1  # as kb index does
    last = [0.0]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 60 or done == total:
            last[0] = time.monotonic()
            print(f"  {size} {kind}: embedded {done}/{total} texts", flush=True)

    made = build_and_publish(settings, articles, progress=progress)
    if made.articles.errors:
        raise SystemExit(f"synthetic articles do not parse: {made.articles.errors[:3]}")
    target = made.report.path
    assert target is not None
    record = {"size": size, "kind": kind, "articles": made.report.documents,
              "chunks": made.report.chunks, "texts_embedded": made.report.embedded,
              "texts_reused": made.report.reused, "seconds": round(made.report.seconds, 1),
              "chunk_index": made.index.manifest["index_kind"]["chunks"],
              "article_index": made.index.manifest["index_kind"]["articles"],
              "index_mb": round(folder_mb(target, skip="articles"), 1),
              "articles_copy_mb": round(folder_mb(target / "articles"), 1)}
    record_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"  built {record}", flush=True)
    return record


def worker_memory(work: Path, size: int, asked: list[tuple[str, str]],
                  per_worker: int) -> dict[str, Any]:
    """Private memory of each gunicorn worker serving one size's default index."""
    from benchmarks.load import (free_port, memory_mb, start_server, stop_server, wait_healthy,
                                 worker_pids)

    settings = settings_for(work, size, default_kind_of(size))
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_INSTANCE_PATH": settings["INSTANCE_PATH"],
           "KB_ARTICLES_DIR": settings["ARTICLES_DIR"], "KB_BIND": f"127.0.0.1:{port}",
           "KB_LANGUAGES": ",".join(LANGUAGES), "KB_RATE_LIMIT_SEARCH": "100000000/minute",
           "KB_MODEL_FALLBACK": "false"}
    url = f"http://127.0.0.1:{port}"
    workers = 2
    server = start_server(env, workers)
    try:
        started = time.monotonic()
        wait_healthy(url, seconds=1800)
        ready_seconds = time.monotonic() - started
        for text, lang in asked[:per_worker * workers]:
            query = urllib.parse.urlencode({"q": text, "lang": lang, "limit": 5})
            with urllib.request.urlopen(f"{url}/api/v1/search?{query}", timeout=120) as reply:
                reply.read()
        time.sleep(1)
        memory = {"master": memory_mb(server.pid),
                  "workers": [memory_mb(pid) for pid in worker_pids(server.pid)]}
    finally:
        stop_server(server)
    return {"workers": workers, "ready_seconds": round(ready_seconds, 1),
            "worker_private_mb": round(statistics.mean(w["private_mb"]
                                                       for w in memory["workers"]), 1),
            **memory}


def measure_search(work: Path, sizes: list[int], asked: list[tuple[str, str]],
                   rounds: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Search latency of every index next to the model's own encoding, and HNSW's recall."""
    from kb.searcher import model_for
    from search import Lexicon, SearchEngine, SearchIndex, ranking_config_for, translator_for

    embedder = model_for(settings_for(work, sizes[0], EXACT))
    embedder.document_threads = 1  # as a worker runs it
    engines = {}
    for size in sizes:
        for kind in (EXACT, APPROXIMATE):
            index = SearchIndex.load(Path(settings_for(work, size, kind)["INDEX_DIR"]),
                                     embedder.name)
            engine = SearchEngine(index, embedder, list(LANGUAGES),
                                  ranking_config_for(embedder.name, "en"),
                                  translator_for(index, Lexicon()))
            engine.search("warm up", lang="en")  # keyword indexes are built on first use
            engines[(size, kind)] = engine
    times: dict[Any, list[float]] = {key: [] for key in [*engines, "encode"]}
    answers: dict[Any, list[list[str]]] = {key: [] for key in engines}
    per_round = len(asked) // rounds
    for number in range(rounds):
        batch = asked[number * per_round:(number + 1) * per_round]
        # Each round gives every index and the model the same questions, one after the other.
        for key in ["encode", *engines]:
            for text, lang in batch:
                if key == "encode":
                    times[key].append(timed_ms(lambda: embedder.encode_queries([text]))[0])
                    continue
                took, response = timed_ms(lambda: engines[key].search(text, lang=lang, limit=5))
                times[key].append(took)
                answers[key].append([r.id for r in response.results])
    encode_p50 = statistics.median(times["encode"])
    latency: dict[str, Any] = {
        "questions": len(times["encode"]), "rounds": rounds,
        "encode_p50_ms": round(encode_p50, 2),
        "encode_p99_ms": round(percentile(times["encode"], 99), 2)}
    for (size, kind), values in ((k, v) for k, v in times.items() if k != "encode"):
        p50, p99 = statistics.median(values), percentile(values, 99)
        latency[f"{size}-{kind}"] = {
            "size": size, "kind": kind, "default": kind == default_kind_of(size),
            "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
            "p50_over_encode": round(p50 / encode_p50, 3),
            "p99_over_encode": round(p99 / encode_p50, 3),
            "p50_minus_encode_ms": round(p50 - encode_p50, 2)}
    recall = {}
    vectors = embedder.encode_queries([text for text, _ in asked])
    for size in sizes:
        exact, approximate = engines[(size, EXACT)].index, engines[(size, APPROXIMATE)].index
        found = {kind: [index.chunk_vectors.search(vector, 10)[1].tolist() for vector in vectors]
                 for kind, index in ((EXACT, exact), (APPROXIMATE, approximate))}
        pairs = list(zip(answers[(size, EXACT)], answers[(size, APPROXIMATE)]))
        recall[str(size)] = {
            "questions": len(vectors),
            "hnsw_recall_at_10": round(recall_at_k(found[EXACT], found[APPROXIMATE]), 4),
            # What a customer sees: the engine's answers with either index.
            "same_first_answer": round(sum(a[:1] == b[:1] for a, b in pairs) / len(pairs), 4),
            "top5_answers_overlap": round(recall_at_k([a for a, _ in pairs],
                                                      [b for _, b in pairs], k=5), 4)}
    return latency, recall


def write_report(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    latency, recall = results["latency"], results["recall"]
    lines = [
        "# Scale", "",
        f"Model `{results['model']}` in {results['runtime']}, {results['machine']['cpus']} CPU "
        f"cores (shared with other work), Python {results['machine']['python']}. Produced by "
        "`benchmarks/scale.py`: synthetic help centers in en/sv/ru of exactly the given number of "
        "chunks. Every latency in one run, in alternating rounds; the model alone encoding the "
        f"question (same runtime, one thread) took p50 {latency['encode_p50_ms']} ms / p99 "
        f"{latency['encode_p99_ms']} ms over {latency['questions']} questions.", "",
        "## Build, size on disk, memory per worker", "",
        "| chunks | articles | default index (chunks / articles) | build s | chunks/s | index MB "
        "| worker private MB | master RSS MB |", "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for size in results["sizes"]:
        b = results["builds"][str(size)]
        memory = results["memory"].get(str(size), {})
        lines.append(f"| {b['chunks']} | {b['articles']} | {b['chunk_index']} / "
                     f"{b['article_index']} | {b['seconds']} | "
                     f"{round(b['chunks'] / b['seconds'], 1) if b['seconds'] else '-'} | "
                     f"{b['index_mb']} | {memory.get('worker_private_mb', 'not measured')} | "
                     f"{memory.get('master', {}).get('rss_mb', 'not measured')} |")
    lines += ["", "Build time is `kb index`'s work (parse, chunk, embed every text on both cores, "
              "build the indexes, publish), recorded by the run that built it from nothing; the "
              "embedded texts are the chunks plus one per article. Index MB leaves out the copy of the article files a build carries. "
              "Worker private memory: Private_Clean + Private_Dirty of each of 2 gunicorn "
              "workers after answering a few questions (what an extra worker adds); the "
              "master's RSS holds the model and the index, which the workers share.", "",
              "## Search latency (in-process, `SearchEngine.search`)", "",
              "| chunks | vector index | p50 ms | p99 ms | p50 / encode | p99 / encode "
              "| p50 - encode ms |", "|---:|---|---:|---:|---:|---:|---:|"]
    for size in results["sizes"]:
        for kind in (EXACT, APPROXIMATE):
            row = latency[f"{size}-{kind}"]
            label = f"{'exact' if kind == EXACT else 'HNSW'}{' (default)' if row['default'] else ''}"
            lines.append(f"| {size} | {label} | {row['p50_ms']} | {row['p99_ms']} | "
                         f"{row['p50_over_encode']} | {row['p99_over_encode']} | "
                         f"{row['p50_minus_encode_ms']} |")
    lines += ["", "## HNSW against exact, on the same vectors", "",
              "| chunks | recall@10 of the chunk vectors | engine's first answer the same "
              "| share of the engine's top 5 answers the same |", "|---:|---:|---:|---:|"]
    for size in results["sizes"]:
        r = recall[str(size)]
        lines.append(f"| {size} | {r['hnsw_recall_at_10']} | {r['same_first_answer']} | "
                     f"{r['top5_answers_overlap']} |")
    lines += ["", "Recall@10 compares the ten nearest chunk vectors of each question in both "
              "indexes. The engine's answers also depend on the dense score of every candidate "
              "article, which exact search gives for all chunks and HNSW only for its 256 "
              "nearest (the rest get the farthest of those scores), so its answers can differ "
              "where the vectors agree."]
    growth = results.get("growth")
    if growth:
        lines += ["", f"From {growth['from']} to {growth['to']} chunks (default index at each "
                  f"size), search p50 grew by {growth['p50_growth_ms']} ms "
                  f"({growth['p50_over_encode_growth']} of the model's encode time)."]
    (out / "scale.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="knowledge-base sizes in chunks, comma-separated")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep knowledge bases, caches and builds here for the next run "
                             "(default: a temporary folder, removed afterwards)")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory-questions", type=int, default=20,
                        help="distinct questions per worker before reading its memory")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args()
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        raise SystemExit(f"--sizes takes chunk counts such as 1000,10000 (got {args.sizes!r})")
    if not sizes or min(sizes) < 10:
        raise SystemExit("--sizes needs at least one size of 10 chunks or more")
    with tempfile.TemporaryDirectory(prefix="kb-scale-") as tmp:
        work = (args.work_dir or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        asked = questions(args.questions)
        builds, others = {}, {}
        for size in sizes:
            print(f"size {size}: building", flush=True)
            builds[str(size)] = build(work, size, default_kind_of(size))
            other = EXACT if default_kind_of(size) == APPROXIMATE else APPROXIMATE
            others[str(size)] = build(work, size, other)
        memory = {}
        for size in sizes:
            print(f"size {size}: serving under gunicorn", flush=True)
            memory[str(size)] = worker_memory(work, size, questions(1000, seed=3),
                                              args.memory_questions)
            print(f"  {memory[str(size)]['worker_private_mb']} MB private per worker", flush=True)
        print("timing searches", flush=True)
        latency, recall = measure_search(work, sizes, asked, args.rounds)
    from kb.searcher import model_for

    embedder = model_for(settings_for(work, sizes[0], EXACT))
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "model": embedder.name, "runtime": embedder.runtime, "sizes": sizes,
        "hnsw_threshold": DEFAULT_HNSW_THRESHOLD, "builds": builds, "other_kind_builds": others,
        "memory": memory, "latency": latency, "recall": recall}
    if len(sizes) > 1:
        first = latency[f"{sizes[0]}-{default_kind_of(sizes[0])}"]
        last = latency[f"{sizes[-1]}-{default_kind_of(sizes[-1])}"]
        results["growth"] = {
            "from": sizes[0], "to": sizes[-1],
            "p50_growth_ms": round(last["p50_ms"] - first["p50_ms"], 2),
            "p50_over_encode_growth": round(last["p50_over_encode"] - first["p50_over_encode"], 3)}
    write_report(results, args.output)
    print(json.dumps({"latency": latency, "recall": recall}, indent=1), flush=True)


if __name__ == "__main__":
    main()
