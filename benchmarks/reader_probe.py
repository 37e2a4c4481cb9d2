"""Does a reader of question and article together tell answerable messages from off-topic ones?

A measurement, not a feature: a cross-encoder is trained offline from the bundled
all-MiniLM-L6-v2 and scored leave-one-help-center-out on the development help centers, next to
the match-strength signals the decision reads today (search/decision.py). The figures and the
verdict are in docs/quality.md ("A reader of question and article together").

Steps, each cached in the work folder so a later one can be rerun alone:

    python benchmarks/reader_probe.py record --set ../shared/eval/deflection \\
        --set ../shared/eval/deflection-2 --set eval/deflection-3
    python benchmarks/reader_probe.py pairs --retrieval ../shared/eval
    python benchmarks/reader_probe.py train --learning-rate 2e-4       # no customer message
    python benchmarks/reader_probe.py train --loo --learning-rate 1e-4 # + the other help
    python benchmarks/reader_probe.py score --variants base            #   centers' messages
    python benchmarks/reader_probe.py score --variants loo

`record` searches every message once with the decision off (as `kb tune` does) and keeps the
best article, its signals and the question's English reading; it needs the open dictionaries
imported (`kb dict import ../shared/dict`). The reader always reads English: the bundled model's
vocabulary is English-only, so a Swedish or Russian question is read in the engine's word-by-word
translation and an article in its English version (the same `group`).

Training needs what sentence-transformers' trainer needs beyond the service's own packages:
`pip install datasets accelerate`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

WORK = Path("instance/reader_probe")
# Tokens of question + article read together, and the article's title and opening that fit in
# them beside a question: short, because a training step on two shared CPU cores costs about
# 0.7 s per pair at 160 tokens.
MAX_LENGTH = 128
ARTICLE_CHARS = 400
SEED = 13
FROZEN_LAYERS = 3  # of the bundled model's 6


# ---------------------------------------------------------------------------------------------
# record: what the engine finds for every message of every help center
# ---------------------------------------------------------------------------------------------

def near_miss(query: Mapping[str, Any]) -> bool:
    """Off-topic messages 11-30 of a language are the near misses (deflection-2, -3 READMEs);
    the first set's ten off-topic messages are not split, so none of them counts as one."""
    number = int(query["id"].rsplit("-", 1)[1])
    return not query["relevant_ids"] and number > 10


def record(sets: Sequence[Path], work: Path) -> None:
    """Search every message with the decision off; keep the best article and its evidence."""
    from kb.searcher import embedder_for, imported_lexicon, ranking_config
    from kb.settings import load_settings
    from search import (TranslationSetup, collection_engine, collections_of, decision_off,
                        read_jsonl)

    settings = load_settings()
    if not any(Path(settings["LEXICON_DIR"]).glob("*.tsv")):
        raise SystemExit(f"no dictionaries in {settings['LEXICON_DIR']}: the reader reads "
                         "Swedish and Russian through their translation; run "
                         "`kb dict import ../shared/dict` first")
    embedder = embedder_for(settings)
    setup = TranslationSetup(dictionaries=imported_lexicon(settings))
    config = decision_off(ranking_config(settings, embedder.name))
    rows = []
    for folder in sets:
        corpus = read_jsonl(folder / "corpus.jsonl")
        english = {r["group"]: r for r in corpus if r["lang"] == "en"}
        by_id = {r["id"]: r for r in corpus}
        questions = read_jsonl(folder / "queries.jsonl")
        for name, documents, queries in collections_of(corpus, questions):
            engine = collection_engine(documents, embedder, settings["LANGUAGES"], config, setup)
            for query in queries:
                response = engine.search(query["text"], limit=3)
                translation = (engine.query.translate(query["text"], response.lang, True)
                               if response.lang != "en" else None)
                top = response.results[:3]
                rows.append({
                    "set": folder.name, "id": query["id"], "task": query["task"],
                    "lang": query["lang"], "text": query["text"],
                    "english": translation.text if translation and translation.text
                    else query["text"],
                    "relevant": query["relevant_ids"], "near_miss": near_miss(query),
                    "rule": response.rule,
                    "top": [r.id for r in top],
                    "top_english": [article_text(english.get(by_id[r.id]["group"], by_id[r.id]))
                                    for r in top],
                    "top_native": [article_text(by_id[r.id]) for r in top],
                    "score": top[0].score if top else 0.0,
                    "signals": dict(top[0].signals) if top else {},
                })
            print(f"{folder.name}: {name}, {len(queries)} messages")
    work.mkdir(parents=True, exist_ok=True)
    (work / "recorded.json").write_text(json.dumps(rows, ensure_ascii=False, indent=0))


def cached(work: Path, name: str) -> Any:
    """A file an earlier step wrote, or a message that says which step to run first."""
    path = work / name
    if not path.is_file():
        step = {"recorded.json": "record", "pairs.json": "pairs"}.get(name, "train")
        raise SystemExit(f"{path} is missing: run the `{step}` step first")
    return json.loads(path.read_text())


def article_text(record: Mapping[str, Any]) -> str:
    """Title and opening of an article, as the reader sees it."""
    title = record.get("title") or ""
    body = re.sub(r"\s+", " ", record.get("body") or "")
    return (f"{title}. {body}" if title else body)[:ARTICLE_CHARS]


# ---------------------------------------------------------------------------------------------
# pairs: what the reader learns from (no customer message of any help center)
# ---------------------------------------------------------------------------------------------

# Things no help center of ours covers, swapped in for a question's key noun to make near
# misses ("cancel my gym membership" beside "Cancel your plan"). A swap whose words the help
# center itself uses is skipped: it might still be answered.
OUTSIDE = (
    "gym membership", "Netflix subscription", "car insurance", "passport", "Instagram account",
    "bank card", "mortgage", "electricity bill", "dentist appointment", "Excel spreadsheet",
    "WhatsApp group", "Gmail inbox", "hotel booking", "washing machine", "tax return",
    "library card", "pizza order", "Zoom meeting", "wifi router", "TV remote", "parking permit",
    "visa application", "Spotify playlist", "Uber ride", "flight", "rental car", "pension",
    "phone contract", "Amazon parcel", "Facebook page", "laptop battery", "dishwasher",
    "driving licence", "doctor's prescription", "school report", "wedding invitation",
    "Xbox controller", "PayPal account", "mobile data plan", "smart watch", "apartment lease",
    "Airbnb stay", "dog's vaccination", "concert tickets", "LinkedIn profile", "Dropbox folder",
    "iCloud storage", "Steam game", "Tinder profile", "electric scooter", "coffee machine",
)
STOP = set("""a an the and or but if of to in on at for from by with about into over under is are
was were be been being am do does did done have has had having i you he she it we they me my your
our their his her its this that these those what which who whom whose when where why how can could
should would will shall may might must not no yes so too very just than then there here all any
some each every more most other such only own same as up out off again further once get got
please hi hello thanks thank""".split())
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def content_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if w.lower() not in STOP and len(w) > 2]


def swap_key_noun(question: str, article: str, vocabulary: set[str], rng: random.Random
                  ) -> str | None:
    """The question with the word it shares most rarely with its article (its key noun, in
    practice) swapped for something the help center does not cover; None when none is shared."""
    shared = [w for w in content_words(question) if w.lower() in article.lower()]
    if not shared:
        return None
    # A word of the article's title if there is one (titles name the topic), else the longest
    # shared word: a cheap stand-in for the rarest.
    title = article.split(". ", 1)[0].lower()
    key = max(shared, key=lambda w: (w.lower() in title, len(w)))
    for _ in range(10):
        outside = rng.choice(OUTSIDE)
        if not any(w.lower() in vocabulary for w in outside.split()):
            return re.sub(rf"\b{re.escape(key)}\b", outside, question, count=1)
    return None


def questions_of(record: Mapping[str, Any]) -> list[str]:
    """Questions an article answers, written from the article itself: its title, the questions
    in its body, its first sentence."""
    out = [record["title"]] if record.get("title") else []
    body = record.get("body") or ""
    out += [line.strip(" -*") for line in body.split("\n") if line.strip().endswith("?")]
    first = re.split(r"(?<=[.!?])\s", body.strip(), maxsplit=1)[0]
    if 3 <= len(first.split()) <= 25:
        out.append(first)
    return list(dict.fromkeys(q for q in out if q))


def nearest(query_vectors: np.ndarray, doc_vectors: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k most similar documents per query (cosine; vectors normalized)."""
    sims = query_vectors @ doc_vectors.T
    return np.argsort(-sims, axis=1)[:, :k]


def make_pairs(retrieval: Path, sets: Sequence[Path], work: Path) -> None:
    """Labelled (question, article, 1/0) pairs from the retrieval set and the help centers'
    articles: positives, the nearest wrong articles, off-topic questions beside the nearest
    help-center article, and near misses made by swapping a question's key noun."""
    from search import read_jsonl
    from search.embedder import SentenceTransformerEmbedder

    rng = random.Random(SEED)
    encoder = SentenceTransformerEmbedder()
    pairs: list[tuple[str, str, int, str]] = []  # question, article, label, kind

    # Retrieval set, English side: FAQ paraphrases, Wikipedia questions, news headlines.
    corpus = {r["id"]: r for r in read_jsonl(retrieval / "corpus.jsonl")}
    queries = [q for q in read_jsonl(retrieval / "queries.jsonl")
               if q["lang"] == "en" and q["doc_lang"] == "en"]
    by_pool: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for query in queries:
        by_pool[query["collection"]].append(query)
    general_questions = [q["text"] for q in queries]
    for collection, members in by_pool.items():
        docs = [r for r in corpus.values() if r["collection"] == collection and r["lang"] == "en"]
        texts = [article_text(d) for d in docs]
        doc_vectors = encoder.encode_documents(texts)
        query_vectors = encoder.encode_queries([q["text"] for q in members])
        vocabulary = {w.lower() for t in texts for w in content_words(t)}
        for query, ranked in zip(members, nearest(query_vectors, doc_vectors, 4)):
            relevant = [corpus[i] for i in query["relevant_ids"]]
            positive = article_text(relevant[0])
            pairs.append((query["text"], positive, 1, "retrieval"))
            wrong = [texts[i] for i in ranked if docs[i]["id"] not in query["relevant_ids"]]
            pairs.append((query["text"], wrong[0], 0, "retrieval-hard"))
            swapped = swap_key_noun(query["text"], positive, vocabulary, rng)
            if swapped and rng.random() < 0.5:
                pairs.append((swapped, positive, 0, "retrieval-swap"))
        print(f"retrieval {collection}: {len(members)} questions")

    # Help centers' own articles (English versions): questions written from them.
    for folder in sets:
        records = [r for r in read_jsonl(folder / "corpus.jsonl") if r["lang"] == "en"]
        texts = [article_text(r) for r in records]
        vocabulary = {w.lower() for r in records
                      for w in content_words(r.get("title", "") + " " + r.get("body", ""))}
        doc_vectors = encoder.encode_documents(texts)
        own = [(q, i) for i, r in enumerate(records) for q in questions_of(r)]
        ranked = nearest(encoder.encode_queries([q for q, _ in own]), doc_vectors, 3)
        for (question, i), near in zip(own, ranked):
            # The article without the sentence the question was taken from: customers never
            # copy an article, and a copy would teach the reader to look for one.
            shown = re.sub(r"\s+", " ", texts[i].replace(question, " ", 1)).strip(" .")
            pairs.append((question, shown, 1, "article"))
            wrong = [texts[j] for j in near if j != i]
            pairs += [(question, t, 0, "article-neighbour") for t in wrong[:2]]
            swapped = swap_key_noun(question, texts[i], vocabulary, rng)
            if swapped:
                pairs.append((swapped, shown, 0, "article-swap"))
        # Questions about something else entirely, beside the article nearest to them.
        sample = rng.sample(general_questions, 150)
        for question, near in zip(sample, nearest(encoder.encode_queries(sample), doc_vectors, 1)):
            pairs.append((question, texts[near[0]], 0, "off-topic"))
        print(f"{folder.name}: {len(records)} English articles, {len(own)} questions")

    rng.shuffle(pairs)
    work.mkdir(parents=True, exist_ok=True)
    (work / "pairs.json").write_text(json.dumps(pairs, ensure_ascii=False))
    kinds: dict[str, int] = defaultdict(int)
    for *_, label, kind in pairs:
        kinds[f"{kind}={label}"] += 1
    print(f"{len(pairs)} pairs: {dict(sorted(kinds.items()))}")


# ---------------------------------------------------------------------------------------------
# train: a cross-encoder from the bundled model
# ---------------------------------------------------------------------------------------------

def message_pairs(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, int, str]]:
    """Pairs from recorded customer messages: the answer when the engine found it (1), the
    engine's best wrong article (0), and an off-topic message's two best articles (0)."""
    out = []
    for row in rows:
        texts = [t[:ARTICLE_CHARS] for t in row["top_english"]]
        if not row["relevant"]:
            out += [(row["english"], t, 0, "message-off-topic") for t in texts[:2]]
            continue
        right = [t for i, t in zip(row["top"], texts) if i in row["relevant"]]
        wrong = [t for i, t in zip(row["top"], texts) if i not in row["relevant"]]
        out += [(row["english"], t, 1, "message") for t in right[:1]]
        out += [(row["english"], t, 0, "message-wrong") for t in wrong[:1]]
    return out


def train(pairs: Sequence[tuple[str, str, int, str]], output: Path, start: str | None = None,
          epochs: float = 2.0, batch_size: int = 32, learning_rate: float = 5e-5) -> None:
    """Fine-tune a cross-encoder on `pairs` (binary cross-entropy, the classes balanced) from
    `start`, by default the bundled model with a new scoring head; save it to `output`."""
    from datasets import Dataset
    from sentence_transformers.cross_encoder import (CrossEncoder, CrossEncoderTrainer,
                                                     CrossEncoderTrainingArguments)
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    import torch

    from search.embedder import offline_model_path

    model = CrossEncoder(start or str(offline_model_path()), num_labels=1, max_length=MAX_LENGTH,
                         device="cpu")
    # Only the top layers and the new head learn: the lower ones keep what the bundled model
    # knows about English, and backpropagating through fewer layers makes a step cheaper.
    for name, parameter in model.model.named_parameters():
        if name.startswith("bert.embeddings") or any(
                name.startswith(f"bert.encoder.layer.{i}.") for i in range(FROZEN_LAYERS)):
            parameter.requires_grad = False
    positives = sum(p[2] for p in pairs)
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(
        (len(pairs) - positives) / max(positives, 1)))
    data = Dataset.from_dict({"question": [p[0] for p in pairs], "article": [p[1] for p in pairs],
                              "label": [float(p[2]) for p in pairs]})
    args = CrossEncoderTrainingArguments(
        output_dir=str(output / "checkpoints"), num_train_epochs=epochs,
        per_device_train_batch_size=batch_size, learning_rate=learning_rate, warmup_steps=0.1,
        logging_steps=20, save_strategy="no", report_to="none", seed=SEED, use_cpu=True,
        dataloader_drop_last=False)
    started = time.perf_counter()
    CrossEncoderTrainer(model=model, args=args, train_dataset=data, loss=loss).train()
    model.save_pretrained(str(output))
    print(f"trained on {len(pairs)} pairs ({positives} positive) in "
          f"{time.perf_counter() - started:.0f} s -> {output}")


# ---------------------------------------------------------------------------------------------
# score: the gate, leave one help center out
# ---------------------------------------------------------------------------------------------

SIGNALS = ("dense", "chargram", "bm25", "score")  # match strength of the best article
MAX_FALSE_ABSTENTION = 0.05


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Chance that an answerable message scores above an off-topic one (ties count half)."""
    if not len(positive) or not len(negative):
        return float("nan")
    pos = np.asarray(positive, dtype=float)[:, None]
    neg = np.asarray(negative, dtype=float)[None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def features(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> np.ndarray:
    """One row per message: the named evidence, then the message's language (one-hot)."""
    out = [[row["evidence"][n] for n in names] + [row["lang"] == lang for lang in ("sv", "ru")]
           for row in rows]
    return np.asarray(out, dtype=float)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logistic regression by Newton's method; returns weights and the standardization."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        gradient = z.T @ (p - y) + l2 * w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w, mean, std


def probability(model: tuple[np.ndarray, np.ndarray, np.ndarray], x: np.ndarray) -> np.ndarray:
    w, mean, std = model
    z = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    return 1 / (1 + np.exp(-z @ w))


def rule_left_out(rows: Sequence[Mapping[str, Any]], names: Sequence[str], left_out: str
                  ) -> dict[str, dict[str, float]]:
    """Fit "answerable?" on the other help centers, cut at the strictest threshold that keeps
    their false abstention at or below .05, and score the left-out help center per language."""
    training = [r for r in rows if r["set"] != left_out]
    testing = [r for r in rows if r["set"] == left_out]
    y = np.array([bool(r["relevant"]) for r in training], dtype=float)
    model = fit_logistic(features(training, names), y)
    p_train = probability(model, features(training, names))
    answerable = np.sort(p_train[y == 1])
    # Abstain below the cut: the largest cut with at most 5% of answerable messages below it.
    cut = answerable[int(np.floor(MAX_FALSE_ABSTENTION * len(answerable)))]
    p_test = probability(model, features(testing, names))
    out = {}
    for lang in ("en", "sv", "ru"):
        mine = [(r, p) for r, p in zip(testing, p_test) if r["lang"] == lang]
        ans = [p for r, p in mine if r["relevant"]]
        off = [p for r, p in mine if not r["relevant"]]
        near = [p for r, p in mine if r["near_miss"]]
        out[lang] = {"off_topic_caught": float(np.mean(np.array(off) < cut)),
                     "near_miss_caught": float(np.mean(np.array(near) < cut)) if near
                     else float("nan"),
                     "false_abstention": float(np.mean(np.array(ans) < cut)),
                     "auc": auc(ans, off)}
    return out


def reader_scores(model_dir: Path, rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """The reader's logit for each message and its best article (0 when nothing was found)."""
    from sentence_transformers.cross_encoder import CrossEncoder
    import torch

    if not model_dir.is_dir():
        raise SystemExit(f"{model_dir} is missing: run the `train` step first")
    model = CrossEncoder(str(model_dir), max_length=MAX_LENGTH, device="cpu")
    todo = [(i, (r["english"], r["top_english"][0][:ARTICLE_CHARS]))
            for i, r in enumerate(rows) if r["top"]]
    logits = model.predict([p for _, p in todo], batch_size=64,
                           activation_fn=torch.nn.Identity(), show_progress_bar=False)
    out = [0.0] * len(rows)
    for (i, _), logit in zip(todo, logits):
        out[i] = float(logit)
    return out


def cost_per_pair(model_dir: Path, rows: Sequence[Mapping[str, Any]], repeat: int = 40
                  ) -> dict[str, float]:
    """Milliseconds to read one message with its best article, and with its top 3, on one
    thread in PyTorch (median of `repeat`), next to the bundled model embedding the message
    (the engine's own model step) in the same run."""
    from sentence_transformers.cross_encoder import CrossEncoder
    import torch

    from search.embedder import SentenceTransformerEmbedder

    torch.set_num_threads(1)
    model = CrossEncoder(str(model_dir), max_length=MAX_LENGTH, device="cpu")
    embedder = SentenceTransformerEmbedder()
    sample = [r for r in rows if len(r["top"]) == 3][:repeat]
    timings: dict[str, list[float]] = {"top1": [], "top3": [], "embed_question": []}
    for row in sample:
        for name, count in (("top1", 1), ("top3", 3)):
            pairs = [(row["english"], text[:ARTICLE_CHARS]) for text in row["top_english"][:count]]
            started = time.perf_counter()
            model.predict(pairs, show_progress_bar=False)
            timings[name].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        embedder.encode_queries([row["english"]])
        timings["embed_question"].append((time.perf_counter() - started) * 1000)
    out = {name: float(np.median(values)) for name, values in timings.items()}
    out["top1_per_embed"] = out["top1"] / out["embed_question"]
    out["top3_per_embed"] = out["top3"] / out["embed_question"]
    return out


def score(work: Path, variants: Sequence[str]) -> dict[str, Any]:
    """AUCs per help center and language, and the combined rules left out, for each reader."""
    rows = cached(work, "recorded.json")
    sets = sorted({r["set"] for r in rows})
    for row in rows:
        row["evidence"] = {n: float(row["signals"].get(n, row.get(n, 0.0)) if n != "score"
                                    else row["score"]) for n in SIGNALS}
    report: dict[str, Any] = {"auc": {}, "rules": {}}
    for variant in variants:
        for left_out in sets:
            model_dir = work / (f"reader-loo-{left_out}" if variant == "loo"
                                else f"reader-{variant}")
            mine = [r for r in rows if r["set"] == left_out]
            for row, value in zip(mine, reader_scores(model_dir, mine)):
                row["evidence"][f"reader_{variant}"] = value
    for name in sets:
        for lang in ("en", "sv", "ru"):
            mine = [r for r in rows if r["set"] == name and r["lang"] == lang]
            ans = [r for r in mine if r["relevant"]]
            off = [r for r in mine if not r["relevant"]]
            near = [r for r in mine if r["near_miss"]]
            cell = {}
            for signal in list(SIGNALS) + [f"reader_{v}" for v in variants]:
                cell[signal] = {
                    "off_topic": auc([r["evidence"][signal] for r in ans],
                                     [r["evidence"][signal] for r in off]),
                    "near_miss": auc([r["evidence"][signal] for r in ans],
                                     [r["evidence"][signal] for r in near])}
            report["auc"][f"{name} {lang}"] = cell
    combos = {"match strength": ("dense", "chargram", "bm25")}
    for variant in variants:
        combos[f"reader {variant}"] = (f"reader_{variant}",)
        combos[f"match strength + reader {variant}"] = ("dense", "chargram", "bm25",
                                                         f"reader_{variant}")
    for label, names in combos.items():
        report["rules"][label] = {left_out: rule_left_out(rows, names, left_out)
                                  for left_out in sets}
    first = variants[0]
    report["cost_ms_one_thread"] = cost_per_pair(
        work / (f"reader-loo-{sets[0]}" if first == "loo" else f"reader-{first}"), rows)
    (work / "report.json").write_text(json.dumps(report, indent=1))
    return report


def print_report(report: Mapping[str, Any]) -> None:
    """The gate's tables, as docs/quality.md quotes them."""
    print("AUC answerable vs off-topic (vs near misses), best article")
    for cell, signals in report["auc"].items():
        line = "  ".join(f"{s} {v['off_topic']:.2f}" + (f" ({v['near_miss']:.2f})"
                                                        if v["near_miss"] == v["near_miss"] else "")
                         for s, v in signals.items())
        print(f"{cell:18s} {line}")
    print("\nLeft out: off-topic caught / near misses caught / false abstention, en | sv | ru")
    for label, per_set in report["rules"].items():
        for name, langs in per_set.items():
            print(f"{label:34s} {name:14s} " + " | ".join(
                f"{m['off_topic_caught']:.2f} / {m['near_miss_caught']:.2f} / "
                f"{m['false_abstention']:.2f}" for m in langs.values()))
    print(f"\ncost per message, one thread (ms): {report['cost_ms_one_thread']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("record", "pairs", "train", "score"))
    parser.add_argument("--set", dest="sets", action="append", type=Path, default=[])
    parser.add_argument("--retrieval", type=Path, default=Path("../shared/eval"))
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--loo", action="store_true",
                        help="train: one reader per left-out help center, continued from the "
                             "base reader on the other help centers' messages")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--name", default="base", help="train: the reader's folder, reader-NAME "
                        "(with --loo: the base it continues from)")
    parser.add_argument("--variants", default="base",
                        help="score: readers to score, comma-separated (base, loo)")
    args = parser.parse_args()
    sets = args.sets or [Path("../shared/eval/deflection"), Path("../shared/eval/deflection-2"),
                         Path("eval/deflection-3")]
    if args.step == "record":
        record(sets, args.work)
    elif args.step == "pairs":
        make_pairs(args.retrieval, sets, args.work)
    elif args.step == "train" and not args.loo:
        pairs = [tuple(p) for p in cached(args.work, "pairs.json")]
        train(pairs, args.work / f"reader-{args.name}", epochs=args.epochs,
              learning_rate=args.learning_rate)
    elif args.step == "train":
        rows = cached(args.work, "recorded.json")
        base = [tuple(p) for p in cached(args.work, "pairs.json")]
        rng = random.Random(SEED)
        for left_out in sorted({r["set"] for r in rows}):
            messages = message_pairs(r for r in rows if r["set"] != left_out)
            # Some of the base pairs again, so the messages refine what it learned.
            pairs = messages + rng.sample(base, min(len(base), len(messages) // 2))
            rng.shuffle(pairs)
            train(pairs, args.work / f"reader-loo-{left_out}",
                  start=str(args.work / f"reader-{args.name}"), epochs=args.epochs,
                  learning_rate=args.learning_rate)
    else:
        print_report(score(args.work, args.variants.split(",")))


if __name__ == "__main__":
    main()
