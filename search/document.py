"""What the index stores per article: searchable text, chunks and display fields, in one shape.

Both help-center articles (markdown) and evaluation records (JSON lines) become Documents, so the
engine has a single input type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from search.article import Article, content_hash
from search.chunk import Chunk, chunk_article, chunk_text


@dataclass(frozen=True)
class Document:
    """One article in one language, ready to index."""

    id: str
    slug: str
    lang: str
    title: str
    summary: str
    text: str  # plain text of the whole article, for keyword search
    chunks: tuple[Chunk, ...]
    category: str = ""
    tags: tuple[str, ...] = ()
    hash: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def keyword_text(self) -> str:
        """Title and tags count as words of the article too."""
        return "\n".join(p for p in (self.title, " ".join(self.tags), self.summary, self.text) if p)

    @property
    def embed_text(self) -> str:
        """The whole article for the article-level vector (the model truncates long ones)."""
        return "\n".join(p for p in (self.title, self.summary, self.text) if p)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["chunks"] = [asdict(c) for c in self.chunks]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        values = dict(data)
        values["chunks"] = tuple(Chunk(**c) for c in values["chunks"])
        values["tags"] = tuple(values.get("tags", ()))
        return cls(**values)


def document_from_article(article: Article) -> Document:
    """A published help-center article as a Document."""
    text = "\n".join(block for section in article.sections
                     for block in ([section.heading] if section.heading else []) + section.blocks)
    return Document(
        id=article.id, slug=article.slug, lang=article.lang, title=article.title,
        summary=article.summary, text=text, chunks=tuple(chunk_article(article)),
        category=article.category, tags=tuple(article.tags), hash=article.content_hash,
    )


def document_from_record(record: Mapping[str, Any], slug_field: str = "group") -> Document:
    """An evaluation-set record (`id`, `lang`, `title`, `body`, optional `group`) as a Document."""
    title = str(record.get("title") or "")
    body = str(record["body"])
    slug = str(record.get(slug_field) or record["id"])
    chunks = chunk_text(str(record["id"]), str(record["lang"]), title, "", [("", "", body)])
    return Document(
        id=str(record["id"]), slug=slug, lang=str(record["lang"]), title=title, summary="",
        text=body, chunks=tuple(chunks), hash=content_hash(title, "", body),
        extra={"collection": record.get("collection")},
    )
