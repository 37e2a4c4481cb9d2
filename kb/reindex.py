"""Rebuilding the index on request: on the host that is asked, then on every other replica.

`POST /admin/reindex` builds and publishes the index on the host that receives it, then records
the new build's content identity (articles, model, index settings; see `content_identity`) in
the shared database. Every replica looks at that record now and then. A host whose published
index already has that identity does nothing (it built the index itself, or all hosts share one
index folder); any other host rebuilds once from its own articles folder, which gives the same
index when its articles are the same. A host that still differs afterwards says so in its log:
its articles or model are not the ones the others have.

On one host, a file lock in the instance folder lets one worker build at a time; the host's
answer to "which record have I acted on" is a file there too, so its workers act once.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from kb.db import Database
from kb.models import PublishedIndex
from search import published_identity

log = logging.getLogger(__name__)

# Each check is one small database query per worker: never more often than this.
FOLLOW_MIN_SECONDS = 1.0


def _try_host_lock(path: Path) -> IO[str] | None:
    """The host-wide build lock, or None when another worker of this host holds it."""
    handle = open(path, "a+")  # noqa: SIM115 - held open until released by the caller
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _release(handle: IO[str]) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Reindex:
    """Builds on this host when asked and tells the other replicas; any worker of the host can
    answer GET /admin/reindex, because the state is kept in a file."""

    def __init__(self, settings: Mapping[str, Any], database: Database):
        self.settings = settings
        self.database = database
        instance_path = Path(settings["INSTANCE_PATH"]).resolve()
        self.lock_path = instance_path / "reindex.lock"
        self.state_path = instance_path / "reindex-state.json"
        self.followed = FollowedRecord(instance_path / "reindex-followed")

    @property
    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"status": "idle"}

    def _write(self, state: dict[str, Any]) -> None:
        _write_atomically(self.state_path, json.dumps(state))

    def start(self) -> bool:
        """Build in the background; False when this host is building already."""
        handle = _try_host_lock(self.lock_path)
        if handle is None:
            return False
        self._write({"status": "running"})
        threading.Thread(target=self._run, args=(handle,), daemon=True).start()
        return True

    def _run(self, handle: IO[str]) -> None:
        from kb.searcher import build_and_publish

        try:
            build = build_and_publish(self.settings)
            state: dict[str, Any] = {
                "status": "done", "articles": build.report.documents,
                "embedded": build.report.embedded, "seconds": round(build.report.seconds, 2),
                "identity": build.index.identity, "replicas_told": False}
            try:
                record = self.database.insert(PublishedIndex(
                    host=socket.gethostname(), identity=build.index.identity,
                    articles=build.report.documents))
            except Exception:  # noqa: BLE001 - this host serves the new index either way
                log.exception("the new index is served here, but other replicas were not told "
                              "(shared database unavailable); reindex again when it is back")
            else:
                self.followed.write(record)  # built here: nothing to follow
                state["replicas_told"] = True
            self._write(state)
        except Exception as exc:  # noqa: BLE001 - reported to the operator via GET
            log.exception("reindex failed")
            self._write({"status": "failed", "error": str(exc)})
        finally:
            _release(handle)


class FollowedRecord:
    """The id of the latest shared record this host has acted on, kept in its instance folder."""

    def __init__(self, path: Path):
        self.path = path

    def read(self) -> int | None:
        try:
            return int(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None

    def write(self, record_id: int) -> None:
        _write_atomically(self.path, f"{record_id}\n")


def latest_published(database: Database) -> PublishedIndex | None:
    with database.session() as session:
        return session.scalars(
            select(PublishedIndex).order_by(PublishedIndex.id.desc()).limit(1)).first()


class ReplicaFollower:
    """Keeps this host's index in step with the latest one built on request on any replica."""

    def __init__(self, settings: Mapping[str, Any], database: Database, reindex: Reindex):
        self.settings = settings
        self.database = database
        self.reindex = reindex
        self.link = Path(settings["INDEX_DIR"])
        self.interval = max(settings["RELOAD_CHECK_SECONDS"], FOLLOW_MIN_SECONDS)
        self._lock = threading.Lock()
        self._checking = False
        self._last = 0.0
        self._database_down = False

    def join_from_now(self) -> None:
        """At a host's first start: its own build is current, earlier records are history."""
        if self.reindex.followed.read() is not None:
            return
        try:
            latest = latest_published(self.database)
        except SQLAlchemyError as exc:
            # The first successful check joins instead; the service must start regardless.
            log.warning("cannot read the shared reindex record at start (%s)", exc)
            return
        self.reindex.followed.write(latest.id if latest else 0)

    def check_soon(self) -> None:
        """Check in the background if it is time; never makes a request wait."""
        now = time.monotonic()
        with self._lock:
            if self._checking or now - self._last < self.interval:
                return
            self._checking, self._last = True, now
        threading.Thread(target=self._check_in_background, daemon=True,
                         name="replica-follower").start()

    def _check_in_background(self) -> None:
        try:
            self.check()
            self._database_down = False
        except Exception as exc:  # noqa: BLE001 - the next check retries; serving goes on
            if not self._database_down:
                log.warning("cannot read the shared reindex record (%s); this host keeps its "
                            "index and checks again", exc)
            self._database_down = True
        finally:
            with self._lock:
                self._checking = False

    def check(self) -> str:
        """One look at the shared record; rebuilds here if needed. Says what it did."""
        latest = latest_published(self.database)
        followed = self.reindex.followed
        if latest is None:
            return "nothing published on request yet"
        seen = followed.read()
        if seen is None:
            followed.write(latest.id)
            return "joined: serving this host's own build"
        if seen >= latest.id:
            return "up to date"
        if published_identity(self.link) == latest.identity:
            followed.write(latest.id)
            return "already serving it"
        handle = _try_host_lock(self.reindex.lock_path)
        if handle is None:
            return "another worker of this host is building"
        try:
            if (followed.read() or 0) >= latest.id:
                return "up to date"
            return self._rebuild(latest)
        finally:
            _release(handle)

    def _rebuild(self, latest: PublishedIndex) -> str:
        from kb.searcher import build_and_publish

        log.info("index %s published on %s differs from this host's: rebuilding from %s",
                 latest.identity, latest.host, self.settings["ARTICLES_DIR"])
        try:
            build = build_and_publish(self.settings)
        except Exception:  # noqa: BLE001 - keep serving this host's build
            log.exception("cannot rebuild to follow the index published on %s; this host keeps "
                          "serving its own build until the next reindex", latest.host)
            self.reindex.followed.write(latest.id)  # acted on: do not rebuild on every check
            return "rebuild failed"
        self.reindex.followed.write(latest.id)
        if build.index.identity != latest.identity:
            log.error("this host rebuilt its index but it still differs from the one published "
                      "on %s (%s here, %s there): give every replica the same articles and model, "
                      "then reindex again", latest.host, build.index.identity, latest.identity)
            return "rebuilt, still different"
        return "rebuilt"
