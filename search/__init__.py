"""Search library: articles in, ranked answers out. Plain Python, no web framework.

The small interface the web service and the CLI use:

- `load_articles(root, languages)` -> ArticleSet (articles plus problems); `check_articles` for writers
- `document_from_article(article)` -> Document, the unit the index stores
- `SearchIndex.build(documents, embedder)` / `.load(path, model)`; `publish_index(index, link)`
- `SearchEngine(index, embedder, languages).search(query, lang=..., hints=...)` -> SearchResponse
"""

from search.check import check_articles
from search.collection import ArticleSet, load_articles
from search.document import Document, document_from_article
from search.engine import RankingConfig, Result, SearchEngine, SearchResponse
from search.index import SearchIndex, publish_index

__all__ = [
    "ArticleSet", "Document", "RankingConfig", "Result", "SearchEngine", "SearchIndex",
    "SearchResponse", "check_articles", "document_from_article", "load_articles", "publish_index",
]
