"""Turning settings into a working search engine: the model, the cache, the index on disk."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search import (TRANSLATION_TARGET, AnswerCache, ArticleSet, BuildReport, CachedEmbedder,
                    Embedder, EmbeddingCache, Lexicon, RankingConfig, SearchEngine, SearchIndex,
                    SentenceTransformerEmbedder, SharedCache, UnusableIndexError,
                    decision_for, decision_measured, document_from_article, load_articles,
                    load_embedder, load_lexicon_dir, publish_index, ranking_config_for,
                    translator_for)

# Inside a build: the article files it was made from.
ARTICLES = "articles"

_EMBEDDERS: dict[str, SentenceTransformerEmbedder] = {}
_LEXICONS: dict[tuple[str, tuple[str, ...]], tuple[tuple[Any, ...], Lexicon]] = {}


def model_for(settings: Mapping[str, Any]) -> SentenceTransformerEmbedder:
    """The configured model, loaded once per process; enough for answering queries."""
    model = settings["MODEL"]
    if model not in _EMBEDDERS:
        _EMBEDDERS[model] = load_embedder(model, fallback=settings["MODEL_FALLBACK"],
                                          runtime=settings["MODEL_RUNTIME"],
                                          export_dir=Path(settings["CACHE_DIR"]) / "onnx")
    return _EMBEDDERS[model]


def use_model(name: str, embedder: Embedder) -> None:
    """Answer for the model `name` with `embedder` from now on (tests register a fast fake)."""
    _EMBEDDERS[name] = embedder  # type: ignore[assignment]


def embedder_for(settings: Mapping[str, Any]) -> CachedEmbedder:
    """The model behind the on-disk embedding cache, for embedding documents (index, eval)."""
    cache = EmbeddingCache(Path(settings["CACHE_DIR"]) / "embeddings.sqlite")
    return CachedEmbedder(model_for(settings), cache)


def imported_lexicon(settings: Mapping[str, Any]) -> Lexicon:
    """The dictionaries imported into LEXICON_DIR, read once per process and again when a file
    changes (an empty lexicon when there are none)."""
    directory = Path(settings["LEXICON_DIR"])
    languages = tuple(settings["LANGUAGES"])
    files = sorted(directory.glob("*.tsv")) if directory.is_dir() else []
    stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    key = (str(directory), languages)
    cached = _LEXICONS.get(key)
    if cached is None or cached[0] != stamp:
        _LEXICONS[key] = (stamp, load_lexicon_dir(directory, languages))
    return _LEXICONS[key][1]


def ranking_config(settings: Mapping[str, Any], model: str,
                   dictionaries: Lexicon | None = None) -> RankingConfig:
    """How answers are ranked with `model` when questions are read with `dictionaries` (by
    default the imported ones): the same for the service, `kb eval` and `kb tune`."""
    if dictionaries is None:
        dictionaries = imported_lexicon(settings)
    return ranking_config_for(model, settings["SOURCE_LANGUAGE"],
                              dictionary_languages=dictionaries.dictionary_languages())


def engine_for(index: SearchIndex, embedder: Embedder, settings: Mapping[str, Any],
               shared_cache: SharedCache | None = None) -> AnswerCache:
    """An engine over `index` that translates questions with the imported and learned lexicons,
    behind the answer cache."""
    translator = translator_for(index, imported_lexicon(settings))
    engine = SearchEngine(index, embedder, settings["LANGUAGES"],
                          ranking_config(settings, embedder.name), translator,
                          settings["MAX_QUERY_CHARS"])
    return AnswerCache(engine, shared_cache)


def load_articles_for(settings: Mapping[str, Any], root: Path | None = None) -> ArticleSet:
    return load_articles(root or Path(settings["ARTICLES_DIR"]), settings["LANGUAGES"],
                         settings["ARTICLE_URL"])


def copy_article_files(articles: ArticleSet, folder: Path) -> None:
    """Copy every article file that parsed, and the topic names, into `folder`, keeping their
    places under the root."""
    for path in [article.path for article in articles.articles] + articles.topic_files:
        destination = folder / path.relative_to(articles.root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def articles_of_build(settings: Mapping[str, Any], build: Path) -> ArticleSet:
    """The articles a build was made from; for a build made before builds carried them, the
    articles folder."""
    carried = build / ARTICLES
    return load_articles_for(settings, carried if carried.is_dir() else None)


@dataclass
class IndexBuild:
    """The outcome of `build_and_publish`."""

    articles: ArticleSet
    report: BuildReport
    index: SearchIndex


def build_and_publish(settings: Mapping[str, Any], root: Path | None = None,
                      index_dir: Path | None = None,
                      progress: Callable[[int, int], None] | None = None,
                      say: Callable[[str], None] = lambda message: None) -> IndexBuild:
    """Index the published articles and atomically replace the served index; `progress` hears
    how many texts are embedded so far, `say` each step."""
    started = time.perf_counter()
    articles = load_articles_for(settings, root)
    documents = [document_from_article(a) for a in articles.published()]
    if not documents:
        # Publishing an empty index would leave every customer without answers.
        raise UnusableIndexError(
            f"no published articles in {articles.root}; nothing was published and the current "
            "index keeps serving (check KB_ARTICLES_DIR, then run kb check)")
    embedder = embedder_for(settings)
    chunks = sum(len(d.chunks) for d in documents)
    say(f"embedding {len(documents) + chunks} texts ({len(documents)} articles, {chunks} "
        f"sections) with {embedder.name}; texts embedded before come from the cache")
    index = SearchIndex.build(documents, embedder, settings["HNSW_THRESHOLD"], progress)
    say("publishing the new index")
    # The build carries the article files it was made from, so the articles API of every host
    # serving it shows what search finds, whatever the host's own articles folder holds.
    target = publish_index(index, index_dir or Path(settings["INDEX_DIR"]),
                           attach=lambda build: copy_article_files(articles, build / ARTICLES))
    report = BuildReport(documents=len(documents), chunks=int(index.manifest["chunks"]),
                         embedded=embedder.stats.embedded, reused=embedder.stats.reused,
                         seconds=time.perf_counter() - started,
                         index_kind=index.chunk_vectors.kind, path=target)
    embedder.cache.close()
    return IndexBuild(articles, report, index)


def derived_from_help_center(index: SearchIndex, settings: Mapping[str, Any]) -> list[str]:
    """What an index build learned from the help center itself, and how questions will be judged
    with it, in the words `kb index` prints: nothing here is tuned to one help center, so an
    operator can see what a new one gets."""
    vocabulary = ", ".join(f"{lang} {index.keyword[lang].vocabulary_size}"
                           for lang in sorted(index.keyword))
    lines = [f"its vocabulary, which a question's words are weighed against (familiar or not): "
             f"{vocabulary} stems"]
    learned = index.lexicon
    if learned.entries:
        pairs = ", ".join(f"{lang}→en {learned.size(lang)}" for lang in learned.languages())
        lines.append(f"word pairs learned from its translated articles: {pairs}")
    translated = [lang for lang in index.keyword if lang != TRANSLATION_TARGET]
    if translated and TRANSLATION_TARGET in index.keyword:
        read = set(imported_lexicon(settings).dictionary_languages())
        with_dictionary = [lang for lang in sorted(translated) if lang in read]
        without = [lang for lang in sorted(translated) if lang not in read]
        if with_dictionary:
            lines.append(f"{', '.join(with_dictionary)} questions: read with the imported "
                         "dictionaries, ranked and judged by the weights and abstention cuts "
                         "chosen with them")
        if without:
            lines.append(f"{', '.join(without)} questions: no dictionary imported, so read with "
                         "the learned pairs only, ranked and judged by the weights and abstention "
                         "cuts chosen without one (kb dict import adds one)")
    model = settings["MODEL"]
    if decision_measured(model):
        lines.append(f"when no article answers: cuts chosen for {decision_for(model).family}")
    else:
        lines.append(f"when no article answers: {model} has no cuts of its own, so it is judged "
                     "by the bundled model's, which may not suit its similarities (measure it "
                     "with kb tune: docs/operations.md)")
    return lines


def open_engine(settings: Mapping[str, Any], index_dir: Path | None = None) -> AnswerCache:
    """Load the served index, refusing one built with another model."""
    embedder = model_for(settings)
    index = SearchIndex.load(index_dir or Path(settings["INDEX_DIR"]), embedder.name)
    return engine_for(index, embedder, settings)
