"""Load benchmark: the service under gunicorn, as the README deploys it, driven by wrk on loopback.

Run: .venv/bin/python benchmarks/load.py [--articles 1000] [--duration 15]
Needs wrk (Debian: apt-get install wrk). Writes benchmarks/load.json and benchmarks/load.md.

1. Generates a synthetic knowledge base (N articles in each of en, sv, ru, built from the sample
   help center's sentences in that language) and indexes it with `kb index`.
2. Starts `gunicorn --config gunicorn.conf.py wsgi:app` on a free loopback port.
3. Measures the floor in this process: encoding one query with the model alone.
4. Runs wrk at several concurrencies with distinct queries (no cache hits), then once with a
   small set of repeated queries (what search-as-you-type produces), and reads each worker's
   memory (RSS and PSS, which splits pages shared after the preload fork).
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search.collection import load_articles  # noqa: E402
from search.embedder import SentenceTransformerEmbedder  # noqa: E402

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
local counter = 0
setup = function(thread)
  -- each wrk thread walks its own part of the list, so no query repeats across threads
  thread:set("i", counter)
  counter = counter + 100000
end
i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/api/v1/search?limit=5&q=" .. queries[(i %% #queries) + 1])
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
        folder.mkdir(parents=True)
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
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name.lower() + "_mb"] = round(int(rest.split()[0]) / 1024, 1)
    return values


def run_wrk(url: str, queries_file: Path, connections: int, duration: int,
            script_dir: Path) -> dict[str, float]:
    script = script_dir / "search.lua"
    script.write_text(WRK_SCRIPT % {"queries": queries_file}, encoding="utf-8")
    threads = max(1, min(2, connections))
    output = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                             "--timeout", "10s", "-s", str(script), url],
                            capture_output=True, text=True, check=True).stdout
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    return {"connections": connections, "requests_per_s": round(result["requests"] / result["seconds"], 1),
            "p50_ms": result["p50_us"] / 1000, "p95_ms": result["p95_us"] / 1000,
            "p99_ms": result["p99_us"] / 1000, "errors": result["errors"] + result["non_2xx"],
            "requests": result["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=1000, help="articles per language")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", default="1,8,64")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found; install it (Debian: apt-get install wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="kb-load-"))
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_INSTANCE_PATH": str(tmp / "instance"),
           "KB_ARTICLES_DIR": str(tmp / "articles"), "KB_BIND": f"127.0.0.1:{port}",
           "KB_WORKERS": str(args.workers), "KB_RATE_LIMIT_SEARCH": "100000000/minute"}
    write_knowledge_base(tmp / "articles", args.articles)
    started = time.perf_counter()
    subprocess.run([str(REPO / ".venv/bin/kb"), "index"], env=env, check=True, cwd=REPO)
    index_seconds = time.perf_counter() - started

    rng = random.Random(5)
    distinct = tmp / "distinct.txt"
    distinct.write_text("\n".join(
        urllib.parse.quote_plus(f"{rng.choice(QUESTIONS[lang])} {n}")
        for n in range(200000) for lang in [rng.choice(list(QUESTIONS))]) + "\n")
    repeated = tmp / "repeated.txt"
    repeated.write_text("\n".join(urllib.parse.quote_plus(q) for qs in QUESTIONS.values()
                                  for q in qs) + "\n")

    embedder = SentenceTransformerEmbedder()
    embedder.encode_queries(["warm up"])
    floor = []
    for n in range(200):
        t = time.perf_counter()
        embedder.encode_queries([f"{QUESTIONS['en'][n % 6]} {n}"])
        floor.append((time.perf_counter() - t) * 1000)
    floor_ms = statistics.median(floor)

    server = subprocess.Popen([str(REPO / ".venv/bin/gunicorn"), "--config", "gunicorn.conf.py",
                               "wsgi:app"], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
        run_wrk(url, distinct, 2, 3, tmp)  # warm up every worker
        runs = []
        for connections in args.connections.split(","):
            runs.append(run_wrk(url, distinct, int(connections), args.duration, tmp))
            wait_healthy(url)  # let the workers drain the queue before the next run
            time.sleep(2)
        cached = run_wrk(url, repeated, 8, args.duration, tmp)
        workers = [int(p) for p in Path(f"/proc/{server.pid}/task/{server.pid}/children")
                   .read_text().split()]
        memory = {"master": memory_mb(server.pid),
                  "workers": [memory_mb(pid) for pid in workers]}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    low = runs[0]
    results = {
        "articles": args.articles * 3, "index_seconds": round(index_seconds, 1),
        "workers": args.workers, "encode_floor_p50_ms": round(floor_ms, 2),
        "runs": runs, "repeated_queries_c8": cached, "memory": memory,
        "p50_over_floor": round(low["p50_ms"] / floor_ms, 2),
    }
    out = REPO / "benchmarks"
    (out / "load.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = ["# Load under gunicorn", "",
             f"{results['articles']} articles (en, sv, ru), {args.workers} workers, wrk on "
             f"loopback, {args.duration} s per run. Produced by `benchmarks/load.py`.", "",
             "| connections | requests/s | p50 ms | p95 ms | p99 ms | errors |",
             "|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        lines.append(f"| {run['connections']} | {run['requests_per_s']} | {run['p50_ms']} | "
                     f"{run['p95_ms']} | {run['p99_ms']} | {run['errors']} |")
    lines += ["", f"Repeated queries (search-as-you-type), 8 connections: "
              f"{cached['requests_per_s']} requests/s, p50 {cached['p50_ms']} ms.", "",
              f"Floor: encoding one query with the model alone, p50 {results['encode_floor_p50_ms']} "
              f"ms; service p50 at 1 connection / floor = {results['p50_over_floor']}.", "",
              "Memory (MB): master " + json.dumps(memory["master"]) + "; workers " +
              "; ".join(json.dumps(w) for w in memory["workers"]) +
              ". PSS splits pages shared after the preload fork.", "",
              f"Indexing the knowledge base took {results['index_seconds']} s."]
    (out / "load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
