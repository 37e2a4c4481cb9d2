"""Search library: articles in, ranked answers out. Plain Python, no web framework.

The small interface the web service and the CLI use (`from search import ...`):

- content: `load_articles(root, languages)` -> ArticleSet; `check_articles` for writers;
  `is_stale(translation, source)`, `stamp_translation`; `fallback_order(lang, fallbacks, languages)`
- the index: `document_from_article(article)` -> Document; `SearchIndex.build(documents, embedder)`
  / `.load(path, model)`; `publish_index(index, link)`; `published_identity(link)`
- searching: `SearchEngine(index, embedder, languages, ranking_config_for(model), translator)
  .search(query, lang=..., hints=...)` -> SearchResponse; `AnswerCache(engine, shared_cache)`
  remembers answers; `to_json(response)` is an answer's one JSON form
- query translation: `translator_for(index, load_lexicon_dir(path))` -> QueryTranslator;
  `read_dictionaries(paths)` / `write_tables(tables, path)` import open dictionaries
- the model: `load_embedder(name, ...)`; `CachedEmbedder` embeds documents through a disk cache
- `evaluate(corpus, queries, embedder, languages, config)`: `kb eval`

Each name is imported from its module on first use, so a command that only checks articles never
loads the model stack (FAISS, ONNX, scikit-learn).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Name -> the module that defines it.
_EXPORTS = {
    "Article": "search.article",
    "ArticleSet": "search.collection",
    "load_articles": "search.collection",
    "CheckRules": "search.check",
    "check_articles": "search.check",
    "Severity": "search.problem",
    "is_stale": "search.stamp",
    "stamp_translation": "search.stamp",
    "fallback_order": "search.language",
    "Document": "search.document",
    "document_from_article": "search.document",
    "BuildReport": "search.index",
    "SearchIndex": "search.index",
    "UnusableIndexError": "search.index",
    "finished_builds": "search.index",
    "publish_index": "search.index",
    "published_identity": "search.index",
    "SearchEngine": "search.engine",
    "AnswerCache": "search.answer_cache",
    "SharedCache": "search.answer_cache",
    "Result": "search.answer",
    "SearchResponse": "search.answer",
    "to_json": "search.answer",
    "RankingConfig": "search.ranking",
    "TRANSLATION_TARGET": "search.ranking",
    "ranking_config_for": "search.ranking",
    "decision_for": "search.decision",
    "decision_measured": "search.decision",
    "QueryTranslator": "search.query_translation",
    "translator_for": "search.query_translation",
    "Lexicon": "search.lexicon",
    "LexiconError": "search.lexicon",
    "load_lexicon_dir": "search.lexicon",
    "read_dictionaries": "search.dictionaries",
    "write_tables": "search.dictionaries",
    "Embedder": "search.embedder",
    "ModelLoadError": "search.embedder",
    "RUNTIMES": "search.embedder",
    "SentenceTransformerEmbedder": "search.embedder",
    "load_embedder": "search.embedder",
    "CachedEmbedder": "search.embedding_cache",
    "EmbeddingCache": "search.embedding_cache",
    "EvalDataError": "search.evaluation",
    "TranslationSetup": "search.evaluation",
    "evaluate": "search.evaluation",
    "read_jsonl": "search.evaluation",
    "collection_engine": "search.evaluation",
    "collections_of": "search.evaluation",
    "Choice": "search.tuning",
    "choose": "search.tuning",
    "decision_off": "search.tuning",
    "leave_one_out": "search.tuning",
    "record_questions": "search.tuning",
    "QueryMemo": "search.tuning",
    "RankingRuns": "search.tuning",
    "generalises": "search.tuning",
    "ranking_families": "search.tuning",
    "ranking_leave_one_out": "search.tuning",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name from its module the first time it is asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


if TYPE_CHECKING:
    from search.answer import Result, SearchResponse, to_json
    from search.answer_cache import AnswerCache, SharedCache
    from search.article import Article
    from search.check import CheckRules, check_articles
    from search.decision import decision_for, decision_measured
    from search.collection import ArticleSet, load_articles
    from search.dictionaries import read_dictionaries, write_tables
    from search.document import Document, document_from_article
    from search.embedder import (RUNTIMES, Embedder, ModelLoadError, SentenceTransformerEmbedder,
                                 load_embedder)
    from search.embedding_cache import CachedEmbedder, EmbeddingCache
    from search.engine import SearchEngine
    from search.evaluation import (EvalDataError, TranslationSetup, collection_engine,
                                   collections_of, evaluate, read_jsonl)
    from search.index import (BuildReport, SearchIndex, UnusableIndexError, finished_builds,
                              publish_index, published_identity)
    from search.language import fallback_order
    from search.lexicon import Lexicon, LexiconError, load_lexicon_dir
    from search.tuning import (Choice, QueryMemo, RankingRuns, choose, decision_off, generalises,
                               leave_one_out, ranking_families, ranking_leave_one_out,
                               record_questions)
    from search.problem import Severity
    from search.query_translation import QueryTranslator, translator_for
    from search.ranking import TRANSLATION_TARGET, RankingConfig, ranking_config_for
    from search.stamp import is_stale, stamp_translation
