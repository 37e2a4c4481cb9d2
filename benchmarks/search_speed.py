"""Search speed benchmark: index build rate, query latency next to the model floor, re-index time.

Run: .venv/bin/python benchmarks/search_speed.py [--articles 2000] [--sections 5]
Writes benchmarks/search_speed.json and benchmarks/search_speed.md.

A synthetic knowledge base is generated from the sentences of the sample help center (so the text
looks like real help articles), indexed with the configured model, then queried in-process.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.timing import percentile  # noqa: E402

from kb.searcher import build_and_publish, open_engine  # noqa: E402
from kb.settings import load_settings  # noqa: E402
from search.collection import load_articles  # noqa: E402
from search.embedder import OFFLINE_MODEL, offline_model_path  # noqa: E402

QUESTIONS = [
    "I forgot my password", "how do I get a refund", "the app will not start on my mac",
    "cannot open the zip file I downloaded", "my card was declined", "how to delete my account",
    "change my email address", "where is the trash", "share a folder with a link",
    "storage is full what now", "two step verification code does not arrive",
    "when will support answer", "jag har glömt mitt lösenord", "не могу войти в аккаунт",
]


def sample_sentences() -> list[str]:
    articles = load_articles(REPO / "articles", ["en"])
    sentences: list[str] = []
    for article in articles.articles:
        for section in article.sections:
            for block in section.blocks:
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", block) if len(s.split()) > 3]
    return sentences


def write_synthetic(root: Path, articles: int, sections: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    sentences = sample_sentences()
    folder = root / "en"
    folder.mkdir(parents=True)
    for n in range(articles):
        body = ["Read this if something is not working as you expect."]
        for s in range(sections):
            body.append(f"\n## Part {s + 1} of topic {n}\n")
            body.append(" ".join(rng.sample(sentences, 5)))
        title = json.dumps(f"Help topic {n}: {rng.choice(sentences)[:60]}", ensure_ascii=False)
        summary = json.dumps(rng.choice(sentences), ensure_ascii=False)
        text = (f"---\ntitle: {title}\nsummary: {summary}\nstatus: published\n---\n\n"
                + "\n".join(body))
        (folder / f"topic-{n:05d}.md").write_text(text, encoding="utf-8")



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--reindex-articles", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    results: dict[str, object] = {"machine": {"python": platform.python_version(),
                                              "cpus": __import__("os").cpu_count()}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        settings = load_settings(overrides={"INSTANCE_PATH": str(tmp_path / "instance"),
                                            "LANGUAGES": ["en"]})
        settings["INDEX_DIR"] = str(tmp_path / "instance" / "index")
        settings["CACHE_DIR"] = str(tmp_path / "instance" / "cache")
        big = tmp_path / "big"
        write_synthetic(big, args.articles, args.sections)
        build = build_and_publish(settings, big)
        if build.articles.errors:
            raise SystemExit(f"synthetic articles do not parse: {build.articles.errors[:3]}")
        chunks = build.report.chunks
        results["build"] = {"articles": build.report.documents, "chunks": chunks,
                            "texts_embedded": build.report.embedded,
                            "seconds": round(build.report.seconds, 1),
                            "chunks_per_second": round(chunks / build.report.seconds, 1),
                            "index_kind": build.report.index_kind}
        print(f"build: {chunks} chunks in {build.report.seconds:.1f} s", flush=True)

        engine = open_engine(settings)
        # The floor is the model alone: a plain sentence-transformers encode of the question
        # (the engine's own encoding path skips some of encode()'s per-call set-up).
        from sentence_transformers import SentenceTransformer

        model = settings["MODEL"]
        plain = SentenceTransformer(str(offline_model_path()) if model == OFFLINE_MODEL else model,
                                    device="cpu")
        plain.encode(["warm up"])
        search_ms: list[float] = []
        encode_ms: list[float] = []
        for i in range(args.queries):
            question = f"{QUESTIONS[i % len(QUESTIONS)]} {i}"  # distinct texts: no query cache
            started = time.perf_counter()
            plain.encode([question])
            encode_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            engine.search(question, limit=5)
            search_ms.append((time.perf_counter() - started) * 1000)
        results["query"] = {
            "queries": args.queries, "chunks": chunks,
            "search_p50_ms": round(statistics.median(search_ms), 2),
            "search_p99_ms": round(percentile(search_ms, 99), 2),
            "encode_p50_ms": round(statistics.median(encode_ms), 2),
            "encode_p99_ms": round(percentile(encode_ms, 99), 2),
        }
        results["query"]["p50_over_encode"] = round(  # type: ignore[index]
            statistics.median(search_ms) / statistics.median(encode_ms), 2)
        print(f"query: {results['query']}", flush=True)

        small = tmp_path / "small"
        write_synthetic(small, args.reindex_articles, args.sections)
        small_settings = dict(settings, INDEX_DIR=str(tmp_path / "instance" / "small-index"))
        build_and_publish(small_settings, small)
        edited = small / "en" / "topic-00042.md"
        edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more sentence a writer added.\n",
                          encoding="utf-8")
        started = time.perf_counter()
        rebuild = build_and_publish(small_settings, small)
        seconds = time.perf_counter() - started
        results["reindex_one_edit"] = {"articles": rebuild.report.documents,
                                       "texts_embedded": rebuild.report.embedded,
                                       "texts_reused": rebuild.report.reused,
                                       "seconds": round(seconds, 2), "target_seconds": 2.0}
        print(f"re-index: {results['reindex_one_edit']}", flush=True)
    results["model"] = settings["MODEL"]
    out = REPO / "benchmarks"
    (out / "search_speed.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    b, q, r = results["build"], results["query"], results["reindex_one_edit"]
    (out / "search_speed.md").write_text(
        "# Search speed\n\n"
        f"Model `{results['model']}`, {results['machine']['cpus']} CPU cores, "  # type: ignore[index]
        f"Python {results['machine']['python']}. Produced by `benchmarks/search_speed.py`.\n\n"  # type: ignore[index]
        "| measure | value |\n|---|---:|\n"
        f"| index build: articles / chunks | {b['articles']} / {b['chunks']} |\n"  # type: ignore[index]
        f"| index build: seconds | {b['seconds']} |\n"  # type: ignore[index]
        f"| index build: chunks per second | {b['chunks_per_second']} |\n"  # type: ignore[index]
        f"| search p50 / p99 (ms) | {q['search_p50_ms']} / {q['search_p99_ms']} |\n"  # type: ignore[index]
        f"| encode the query alone (plain `model.encode`) p50 / p99 (ms) | {q['encode_p50_ms']} / {q['encode_p99_ms']} |\n"  # type: ignore[index]
        f"| search p50 / encode p50 | {q['p50_over_encode']} |\n"  # type: ignore[index]
        f"| re-index after editing 1 of {r['articles']} articles (s) | {r['seconds']} "  # type: ignore[index]
        f"(embedded {r['texts_embedded']}, reused {r['texts_reused']}) |\n",  # type: ignore[index]
        encoding="utf-8")


if __name__ == "__main__":
    main()
