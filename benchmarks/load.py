"""Load benchmark: the service under gunicorn, as docs/operations.md deploys it, driven by wrk on loopback.

Run: .venv/bin/python benchmarks/load.py [--articles 1000] [--duration 15] [--workdir DIR]
Needs wrk (Debian: apt-get install wrk). Writes load.json and load.md to --output (default:
benchmarks/). --model runs the service and the floor on another model (a name or a folder), such
as the production-shaped stand-in from benchmarks/stand_in_model.py.

1. Generates a synthetic knowledge base (N articles in each of en, sv, ru, built from the sample
   help center's sentences in that language) and indexes it with `kb index`. With --workdir the
   knowledge base and its embedding cache are kept there, so a repeated run skips the embedding.
2. Starts `gunicorn --config gunicorn.conf.py wsgi:app` on a free loopback port.
3. Measures the floor in this process: encoding one query with the model alone, as a plain
   sentence-transformers `model.encode([query])`, with the inference threads of one worker, in
   short rounds alternating with wrk at 1 connection (the machine's other load then weighs on
   both alike); `p50_over_floor` is the median of the rounds' ratios. The same rounds time the
   model in the runtime the service runs it in (KB_MODEL_RUNTIME, ONNX Runtime by default):
   `p50_over_runtime_floor` is what the rest of a request costs on top of that. For comparison
   it also times the library's default thread count.
4. Runs wrk at several concurrencies with distinct queries (no cache hits), then once with a
   small set of repeated queries (what search-as-you-type produces), and reads each worker's
   memory: RSS, PSS (which splits pages shared after the preload fork) and private memory
   (Private_Clean + Private_Dirty: pages no other process maps). A worker's private memory after
   serving is what each extra worker adds (`memory_per_extra_worker_mb`), also as a share of the
   model's weights. Part of it is clean file pages (`private_clean_mb`: model weights this worker
   read first, which the next worker to read them shares); the rest is the worker's own.
5. Checks that figure directly, before anything in this process maps the libraries the service
   uses (their pages would count in PSS): the service with each worker count of
   --compare-workers, after the same number of distinct queries per worker, and the total PSS
   of master and workers.
   The growth per extra worker is `total_pss_per_extra_worker_mb` (anonymous memory alone:
   `total_anon_pss_per_extra_worker_mb`, which no process outside the service can share).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search.collection import load_articles  # noqa: E402
from search.embedder import OFFLINE_MODEL, SentenceTransformerEmbedder, \
    offline_model_path  # noqa: E402

QUESTIONS = {
    "en": ["I forgot my password", "how do I get a refund", "the app does not start",
           "cannot open the downloaded zip", "my card was declined", "delete my account"],
    "sv": ["jag har glömt mitt lösenord", "hur får jag pengarna tillbaka", "appen startar inte",
           "kan inte öppna filen", "kortet nekades", "ta bort mitt konto"],
    "ru": ["забыла пароль", "как вернуть деньги", "приложение не запускается",
           "не открывается архив", "карта отклонена", "удалить аккаунт"],
}
WRK_SCRIPT = """
local queries = {}
for line in io.lines("%(queries)s") do queries[#queries + 1] = line end
local counter = %(offset)d
setup = function(thread)
  -- each wrk thread (and each run) walks its own part of the list, so no query repeats
  thread:set("i", counter)
  counter = counter + 20000
end
i = 0
request = function()
  i = i + 1
  -- with a session id, as the widget sends it: the service then records the search
  return wrk.format("GET", "/api/v1/search?limit=5&session_id=load-" .. (i %% 997) .. "&q="
                    .. queries[(i %% #queries) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%.3f, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, '
    .. '"errors": %%d, "non_2xx": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def write_knowledge_base(root: Path, articles: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    for lang in ("en", "sv", "ru"):
        sample = load_articles(REPO / "articles", [lang])
        sentences = [s for a in sample.articles for sec in a.sections for b in sec.blocks
                     for s in re.split(r"(?<=[.!?])\s+", b) if len(s.split()) > 3]
        folder = root / lang
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(articles):
            body = [rng.choice(sentences)]
            for part in range(2):
                body += [f"\n## {rng.choice(sentences)[:50]} {part + 1}\n",
                         " ".join(rng.sample(sentences, 4))]
            title = json.dumps(f"{rng.choice(sentences)[:60]} ({n})", ensure_ascii=False)
            summary = json.dumps(rng.choice(sentences), ensure_ascii=False)
            (folder / f"topic-{n:05d}.md").write_text(
                f"---\ntitle: {title}\nsummary: {summary}\n---\n\n" + "\n".join(body),
                encoding="utf-8")


def model_label(model: str) -> str:
    """How the report names the model (a folder by its last part, not this machine's path)."""
    if model == OFFLINE_MODEL:
        return f"{model} (the bundled offline model)"
    return f"`{Path(model).name}`" + (" (a local folder)" if Path(model).is_dir() else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the service did not become healthy; see the gunicorn log above")


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS and private memory of a process (MB), from /proc/PID/smaps_rollup."""
    kb = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        kb[name] = int(rest.split()[0])
    return {"rss_mb": round(kb["Rss"] / 1024, 1), "pss_mb": round(kb["Pss"] / 1024, 1),
            "pss_anon_mb": round(kb.get("Pss_Anon", 0) / 1024, 1),
            "private_mb": round((kb["Private_Clean"] + kb["Private_Dirty"]) / 1024, 1),
            "private_clean_mb": round(kb["Private_Clean"] / 1024, 1)}


def worker_pids(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def start_server(env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(REPO / ".venv/bin/gunicorn"), "--config", "gunicorn.conf.py",
                             "wsgi:app"], env={**env, "KB_WORKERS": str(workers)}, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)


def total_pss_mb(env: dict[str, str], url: str, workers: int, queries: list[str],
                 per_worker: int) -> dict[str, float]:
    """Total PSS of master and workers after `per_worker` distinct queries per worker (4 at a
    time), so that every worker has served about as many queries whatever their number."""
    server = start_server(env, workers)
    try:
        wait_healthy(url)

        def ask(query: str) -> None:
            with urllib.request.urlopen(f"{url}/api/v1/search?limit=5&q={query}", timeout=60) as r:
                r.read()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(ask, queries[:per_worker * workers]))
        time.sleep(1)
        memory = [memory_mb(pid) for pid in [server.pid, *worker_pids(server.pid)]]
    finally:
        stop_server(server)
    return {"workers": workers, "total_pss_mb": round(sum(m["pss_mb"] for m in memory), 1),
            "total_anon_pss_mb": round(sum(m["pss_anon_mb"] for m in memory), 1)}


class Floor:
    """The model alone in this process: a plain sentence-transformers `model.encode([query])`."""

    def __init__(self, workers: int, runtime: str, export_dir: Path, model: str = OFFLINE_MODEL):
        import torch
        from sentence_transformers import SentenceTransformer

        path = offline_model_path() if model == OFFLINE_MODEL else model
        self.model = SentenceTransformer(str(path), device="cpu")
        # What the service itself runs: the same model in its runtime (ONNX Runtime by default).
        self.service = SentenceTransformerEmbedder(model, runtime=runtime, export_dir=export_dir)
        self.runtime = self.service.runtime
        # A worker runs the model on its share of the cores (post_fork in gunicorn.conf.py), so
        # the floor gets the same share; idle threads spinning on busy cores only add delay.
        self.threads = max(1, (os.cpu_count() or 1) // max(1, workers))
        self.default_threads = torch.get_num_threads()
        self._asked = 0

    def weights_mb(self) -> float:
        """The model's parameters (MB), what a worker's own memory is compared with."""
        return sum(p.numel() * p.element_size() for p in self.model.parameters()) / 2 ** 20

    def p50_ms(self, queries: int = 200, threads: int | None = None,
               service_path: bool = False) -> float:
        """Median time to encode one new query; `service_path` goes through the service's own
        encoding (search/embedder.py) instead of `model.encode`."""
        import torch

        torch.set_num_threads(threads or self.threads)
        try:
            self.model.encode(["warm up"])
            times = []
            for _ in range(queries):
                self._asked += 1
                text = f"{QUESTIONS['en'][self._asked % 6]} {self._asked}"
                started = time.perf_counter()
                if service_path:
                    self.service.encode_queries([text])
                else:
                    self.model.encode([text])
                times.append((time.perf_counter() - started) * 1000)
        finally:
            torch.set_num_threads(self.default_threads)
        return statistics.median(times)


def run_wrk(url: str, queries_file: Path, connections: int, duration: int,
            script_dir: Path, offset: int = 0) -> dict[str, float]:
    script = script_dir / "search.lua"
    script.write_text(WRK_SCRIPT % {"queries": queries_file, "offset": offset}, encoding="utf-8")
    threads = max(1, min(2, connections))
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                             "--timeout", "10s", "-s", str(script), url],
                            capture_output=True, text=True, check=True).stdout
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    return {"connections": connections, "requests_per_s": round(result["requests"] / result["seconds"], 1),
            "p50_ms": result["p50_us"] / 1000, "p95_ms": result["p95_us"] / 1000,
            "p99_ms": result["p99_us"] / 1000, "errors": result["errors"] + result["non_2xx"],
            "requests": result["requests"]}


def interleaved_c1(url: str, floor: Floor, queries: list[str],
                   count: int = 400) -> dict[str, float]:
    """One request to the service, then one runtime-floor encode, alternately, `count` times:
    whatever else the machine runs weighs on both within milliseconds of each other. Requests
    go over one kept-alive connection, as wrk's do; each a new question (no cache hits)."""
    import http.client

    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    service, runtime = [], []
    try:
        for number, query in enumerate(queries[:count]):
            started = time.perf_counter()
            connection.request("GET", f"/api/v1/search?limit=5&session_id=load-{number % 997}"
                                      f"&q={query}")
            response = connection.getresponse()
            response.read()
            service.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                raise SystemExit(f"the service answered {response.status} to {query}")
            # The very question the service just answered: the floor's cost depends on its
            # length in tokens (Russian takes many more than English in an English vocabulary).
            text = urllib.parse.unquote_plus(query)
            started = time.perf_counter()
            floor.service.encode_queries([text])
            runtime.append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()
    service.sort()
    return {"requests": len(service), "service_p50_ms": round(statistics.median(service), 3),
            "service_p99_ms": round(service[int(0.99 * (len(service) - 1))], 3),
            "runtime_floor_p50_ms": round(statistics.median(runtime), 3),
            "p50_over_runtime_floor": round(statistics.median(service)
                                            / statistics.median(runtime), 2),
            "p99_over_runtime_floor": round(service[int(0.99 * (len(service) - 1))]
                                            / statistics.median(runtime), 2)}


def cache_hit_server_ms(url: str, queries: list[str], rounds: int = 20) -> dict[str, float]:
    """The service's own time for answers from its cache (the `app` entry of `Server-Timing`),
    over `rounds` passes of `queries` asked once before (one worker answers each connection,
    so a few passes reach every worker's cache)."""
    times = []
    for _ in range(rounds):
        for query in queries:
            with urllib.request.urlopen(f"{url}/api/v1/search?limit=5&q={query}") as response:
                response.read()
                timing = response.headers.get("Server-Timing", "")
            found = re.search(r"app;dur=([0-9.]+)", timing)
            if found and response.headers.get("Cache-Status", "").startswith("kb-worker; hit"):
                times.append(float(found.group(1)))
    if not times:
        return {"p50_ms": None, "p99_ms": None, "answers": 0}
    times.sort()
    return {"p50_ms": round(statistics.median(times), 3),
            "p99_ms": round(times[int(0.99 * (len(times) - 1))], 3), "answers": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000, help="articles per language")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,8,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6,
                        help="alternating rounds of floor and 1-connection service measurements")
    parser.add_argument("--round-seconds", type=int, default=4)
    parser.add_argument("--workdir", type=Path, help="keep the knowledge base, index and "
                        "embedding cache here and reuse them (default: a fresh temporary folder)")
    parser.add_argument("--compare-workers", default="1,2",
                        help="worker counts whose total PSS after the same load is compared "
                        "(empty: skip)")
    parser.add_argument("--compare-queries", type=int, default=2000,
                        help="distinct queries per worker before comparing total PSS")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks",
                        help="folder for load.json and load.md")
    parser.add_argument("--model", default=OFFLINE_MODEL,
                        help="the model to serve (KB_MODEL; default: the bundled offline model)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found; install it (Debian: apt-get install wrk)")
    tmp = args.workdir.resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="kb-load-"))
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_INSTANCE_PATH": str(tmp / "instance"),
           "KB_ARTICLES_DIR": str(tmp / "articles"), "KB_BIND": f"127.0.0.1:{port}",
           "KB_WORKERS": str(args.workers), "KB_RATE_LIMIT_SEARCH": "100000000/minute",
           # A model that does not load must stop the benchmark, not be measured as the bundled one.
           "KB_MODEL": args.model, "KB_MODEL_FALLBACK": "false"}
    write_knowledge_base(tmp / "articles", args.articles)
    started = time.perf_counter()
    done = subprocess.run([str(REPO / ".venv/bin/kb"), "index"], env=env, cwd=REPO,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"kb index failed, nothing was measured:\n{done.stderr.strip()}")
    indexed = done.stdout
    index_seconds = time.perf_counter() - started
    index_summary = next((line for line in indexed.splitlines() if line.startswith("indexed")), "")
    print(index_summary, flush=True)

    rng = random.Random(5)
    distinct = tmp / "distinct.txt"
    distinct.write_text("\n".join(
        urllib.parse.quote_plus(f"{rng.choice(QUESTIONS[lang])} {n}")
        for n in range(200000) for lang in [rng.choice(list(QUESTIONS))]) + "\n")
    repeated = tmp / "repeated.txt"
    repeated.write_text("\n".join(urllib.parse.quote_plus(q) for qs in QUESTIONS.values()
                                  for q in qs) + "\n")

    url = f"http://127.0.0.1:{port}"
    # Before Floor loads the model here: this process would then map the service's libraries,
    # and their pages would count partly to it in the servers' PSS.
    queries = distinct.read_text().split()
    compared = [total_pss_mb(env, url, int(n), queries, args.compare_queries)
                for n in args.compare_workers.split(",") if n]
    for row in compared:
        print(row, flush=True)
    per_extra = {}
    if len(compared) >= 2:
        first, last = compared[0], compared[-1]
        extra = last["workers"] - first["workers"]
        per_extra = {f"{name}_per_extra_worker_mb":
                     round((last[f"{name}_mb"] - first[f"{name}_mb"]) / extra, 1)
                     for name in ("total_pss", "total_anon_pss")}

    runtime = env.get("KB_MODEL_RUNTIME", "onnx")
    floor = Floor(args.workers, runtime, tmp / "instance" / "cache" / "onnx", args.model)
    encoders = {"model_runtime": floor.runtime, "floor_threads": floor.threads,
                "default_threads": floor.default_threads,
                "encode_floor_default_threads_p50_ms": round(
                    floor.p50_ms(queries=100, threads=floor.default_threads), 2),
                "encode_service_path_p50_ms": round(floor.p50_ms(queries=100, service_path=True), 2)}
    print(encoders, flush=True)

    server = start_server(env, args.workers)
    try:
        wait_healthy(url)
        run_wrk(url, distinct, 2, 3, tmp)  # warm up every worker
        # The floor and the service at 1 connection in alternating short rounds, so that other
        # work on the machine weighs on both alike.
        paired = []
        for number in range(args.rounds):
            round_floor = floor.p50_ms(queries=50)
            runtime_floor = floor.p50_ms(queries=50, service_path=True)
            service = run_wrk(url, distinct, 1, args.round_seconds, tmp,
                              offset=160000 + 2000 * number)
            paired.append({"floor_p50_ms": round(round_floor, 2),
                           "runtime_floor_p50_ms": round(runtime_floor, 2),
                           "service_p50_ms": service["p50_ms"],
                           "service_p99_ms": service["p99_ms"],
                           "ratio": round(service["p50_ms"] / round_floor, 2),
                           "ratio_to_runtime": round(service["p50_ms"] / runtime_floor, 2),
                           "p99_ratio_to_runtime": round(service["p99_ms"] / runtime_floor, 2)})
            print(paired[-1], flush=True)
        interleaved = interleaved_c1(url, floor, queries[120000:])
        print(interleaved, flush=True)
        runs = []
        for number, connections in enumerate(args.connections.split(","), start=1):
            # Each run starts further down the list: a query the warm-up or an earlier run
            # asked would be answered from a worker's cache.
            runs.append(run_wrk(url, distinct, int(connections), args.duration, tmp,
                                offset=40000 * number))
            wait_healthy(url)  # let the workers drain the queue before the next run
            time.sleep(2)
        cached = run_wrk(url, repeated, 8, args.duration, tmp)
        cache_hit = cache_hit_server_ms(url, repeated.read_text().split())
        memory = {"master": memory_mb(server.pid),
                  "workers": [memory_mb(pid) for pid in worker_pids(server.pid)]}
    finally:
        stop_server(server)
    model_mb = floor.weights_mb()
    per_worker = statistics.mean(w["private_mb"] for w in memory["workers"])
    ratios = [r["ratio"] for r in paired]
    floor_ms = round(statistics.median(r["floor_p50_ms"] for r in paired), 2)
    runtime_floor_ms = round(statistics.median(r["runtime_floor_p50_ms"] for r in paired), 2)
    runtime_ratios = [r["ratio_to_runtime"] for r in paired]
    results = {
        "model": model_label(args.model), "articles": args.articles * 3,
        "index_seconds": round(index_seconds, 1),
        "index_summary": index_summary, "workers": args.workers,
        "encode_floor_p50_ms": floor_ms, **encoders,
        "runs": runs, "repeated_queries_c8": cached, "memory": memory,
        "model_weights_mb": round(model_mb, 1),
        "memory_per_extra_worker_mb": round(per_worker, 1),
        "memory_per_extra_worker_over_model": round(per_worker / model_mb, 2),
        "workers_compared": compared, **per_extra,
        "paired_rounds_c1": paired,
        "p50_over_floor": round(statistics.median(ratios), 2),
        "p50_over_floor_range": [min(ratios), max(ratios)],
        "runtime_floor_p50_ms": runtime_floor_ms,
        "p50_over_runtime_floor": round(statistics.median(runtime_ratios), 2),
        "p99_over_runtime_floor": round(statistics.median(r["p99_ratio_to_runtime"]
                                                          for r in paired), 2),
        "cache_hit_server_ms": cache_hit,
        "interleaved_c1": interleaved,
    }
    c8 = next((r for r in runs if r["connections"] == 8), None)
    if c8 is not None:
        # What the workers could answer if a request cost exactly one encode.
        capacity = args.workers / (runtime_floor_ms / 1000)
        results["c8_requests_per_s_over_capacity"] = round(c8["requests_per_s"] / capacity, 2)
    out = args.output
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = ["# Load under gunicorn", "",
             f"{results['articles']} articles (en, sv, ru), {args.workers} workers, wrk on "
             f"loopback, {args.duration} s per run. Produced by `benchmarks/load.py`. "
             f"Model: {results['model']}.", "",
             "| connections | requests/s | p50 ms | p95 ms | p99 ms | errors |",
             "|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        lines.append(f"| {run['connections']} | {run['requests_per_s']} | {run['p50_ms']} | "
                     f"{run['p95_ms']} | {run['p99_ms']} | {run['errors']} |")
    lines += ["", f"Repeated queries (search-as-you-type), 8 connections: "
              f"{cached['requests_per_s']} requests/s, p50 {cached['p50_ms']} ms. Server time "
              f"of a cache hit, from the service's `Server-Timing` header: p50 "
              f"{cache_hit['p50_ms']} ms, p99 {cache_hit['p99_ms']} ms.", "",
              f"Throughput at 8 connections over what {args.workers} workers could answer at "
              f"one runtime-floor encode per request: "
              f"**{results.get('c8_requests_per_s_over_capacity')}**. Service p99 at 1 "
              f"connection over the runtime floor: **{results['p99_over_runtime_floor']}**.", "",
              f"Floor: encoding one query with the model alone (plain sentence-transformers "
              f"`model.encode([query])`, {floor.threads} inference thread(s) like a worker). "
              f"Measured in {args.rounds} rounds alternating with {args.round_seconds} s of the "
              f"service at 1 connection: floor p50 {floor_ms} ms; service p50 / floor "
              f"p50 = **{results['p50_over_floor']}** (median of the rounds; "
              f"{min(ratios)} to {max(ratios)}).", "",
              f"The service runs the model in {floor.runtime}: encoding one query that way "
              f"alone, in the same rounds, p50 {runtime_floor_ms} ms; service p50 / that p50 = "
              f"{results['p50_over_runtime_floor']} (what the rest of a request costs on top "
              f"of the model).", "",
              f"The same at a finer grain: {interleaved['requests']} requests at 1 connection, "
              f"each followed by one runtime-floor encode in this process: service p50 "
              f"{interleaved['service_p50_ms']} ms, p99 {interleaved['service_p99_ms']} ms; "
              f"floor p50 {interleaved['runtime_floor_p50_ms']} ms; p50 / floor "
              f"**{interleaved['p50_over_runtime_floor']}**, p99 / floor "
              f"**{interleaved['p99_over_runtime_floor']}**.", "",
              f"For comparison, before the server started: the same encode with the library's "
              f"default {floor.default_threads} threads, p50 "
              f"{encoders['encode_floor_default_threads_p50_ms']} ms; one query through the "
              f"service's own encoding path (`encode_queries`, {floor.runtime}), p50 "
              f"{encoders['encode_service_path_p50_ms']} ms.", "",
              "Memory after the runs (MB). PSS splits pages shared after the preload fork; "
              "private pages are mapped by this process alone (of them, clean: model weights "
              "only this worker has read so far).", "",
              "| process | RSS | PSS | private | of it clean |", "|---|---:|---:|---:|---:|",
              *(f"| {name} | {m['rss_mb']} | {m['pss_mb']} | {m['private_mb']} | "
                f"{m['private_clean_mb']} |"
                for name, m in [("master", memory["master"]),
                                *((f"worker {n}", w) for n, w in
                                  enumerate(memory["workers"], start=1))]), "",
              f"Each extra worker adds its private memory: **{results['memory_per_extra_worker_mb']}"
              f" MB** (mean over the workers), "
              f"{results['memory_per_extra_worker_over_model']} of the model's "
              f"{results['model_weights_mb']} MB of weights.", ""]
    if compared:
        lines += ["Checked directly: total PSS of master and workers after "
                  f"{args.compare_queries} distinct queries per worker (4 at a time).", "",
                  "| workers | total PSS MB | of it anonymous |", "|---:|---:|---:|",
                  *(f"| {row['workers']} | {row['total_pss_mb']} | {row['total_anon_pss_mb']} |"
                    for row in compared), ""]
        if per_extra:
            lines += [f"Per extra worker: {per_extra['total_pss_per_extra_worker_mb']} MB "
                      f"({per_extra['total_anon_pss_per_extra_worker_mb']} MB anonymous).", ""]
    lines.append(f"Indexing the knowledge base took {results['index_seconds']} s ({index_summary}).")
    (out / "load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if not args.workdir:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
