"""Small search indexes built from a few articles, with the fake model (no model to load)."""

from __future__ import annotations

from collections.abc import Iterable

from search.document import document_from_record
from search.index import SearchIndex
from tests.support.fakes import FakeEmbedder


def index_of(articles: Iterable[tuple[str, str, str, str]]) -> SearchIndex:
    """An index of (lang, slug, title, body) articles; the same slug in two languages is one
    article translated."""
    return SearchIndex.build([document_from_record(
        {"id": f"{lang}/{slug}", "lang": lang, "group": slug, "title": title, "body": body})
        for lang, slug, title, body in articles], FakeEmbedder())
