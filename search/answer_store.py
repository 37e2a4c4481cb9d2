"""What answers are made of, for every document and chunk, in a few flat buffers.

Under gunicorn the index is loaded once in the master and the workers share its memory pages
until one of them writes to a page. In CPython merely reading an object writes to it (its
reference count), so building answers from the index's Document and Chunk objects made each
worker copy, one page at a time, every article it ever answered with: most of the knowledge
base after a few thousand distinct questions. Here an answer's strings are decoded from slices
of one UTF-8 buffer and each chunk's stems are ids in one array; reading them writes nothing
the master's pages hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from search.document import Document
from search.text import stem_tokens


class PackedStrings:
    """Rows of strings (the same number in each row) in one UTF-8 buffer with end offsets."""

    def __init__(self, rows: Iterable[Sequence[str]], width: int):
        self.width = width
        encoded = [value.encode("utf-8") for row in rows for value in row]
        if len(encoded) % width:
            raise ValueError(f"every row needs {width} strings")
        self._buffer = b"".join(encoded)
        self._ends = np.cumsum([len(value) for value in encoded], dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ends) // self.width

    def row(self, index: int) -> list[str]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        first = index * self.width
        start = int(self._ends[first - 1]) if first else 0
        values = []
        for end in self._ends[first:first + self.width].tolist():
            values.append(self._buffer[start:end].decode("utf-8"))
            start = end
        return values


class DocumentFields(NamedTuple):
    """What a result shows of its article; `text` only for an article without chunks."""

    id: str
    slug: str
    lang: str
    title: str
    summary: str
    text: str


class ChunkFields(NamedTuple):
    """A snippet's source (the chunk's text, else its heading) and the anchor it links to."""

    source: str
    anchor: str


class AnswerStore:
    """Display fields and chunk stems of the indexed documents, in index order."""

    def __init__(self, documents: Sequence[Document]):
        self._documents = PackedStrings(
            ((d.id, d.slug, d.lang, d.title, d.summary, "" if d.chunks else d.text)
             for d in documents), width=len(DocumentFields._fields))
        self._chunks = PackedStrings(((c.text or c.heading, c.anchor)
                                      for d in documents for c in d.chunks),
                                     width=len(ChunkFields._fields))
        self._first_chunk = np.cumsum([0] + [len(d.chunks) for d in documents], dtype=np.int64)
        # Each chunk's distinct stems as ids into a vocabulary, chunk after chunk.
        self._stem_ids: dict[str, int] = {}
        ids: list[int] = []
        stem_ends: list[int] = []
        for doc in documents:
            for chunk in doc.chunks:
                for stem in set(stem_tokens(chunk.heading + " " + chunk.text, doc.lang)):
                    ids.append(self._stem_ids.setdefault(stem, len(self._stem_ids)))
                stem_ends.append(len(ids))
        self._ids = np.array(ids, dtype=np.int32)
        self._stem_ends = np.array(stem_ends, dtype=np.int64)

    def document(self, position: int) -> DocumentFields:
        return DocumentFields(*self._documents.row(position))

    def chunks_of(self, position: int) -> range:
        """Positions of the document's chunks, in the order of `Document.chunks`."""
        return range(int(self._first_chunk[position]), int(self._first_chunk[position + 1]))

    def chunk(self, chunk_position: int) -> ChunkFields:
        return ChunkFields(*self._chunks.row(chunk_position))

    def stem_overlaps(self, stems: Iterable[str], chunks: range) -> list[int]:
        """How many of `stems` each chunk in `chunks` contains."""
        wanted = {i for i in map(self._stem_ids.get, stems) if i is not None}
        if not len(chunks) or not wanted:
            return [0] * len(chunks)
        # An article has a few chunks of a few dozen stems each, and a question a handful of
        # stems: Python sets over the article's slice, read once, take a quarter of the time
        # of the same count in NumPy, whose per-call cost dominates arrays this small.
        ends = self._stem_ends[chunks.start:chunks.stop].tolist()
        first = int(self._stem_ends[chunks.start - 1]) if chunks.start else 0
        ids = self._ids[first:ends[-1]].tolist()
        counts = []
        start = first
        for end in ends:
            counts.append(len(wanted.intersection(ids[start - first:end - first])))
            start = end
        return counts
