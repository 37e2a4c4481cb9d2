"""Search library: articles in, ranked answers out. Plain Python, no web framework.

The small interface the web service and the CLI use:

- `load_articles(root, languages)` -> ArticleSet (articles plus problems); `check_articles` for writers
- `document_from_article(article)` -> Document, the unit the index stores
- `SearchIndex.build(documents, embedder)` / `.load(path, model)`; `publish_index(index, link)`
- `SearchEngine(index, embedder, languages, translator=...).search(query, lang=..., hints=...)`
  -> SearchResponse
- `translator_for(index, load_lexicon_dir(path))` -> QueryTranslator (Swedish and Russian questions
  in English); `read_dictionaries(paths)` / `write_tables(tables, path)` import open dictionaries
"""

from search.check import check_articles
from search.collection import ArticleSet, load_articles
from search.document import Document, document_from_article
from search.engine import RankingConfig, Result, SearchEngine, SearchResponse
from search.dictionaries import read_dictionaries, write_tables
from search.index import SearchIndex, publish_index
from search.lexicon import Lexicon, load_lexicon_dir
from search.query_translation import QueryTranslator, translator_for

__all__ = [
    "ArticleSet", "Document", "Lexicon", "QueryTranslator", "RankingConfig", "Result",
    "SearchEngine", "SearchIndex", "SearchResponse", "check_articles", "document_from_article",
    "load_articles", "load_lexicon_dir", "publish_index", "read_dictionaries", "translator_for",
    "write_tables",
]
