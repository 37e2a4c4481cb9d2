"""Recent answers, in this process and optionally shared by several (e.g. Redis), around an engine.

Search-as-you-type repeats the same texts (reloads, retyped words, several tabs). An engine over a
built index never changes, so a remembered answer never goes stale; a shared entry is keyed by
everything besides the request that decides an answer, so one written by another build, language
list, ranking or version of this code is never read back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from search.answer import SearchResponse

if TYPE_CHECKING:
    from search.embedder import Embedder
    from search.engine import SearchEngine
    from search.index import SearchIndex
    from search.query_translation import TranslatedQuery

CACHE_SIZE = 2048


@functools.cache
def code_identity() -> str:
    """A digest of this library's source: after a deploy that changes how answers are ranked,
    replicas sharing an answer cache stop reading what the old code wrote."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode("utf-8") + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


class SharedCache(Protocol):
    """A second cache level shared by several processes or hosts (e.g. Redis). It only saves
    time: `get` answers None and `put` does nothing when the store cannot be reached."""

    def get(self, key: str) -> Mapping[str, Any] | None: ...

    def put(self, key: str, value: Mapping[str, Any]) -> None: ...


class AnswerCache:
    """An engine's answers, remembered in this process and, when given, in a shared cache."""

    def __init__(self, engine: SearchEngine, shared_cache: SharedCache | None = None,
                 size: int = CACHE_SIZE):
        self.engine = engine
        self.shared_cache = shared_cache
        self.size = size
        translator = engine.query.translator
        self.answers_identity = hashlib.sha256(
            repr((engine.index.identity, engine.languages, engine.config,
                  translator.identity if translator else None,
                  code_identity())).encode("utf-8")).hexdigest()[:32]
        self._cache: OrderedDict[tuple[Any, ...], SearchResponse] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def index(self) -> SearchIndex:
        """The index the engine answers from."""
        return self.engine.index

    @property
    def embedder(self) -> Embedder:
        """The model the engine encodes questions with."""
        return self.engine.embedder

    def english_reading(self, query: str, lang: str) -> TranslatedQuery | None:
        """How the engine reads a Swedish or Russian question in English (None when it does
        not translate it): what `kb search --explain` shows."""
        return self.engine.query.translate(query, lang, english_candidates=True)

    def warm_up(self) -> None:
        """Warm the engine up (see `SearchEngine.warm_up`)."""
        self.engine.warm_up()

    def search(self, query: str, lang: str | None = None, hints: Sequence[str] = (),
               limit: int = 5, trust_lang: bool = False) -> SearchResponse:
        """`SearchEngine.search`, answered from a cache when the same request was answered."""
        started = time.perf_counter()
        key = self.engine.query.request_key(query, lang, hints, limit, trust_lang)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is not None:
            return replace(cached, took_ms=(time.perf_counter() - started) * 1000, cache="local")
        # Only a shared cache needs the hashed key (a tenth of a millisecond, on every miss).
        shared_key = self._shared_key(key) if self.shared_cache is not None else ""
        response = self._from_shared_cache(shared_key)
        if response is None:
            response = self.engine.search(query, lang, hints, limit, trust_lang=trust_lang)
            if self.shared_cache is not None:
                self.shared_cache.put(shared_key, response.to_dict())
        else:
            response = replace(response, took_ms=(time.perf_counter() - started) * 1000)
        with self._lock:
            self._cache[key] = replace(response, cache=None)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return response

    def _shared_key(self, key: tuple[Any, ...]) -> str:
        request = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()
        return f"{self.answers_identity}:{request[:32]}"

    def _from_shared_cache(self, shared_key: str) -> SearchResponse | None:
        if self.shared_cache is None:
            return None
        data = self.shared_cache.get(shared_key)
        if data is None:
            return None
        try:
            return replace(SearchResponse.from_dict(data), cache="shared")
        except (KeyError, TypeError, ValueError):
            return None  # written by another version of this code: search again
