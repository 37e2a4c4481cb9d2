"""Answers built from flat buffers: the same fields, chunks and stem overlaps as the documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.answer_store import AnswerStore, PackedStrings
from search.collection import load_articles
from search.document import Document, document_from_article
from search.engine import SearchEngine
from search.index import SearchIndex
from search.text import stem_tokens
from tests.support.articles import WriteArticle
from tests.support.help_center import ARTICLES
from tests.support.fakes import FakeEmbedder


@pytest.fixture
def documents(articles_dir: Path, write_article: WriteArticle) -> list[Document]:
    """The engine tests' help center in three languages, with a second section in one article."""
    for (lang, slug), (title, summary, body) in ARTICLES.items():
        if slug == "reset-password" and lang == "en":
            body += "\n## If no email arrives\n\nCheck the spam folder, then ask for a new link.\n"
        write_article(lang, slug, title=title, summary=summary, body=body)
    articles = load_articles(articles_dir, ("en", "sv", "ru"))
    return [document_from_article(a) for a in articles.published()]


def test_packed_strings_give_back_every_row() -> None:
    rows = [("Återställ lösenordet", "", "ok"), ("Сброс пароля", "ё", "")]
    packed = PackedStrings(rows, width=3)
    assert len(packed) == 2
    assert [tuple(packed.row(i)) for i in range(2)] == rows
    with pytest.raises(IndexError):
        packed.row(2)
    with pytest.raises(IndexError):
        packed.row(-1)


def test_packed_strings_refuse_ragged_rows() -> None:
    with pytest.raises(ValueError, match="every row needs 2 strings"):
        PackedStrings([("a", "b"), ("c",)], width=2)


def test_the_store_holds_what_the_documents_say(documents: list[Document]) -> None:
    store = AnswerStore(documents)
    first_chunk = 0
    for position, doc in enumerate(documents):
        fields = store.document(position)
        assert (fields.id, fields.slug, fields.lang, fields.title, fields.summary) == \
            (doc.id, doc.slug, doc.lang, doc.title, doc.summary)
        chunks = store.chunks_of(position)
        # The index numbers chunks document after document, in this order.
        assert chunks == range(first_chunk, first_chunk + len(doc.chunks))
        first_chunk += len(doc.chunks)
        for chunk_position, chunk in zip(chunks, doc.chunks):
            assert store.chunk(chunk_position) == (chunk.text or chunk.heading, chunk.anchor)


@pytest.mark.parametrize("query", ["forgot my password reset link", "glömt lösenordet",
                                   "возврат денег", "nothing in common", ""])
def test_stem_overlaps_count_the_shared_stems_of_each_chunk(documents: list[Document],
                                                            query: str) -> None:
    store = AnswerStore(documents)
    for position, doc in enumerate(documents):
        wanted = set(stem_tokens(query, doc.lang))
        expected = [len(wanted & set(stem_tokens(c.heading + " " + c.text, doc.lang)))
                    for c in doc.chunks]
        assert store.stem_overlaps(wanted, store.chunks_of(position)) == expected
    assert any(any(store.stem_overlaps(stem_tokens(query, d.lang), store.chunks_of(p)))
               for p, d in enumerate(documents)) == bool(query and query != "nothing in common")


def test_a_document_without_chunks_answers_with_its_text() -> None:
    bare = Document(id="en/bare", slug="bare", lang="en", title="Bare", summary="", text="Just text.",
                    chunks=())
    store = AnswerStore([bare])
    assert store.chunks_of(0) == range(0, 0)
    assert store.document(0).text == "Just text."
    assert store.stem_overlaps(["text"], store.chunks_of(0)) == []


class Untouchable:
    """Stands in for a document that answering must not read."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"an answer read the document's {name!r}")


def test_answers_do_not_read_the_documents(documents: list[Document]) -> None:
    """In a forked worker, reading a document's objects copies their pages into the worker."""
    embedder = FakeEmbedder()
    engine = SearchEngine(SearchIndex.build(documents, embedder), embedder, ("en", "sv", "ru"))
    engine.warm_up()  # every language's pool, as the master does before forking
    questions = ["I forgot my password", "glömt lösenordet", "вернуть деньги за подписку"]
    expected = [engine.search(q, limit=3, trust_lang=False) for q in questions]
    engine.index.documents[:] = [Untouchable()] * len(documents)
    for question, before in zip(questions, expected):
        after = engine.search(question, limit=3)
        assert after.results == before.results
        assert after.results  # a real answer, not an empty one


def test_the_snippet_and_anchor_come_from_the_matching_section(documents: list[Document]) -> None:
    embedder = FakeEmbedder()
    engine = SearchEngine(SearchIndex.build(documents, embedder), embedder, ("en", "sv", "ru"))
    reset = next(d for d in documents if d.id == "en/reset-password")
    spam = next(c for c in reset.chunks if "spam" in c.text)
    result = next(r for r in engine.search("no email arrives, spam folder", lang="en").results
                  if r.id == "en/reset-password")
    assert result.anchor == spam.anchor != reset.chunks[0].anchor
    assert "<mark>spam</mark>" in result.snippet
