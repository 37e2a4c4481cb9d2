"""Indexing speed: `kb index` next to the model's own batched encode rate, and one edit re-indexed.

Run: .venv/bin/python benchmarks/index_speed.py [--articles 100] [--output benchmarks/]
Writes index_speed.json and index_speed.md.

In one run, on a synthetic knowledge base (N articles in each of en, sv, ru, as
benchmarks/load.py writes them) and with a fresh embedding cache:

1. The model alone: every text the index embeds (chunks and articles), in one
   `encode_documents` call on every core, as the service's runtime runs it (ONNX by default).
2. The whole build as `kb index` does it (reading and chunking the articles, the embedding
   cache, the vector indexes, publishing): texts embedded per second. Then the model alone
   again, and `index_over_model` compares the build with the mean of the two model rates (the
   machine's other load shifts both alike).
3. One article edited, then the index built again: the seconds of that build, with the texts
   it embedded (the edited article's) and reused (all others, from the cache).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from kb.searcher import build_and_publish, load_articles_for, model_for  # noqa: E402
from kb.settings import load_settings  # noqa: E402
from load import model_label, write_knowledge_base  # noqa: E402
from search.document import document_from_article  # noqa: E402
from search.embedder import OFFLINE_MODEL  # noqa: E402


def texts_to_embed(settings: dict) -> list[str]:
    """What `SearchIndex.build` embeds: every chunk, then every article."""
    documents = [document_from_article(a) for a in load_articles_for(settings).published()]
    return [c.embed_text for d in documents for c in d.chunks] + [d.embed_text for d in documents]


def model_rate(texts: list[str], settings: dict) -> float:
    """Texts per second of the model alone, all texts in one call, on every core."""
    model = model_for(settings)
    started = time.perf_counter()
    model.encode_documents(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100, help="articles per language")
    parser.add_argument("--model", default=OFFLINE_MODEL)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kb-index-speed-") as folder:
        tmp = Path(folder)
        write_knowledge_base(tmp / "articles", args.articles)
        settings = load_settings(environ={
            "HF_HUB_OFFLINE": "1", "KB_INSTANCE_PATH": str(tmp / "instance"),
            "KB_ARTICLES_DIR": str(tmp / "articles"), "KB_MODEL": args.model,
            "KB_MODEL_FALLBACK": "false"})
        # As `kb index` does: it serves no one, so it embeds on every core.
        model_for(settings).document_threads = os.cpu_count() or 1
        texts = texts_to_embed(settings)
        model_for(settings).encode_documents(texts[:64])  # warm up
        before = model_rate(texts, settings)
        print(f"model alone: {before:.1f} texts/s", flush=True)
        build = build_and_publish(settings).report
        index_rate = build.embedded / build.seconds
        print(f"kb index: {index_rate:.1f} texts/s ({build.embedded} in {build.seconds:.1f} s)",
              flush=True)
        after = model_rate(texts, settings)
        print(f"model alone again: {after:.1f} texts/s", flush=True)

        edited = sorted((tmp / "articles" / "en").glob("*.md"))[0]
        edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more sentence, edited.\n",
                          encoding="utf-8")
        rebuild = build_and_publish(settings).report
    model_mean = (before + after) / 2
    results = {
        "model": model_label(args.model), "articles": 3 * args.articles, "texts": len(texts),
        "cores": os.cpu_count(), "runtime": model_for(settings).runtime,
        "model_texts_per_s": [round(before, 1), round(after, 1)],
        "index_texts_per_s": round(index_rate, 1), "index_seconds": round(build.seconds, 1),
        "index_over_model": round(index_rate / model_mean, 2),
        "reindex_one_edit": {"articles": rebuild.documents, "seconds": round(rebuild.seconds, 2),
                             "embedded": rebuild.embedded, "reused": rebuild.reused},
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "index_speed.json").write_text(json.dumps(results, indent=2) + "\n",
                                                  encoding="utf-8")
    r = results["reindex_one_edit"]
    lines = [
        "# Indexing speed", "",
        f"{results['articles']} articles (en, sv, ru), {len(texts)} texts to embed, "
        f"{results['cores']} cores, model {results['model']} in {results['runtime']}. Produced by "
        "`benchmarks/index_speed.py`, all figures from one run.", "",
        "| | texts/s |", "|---|---:|",
        f"| the model alone, batched, before the build | {results['model_texts_per_s'][0]} |",
        f"| `kb index` (fresh embedding cache) | {results['index_texts_per_s']} |",
        f"| the model alone, after the build | {results['model_texts_per_s'][1]} |", "",
        f"`kb index` over the model alone: **{results['index_over_model']}**.", "",
        f"Re-index after editing one article of {r['articles']}: **{r['seconds']} s** "
        f"({r['embedded']} texts embedded, {r['reused']} from the cache).", ""]
    (args.output / "index_speed.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
