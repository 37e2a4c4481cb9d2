"""The index and articles the service answers from, swapped for a newer build without a restart.

Each gunicorn worker checks every RELOAD_CHECK_SECONDS whether the index link points at a new
build, in a thread of its own (requests check too): a check made only when a request arrived left
a quiet worker on the old build until its next request, and that request (and the ones during the
load) still got the old build; more than 7 s after `kb index` was seen.
A new build is loaded in a background thread and swapped in whole when ready; requests meanwhile
keep using the previous one, so a rebuild never fails a request or mixes old and new results. A
worker therefore serves a new build at most RELOAD_CHECK_SECONDS plus its load time after it is
published.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.searcher import articles_of_build, engine_for, model_for
from search import AnswerCache, ArticleSet, SearchIndex, SharedCache, finished_builds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """One published build: the engine and the articles it was built from."""

    engine: AnswerCache
    articles: ArticleSet
    build: str
    index: SearchIndex

    @property
    def build_name(self) -> str:
        """The build's folder name: names which build answered, without revealing paths."""
        return Path(self.build).name


class LiveIndex:
    """Holds the current Snapshot; safe to read from many threads."""

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = settings
        self.link = Path(settings["INDEX_DIR"])
        self.check_seconds = settings["RELOAD_CHECK_SECONDS"]
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._loading = False
        self._failed: str | None = None  # a build that failed to load is not retried
        self._last_check = 0.0
        self._watcher: threading.Thread | None = None
        self._watcher_pid = 0
        self.error: str | None = None  # for the log and operators, may name paths
        self.shared_cache: SharedCache | None = None
        if settings["SEARCH_CACHE_URL"]:
            from kb.search_cache import RedisSearchCache

            self.shared_cache = RedisSearchCache(settings["SEARCH_CACHE_URL"],
                                                 settings["REDIS_KEY_PREFIX"],
                                                 settings["SEARCH_CACHE_SECONDS"])

    @property
    def public_error(self) -> str:
        """What a customer-facing answer may say (no paths, no exception text)."""
        return ("the help center's search index is not available right now; the operator can "
                "see why in the service log (run kb index)")

    def _target(self) -> str | None:
        return os.path.realpath(self.link) if self.link.exists() else None

    def _load(self, target: str) -> Snapshot:
        # Serving only encodes queries: no embedding cache (and no SQLite handle per reload).
        embedder = model_for(self.settings)
        index = SearchIndex.load(Path(target), embedder.name)
        engine = engine_for(index, embedder, self.settings, self.shared_cache)
        # Not in the first customer's request: under gunicorn this runs in the master before the
        # fork, so every worker, a replacement for a crashed one too, answers its first question
        # at once and shares these pages.
        engine.warm_up()
        return Snapshot(engine, articles_of_build(self.settings, Path(target)), target, index)

    def _earlier_builds(self, failed: str | None) -> list[str]:
        """Finished builds beside the link, newest first (the fallbacks after a bad publish)."""
        return [str(p.resolve()) for p in finished_builds(self.link)
                if str(p.resolve()) != failed]

    def load_now(self) -> None:
        """Load the published index at start-up. If it is missing or damaged, serve the newest
        earlier build that loads, and say so loudly; a failure is kept as `error`, not raised."""
        target = self._target()
        candidates = ([target] if target else []) + self._earlier_builds(target)
        if not candidates:
            self.error = f"no search index at {self.link}; build one with: kb index"
            log.error(self.error)
            return
        problems = []
        for candidate in candidates:
            try:
                snapshot = self._load(candidate)
            except Exception as exc:  # noqa: BLE001 - try the next build; never refuse to start
                problems.append(f"{candidate}: {exc}")
                log.error("cannot load the search index %s: %s", candidate, exc)
                continue
            if candidate != target:
                published = target or f"{self.link}, which points at nothing"
                log.error("SERVING AN EARLIER INDEX %s because the published one (%s) cannot be "
                          "loaded; fix it with: kb index", candidate, published)
                self._failed = target
            with self._lock:
                self._snapshot, self.error = snapshot, None
            return
        self.error = "no loadable search index; " + "; ".join(problems)

    def _reload_in_background(self, target: str) -> None:
        try:
            snapshot = self._load(target)
        except Exception as exc:  # noqa: BLE001 - any failure: keep serving the last good index
            log.error("new index at %s not loaded, still serving the previous one: %s", target, exc)
            with self._lock:
                self._failed = target
                if self._snapshot is None:
                    self.error = str(exc)
            return
        finally:
            with self._lock:
                self._loading = False
        with self._lock:
            self._snapshot, self.error = snapshot, None
        log.info("now serving index %s", target)

    def _check(self) -> None:
        """Start loading the published build if it is new (one load at a time)."""
        self._last_check = time.monotonic()
        target = self._target()
        with self._lock:
            known = self._snapshot.build if self._snapshot else None
            start = (target is not None and target != known and target != self._failed
                     and not self._loading)
            if start:
                self._loading = True
        if start and target is not None:
            threading.Thread(target=self._reload_in_background, args=(target,),
                             daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(self.check_seconds)
            try:
                self._check()
            except Exception:  # noqa: BLE001 - keep watching; the next check tries again
                log.exception("checking for a new index failed")

    def watch(self) -> None:
        """Check for new builds every RELOAD_CHECK_SECONDS in this process, with or without
        requests. gunicorn calls this in each new worker (threads do not survive a fork, and the
        master, which only forks, must not load builds); requests check too."""
        if self.check_seconds <= 0:
            return  # every request checks (tests)
        with self._lock:
            if self._watcher_pid == os.getpid() and self._watcher is not None \
                    and self._watcher.is_alive():
                return
            self._watcher = threading.Thread(target=self._watch, daemon=True,
                                             name="index-watcher")
            self._watcher_pid = os.getpid()
            self._watcher.start()

    def current(self) -> Snapshot | None:
        """The snapshot to answer this request from (starting a reload if a new build exists)."""
        if time.monotonic() - self._last_check >= self.check_seconds:
            self._check()
        return self._snapshot
