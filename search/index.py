"""The search index: documents, their vectors and keyword indexes, saved as a directory of parts.

On disk an index is a folder with `manifest.json` (model, dimension, index type, article hashes,
build time, library versions), `documents.jsonl` and two FAISS files. Builds are written aside
and published by atomically repointing a symlink, so a reader never sees half an index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from search.document import Document
from search.embedder import Embedder
from search.keyword import KeywordIndex
from search.kb_lexicon import learn_lexicon
from search.lexicon import Lexicon, LexiconError, load_lexicon_dir, write_lexicon_file
from search.vector_index import FLAT, VectorIndex

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
CHUNK_VECTORS = "chunk_vectors.faiss"
ARTICLE_VECTORS = "article_vectors.faiss"
LEXICON = "lexicon"  # term translations learned from the translated articles
DEFAULT_HNSW_THRESHOLD = 50_000


class UnusableIndexError(RuntimeError):
    """An index that cannot be used; the message says what to run."""


class IndexMismatchError(UnusableIndexError):
    """The index was built with another model than the one configured."""


@dataclass
class BuildReport:
    """What a build did, for `kb index` to print."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0
    index_kind: str = FLAT
    path: Path | None = None


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("faiss-cpu", "sentence-transformers", "torch", "numpy", "bm25s",
                    "scikit-learn"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def content_identity(manifest: dict[str, Any]) -> str:
    """What a build contains, independent of where and when it was built: the same articles,
    model and index settings give the same identity on every host, so replicas can compare
    builds and share cached answers."""
    content = {name: manifest.get(name)
               for name in ("format_version", "model", "hnsw_threshold", "articles")}
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:32]


def published_identity(link: Path) -> str | None:
    """The content identity of the build `link` points at, or None when there is no readable one."""
    try:
        return content_identity(json.loads((link.resolve() / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return None


@dataclass
class SearchIndex:
    """Everything needed to score documents for a query, held in memory."""

    documents: list[Document]
    chunk_vectors: VectorIndex
    article_vectors: VectorIndex
    chunk_owner: np.ndarray  # document position of every chunk
    manifest: dict[str, Any]
    lexicon: Lexicon = field(default_factory=Lexicon)
    positions_by_lang: dict[str, np.ndarray] = field(default_factory=dict)
    _keyword: dict[str, KeywordIndex] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for lang in sorted({d.lang for d in self.documents}):
            self.positions_by_lang[lang] = np.array(
                [i for i, d in enumerate(self.documents) if d.lang == lang])

    @property
    def keyword(self) -> dict[str, KeywordIndex]:
        """Keyword indexes per language, built on first use (a build for saving never needs them)."""
        if not self._keyword:
            for lang, positions in self.positions_by_lang.items():
                self._keyword[lang] = KeywordIndex(
                    [self.documents[i].keyword_text for i in positions], lang)
        return self._keyword

    @property
    def model(self) -> str:
        return str(self.manifest["model"])

    @cached_property
    def identity(self) -> str:
        # Once: it hashes the manifest's entry for every article (a built index never changes).
        return content_identity(self.manifest)

    @classmethod
    def build(cls, documents: Sequence[Document], embedder: Embedder,
              hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
              progress: Callable[[int, int], None] | None = None) -> SearchIndex:
        """Embed chunks and articles (in batches, reporting progress) and build all parts."""
        documents = list(documents)
        chunks = [c for d in documents for c in d.chunks]
        owner = np.array([i for i, d in enumerate(documents) for _ in d.chunks], dtype=np.int64)
        texts = [c.embed_text for c in chunks] + [d.embed_text for d in documents]
        vectors = []
        batch = 256
        for start in range(0, len(texts), batch):
            vectors.append(embedder.encode_documents(texts[start:start + batch]))
            if progress:
                progress(min(start + batch, len(texts)), len(texts))
        all_vectors = (np.vstack(vectors) if vectors
                       else np.zeros((0, embedder.dimension), dtype=np.float32))
        chunk_index = VectorIndex.for_size(embedder.dimension, len(chunks), hnsw_threshold)
        chunk_index.add(all_vectors[: len(chunks)])
        article_index = VectorIndex.for_size(embedder.dimension, len(documents), hnsw_threshold)
        article_index.add(all_vectors[len(chunks):])
        manifest = {
            "format_version": FORMAT_VERSION,
            "model": embedder.name,
            "dimension": embedder.dimension,
            "index_kind": {"chunks": chunk_index.kind, "articles": article_index.kind},
            "hnsw_threshold": hnsw_threshold,
            "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "articles": {d.id: d.hash for d in documents},
            "counts": {lang: sum(1 for d in documents if d.lang == lang)
                       for lang in sorted({d.lang for d in documents})},
            "chunks": len(chunks),
            "versions": _versions(),
        }
        return cls(documents, chunk_index, article_index, owner, manifest, learn_lexicon(documents))

    def save(self, path: Path, attach: Callable[[Path], None] | None = None) -> None:
        """Write all parts into `path` (a new, empty folder); `attach` adds files of its own
        before the build counts as finished."""
        path.mkdir(parents=True, exist_ok=False)
        with open(path / DOCUMENTS, "w", encoding="utf-8") as out:
            for document in self.documents:
                out.write(json.dumps(document.to_dict(), ensure_ascii=False) + "\n")
        self.chunk_vectors.save(path / CHUNK_VECTORS)
        self.article_vectors.save(path / ARTICLE_VECTORS)
        for lang, table in self.lexicon.entries.items():
            write_lexicon_file(path / LEXICON / f"{lang}-en.kb.tsv",
                               ((source, english, round(weight, 4))
                                for source, senses in table.items()
                                for english, weight in senses.items()),
                               "Learned from this knowledge base's translated articles.")
        if attach is not None:
            attach(path)
        # The manifest goes last: a folder without one is an unfinished build.
        tmp = path / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path / MANIFEST)

    @classmethod
    def load(cls, path: Path, expected_model: str | None = None) -> SearchIndex:
        """Load a saved index, refusing one built with another model than `expected_model`."""
        for attempt in range(3):
            # Resolve the link once per try: every part must come from the same build even if
            # a new one is published while we read.
            target = path.resolve()
            try:
                return cls._load_build(target, expected_model)
            except UnusableIndexError:
                # Two newer builds published while we read prune ours: read the newest instead.
                if attempt == 2 or path.resolve() == target:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _load_build(cls, path: Path, expected_model: str | None) -> SearchIndex:
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise UnusableIndexError(f"no search index at {path} (missing {MANIFEST}); "
                              "build one with: kb index")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UnusableIndexError(f"the index manifest {manifest_path} is unreadable ({exc}); "
                              "rebuild with: kb index") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise UnusableIndexError(f"the index at {path} has format {manifest.get('format_version')}, "
                              f"this version reads {FORMAT_VERSION}; rebuild with: kb index")
        if expected_model is not None and manifest.get("model") != expected_model:
            raise IndexMismatchError(
                f"the index at {path} was built with the model '{manifest.get('model')}', but the "
                f"configured model (KB_MODEL, run as KB_MODEL_RUNTIME says) is '{expected_model}'; "
                "vectors of different models cannot be compared. Rebuild with: kb index (or set "
                "them back)")
        try:
            documents = [Document.from_dict(json.loads(line)) for line in
                         (path / DOCUMENTS).read_text(encoding="utf-8").splitlines() if line]
            kinds = manifest["index_kind"]
            chunk_index = VectorIndex.load(path / CHUNK_VECTORS, kinds["chunks"])
            article_index = VectorIndex.load(path / ARTICLE_VECTORS, kinds["articles"])
            lexicon = load_lexicon_dir(path / LEXICON)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, LexiconError) as exc:
            raise UnusableIndexError(f"the index at {path} is damaged ({type(exc).__name__}: {exc}); "
                              "rebuild with: kb index") from None
        owner = np.array([i for i, d in enumerate(documents) for _ in d.chunks], dtype=np.int64)
        if len(owner) != len(chunk_index) or len(documents) != len(article_index):
            raise UnusableIndexError(f"the index at {path} is inconsistent (vector counts do not match "
                              "the documents); rebuild with: kb index")
        return cls(documents, chunk_index, article_index, owner, manifest, lexicon)


def builds_folder(link: Path) -> Path:
    """The folder beside `link` that holds the builds it points at."""
    return link.parent / f"{link.name}-builds"


def finished_builds(link: Path) -> list[Path]:
    """The finished builds beside `link` (each has its manifest), newest first."""
    builds = builds_folder(link)
    if not builds.is_dir():
        return []
    return sorted((p for p in builds.iterdir() if (p / MANIFEST).is_file()), reverse=True)


def publish_index(index: SearchIndex, link: Path, keep: int = 2,
                  attach: Callable[[Path], None] | None = None) -> Path:
    """Save `index` beside `link` and atomically point `link` at it; old builds are pruned.
    `attach` adds files to the build folder before anyone can see it."""
    builds = builds_folder(link)
    builds.mkdir(parents=True, exist_ok=True)
    # Names sort by build time (to the microsecond), so pruning keeps the newest builds.
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    target = builds / f"{stamp}-{uuid.uuid4().hex[:8]}"
    index.save(target, attach)
    if link.exists() and not link.is_symlink():
        raise UnusableIndexError(f"{link} exists and is not an index link; move it away and run again")
    tmp_link = link.parent / f".{link.name}.{uuid.uuid4().hex[:8]}"
    tmp_link.symlink_to(os.path.relpath(target, link.parent))
    os.replace(tmp_link, link)  # atomic: readers see the old index or the new one, never neither
    for old in finished_builds(link)[keep:]:
        if old.resolve() != target.resolve():
            shutil.rmtree(old, ignore_errors=True)
    return target
