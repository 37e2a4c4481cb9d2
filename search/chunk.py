"""Splitting articles into chunks: one per section, long sections cut into overlapping windows.

Each chunk carries its article's title and summary as context, because a section such as
"Step 3" means little on its own, and small models only see the first ~256 tokens of a text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.article import Article

MAX_WORDS = 120
OVERLAP_WORDS = 30


@dataclass(frozen=True)
class Chunk:
    """A piece of one article in one language, addressable by its heading anchor."""

    article_id: str
    lang: str
    anchor: str
    heading: str
    title: str
    summary: str
    text: str
    position: int

    @property
    def id(self) -> str:
        return f"{self.article_id}#{self.position}"

    @property
    def embed_text(self) -> str:
        """What the model sees: title and summary as context, then the heading and the text."""
        parts = [self.title, self.summary, self.heading, self.text]
        return "\n".join(p for p in parts if p)


def _windows(text: str, max_words: int, overlap: int) -> list[str]:
    """Cut a long text at sentence ends into windows of about `max_words` words."""
    sentences = []
    for sentence in re.split(r"(?<=[.!?…])\s+|\n+", text):
        words = sentence.split()
        # A "sentence" longer than a window (a list without full stops) is cut by word count.
        for start in range(0, len(words), max_words):
            sentences.append(" ".join(words[start:start + max_words]))
    windows: list[list[str]] = [[]]
    count = 0
    for sentence in sentences:
        n = len(sentence.split())
        if count + n > max_words and windows[-1]:
            carry: list[str] = []
            carried = 0
            for previous in reversed(windows[-1]):
                carried += len(previous.split())
                if carried > overlap:
                    break
                carry.insert(0, previous)
            windows.append(carry)
            count = sum(len(s.split()) for s in carry)
        windows[-1].append(sentence)
        count += n
    return [" ".join(w) for w in windows if w]


def chunk_text(article_id: str, lang: str, title: str, summary: str,
               sections: list[tuple[str, str, str]], max_words: int = MAX_WORDS,
               overlap: int = OVERLAP_WORDS) -> list[Chunk]:
    """Chunks from (anchor, heading, text) sections; the base of both article and plain chunking."""
    chunks: list[Chunk] = []
    for anchor, heading, text in sections:
        for window in _windows(text, max_words, overlap) or [""]:
            if not window and not heading:
                continue
            chunks.append(Chunk(article_id, lang, anchor, heading, title, summary, window,
                                len(chunks)))
    if not chunks:
        chunks.append(Chunk(article_id, lang, "", "", title, summary, "", 0))
    return chunks


def chunk_article(article: Article, max_words: int = MAX_WORDS,
                  overlap: int = OVERLAP_WORDS) -> list[Chunk]:
    """Split an article at its headings."""
    sections = [(s.anchor, s.heading or "", s.text) for s in article.sections]
    return chunk_text(article.id, article.lang, article.title, article.summary, sections,
                      max_words, overlap)
