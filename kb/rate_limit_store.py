"""Rate-limit counters in a SQLite file, shared by every worker process on one host.

The `limits` library keeps counters in memory (one count per worker, so with two workers a
client gets twice the documented limit), in Redis or in other servers. A SQLite file in the
instance folder needs no server and is shared by all of one host's workers: each count is one
short write transaction, which SQLite serializes between processes. Hosts behind one balancer
need a store they all reach: Redis (`KB_RATELIMIT_STORAGE_URL=redis://...`).

Registered with `limits` under the scheme `sqlite` (`sqlite:////absolute/path/limits.sqlite3`);
it supports the fixed-window strategy, Flask-Limiter's default, which is the one we use.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS counters_expires_at ON counters (expires_at);
"""


def sqlite_url(path: Path) -> str:
    """The storage URL of a counter file (absolute, as `limits` hands it to this storage)."""
    return f"sqlite:///{path.resolve()}"


# How often a process drops the counters of ended windows, from the file here and from memory
# in kb/security.py: a counter past its window is never read, so dropping it late costs only space.
EXPIRE_EVERY_SECONDS = 1.0


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file; safe across processes and threads."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        if not uri or not uri.startswith("sqlite:///") or uri == "sqlite:///":
            raise ValueError(f"expected sqlite:///<path to a file>, got {uri!r}")
        self.path = Path(uri[len("sqlite:///"):])
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._next_expiry = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connect(self) -> sqlite3.Connection:
        # A connection must not cross gunicorn's fork: each process opens its own.
        if self._connection is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # counters, not customers' data
            connection.executescript(_SCHEMA)
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> Any:
        """Run statements in one write transaction; the last one's first value is returned."""
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")  # take the write lock before reading
            try:
                row = None
                for sql, parameters in statements:
                    row = connection.execute(sql, parameters).fetchone()
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return row[0] if row else None

    def _read(self, sql: str, parameters: tuple[Any, ...]) -> Any:
        with self._lock:
            row = self._connect().execute(sql, parameters).fetchone()
            return row[0] if row else None

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the key's count, starting a new window of `expiry` seconds if none."""
        now = time.time()
        if now >= self._next_expiry:
            # Other clients' ended windows are only kept from growing the file: they are never
            # read (every read asks for a window that has not ended), so once a second will do.
            self._next_expiry = now + EXPIRE_EVERY_SECONDS
            self._write([("DELETE FROM counters WHERE expires_at <= ?", (now,))])
        # One statement, so one short transaction of its own: a request's count is the only
        # write on its way (an ended window of this key starts again here).
        with self._lock:
            row = self._connect().execute(
                "INSERT INTO counters (key, count, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET "
                "count = CASE WHEN expires_at <= ? THEN excluded.count "
                "ELSE count + excluded.count END, "
                "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at "
                "ELSE expires_at END RETURNING count",
                (key, amount, now + expiry, now, now)).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        """The key's count in its current window (0 when none)."""
        count = self._read("SELECT count FROM counters WHERE key = ? AND expires_at > ?",
                           (key, time.time()))
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (now when it has none)."""
        now = time.time()
        expires = self._read("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                             (key, now))
        return float(expires if expires is not None else now)

    def check(self) -> bool:
        """Whether the file can be read."""
        try:
            self._read("SELECT 1", ())
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Remove every counter; returns how many there were."""
        removed = self._write([("DELETE FROM counters", ()), ("SELECT changes()", ())])
        return int(removed or 0)

    def clear(self, key: str) -> None:
        """Remove one key's counter."""
        self._write([("DELETE FROM counters WHERE key = ?", (key,))])
