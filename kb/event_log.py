"""Recording searches and widget events in batches, off the request's path.

A request only appends its row to a buffer in memory; one thread per process writes the buffer
to the database in one transaction, in the order the rows arrived, every KB_EVENT_FLUSH_SECONDS
or as soon as half of KB_EVENT_BATCH_SIZE rows wait. Rows leave the buffer only once their
transaction has committed, and the buffer never holds more than one batch: a crash (a killed
worker, a lost machine) loses at most KB_EVENT_BATCH_SIZE rows, and a clean shutdown (gunicorn's
SIGTERM, the end of a CLI command) writes every row first (`close`).

When the database cannot keep up the buffer fills and a request waits, at most one flush
interval, for room; when the database is down the rows are kept and retried until the buffer is
full, and after that new rows are counted as lost and logged, never raised: search goes on
without its records, as it always has. A batch the database refuses for its content is written
row by row, so only a row it refuses on its own is dropped (and logged).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from kb.db import Database
from kb.models import Event, utcnow

log = logging.getLogger(__name__)


# The columns a row may leave out.
# Every optional column, so that every row names every column (visitor_id, email_hash, ...):
# a column added to Event can never be dropped from a batch whose first row lacks it.
_NO_VALUES = {column.name: None for column in Event.__table__.columns
              if column.name not in ("id", "type", "created_at", "data")}


class EventLog:
    """Buffered, ordered, batched inserts of `Event` rows."""

    def __init__(self, database: Database, batch_size: int, flush_seconds: float):
        self.database = database
        self.batch_size = max(1, batch_size)
        self.flush_seconds = max(0.0, flush_seconds)
        # Without an interval the writer takes each row as it comes.
        self._write_from = (self.batch_size + 1) // 2 if self.flush_seconds else 1
        self.lost = 0  # rows given up while the database was down and the buffer full
        self._rows: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        self._writing = 0  # rows at the head of the buffer inside an open transaction
        self._failing = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._pid = 0
        _open_logs.add(self)

    def record(self, type: str, **fields: Any) -> None:
        """Queue one event row (the columns of `Event`); written within a flush interval."""
        # Every row names every column: one INSERT then fits the whole batch.
        row = {**_NO_VALUES, "data": {}, "type": type, "created_at": utcnow(), **fields}
        with self._changed:
            self._ensure_writer()
            if len(self._rows) >= self.batch_size and not self._failing:
                # The database lags behind: wait for the batch being written, not longer.
                self._changed.wait_for(lambda: len(self._rows) < self.batch_size,
                                       timeout=self.flush_seconds or 1.0)
            if len(self._rows) >= self.batch_size:
                self.lost += 1
                if self.lost == 1 or self.lost % 1000 == 0:
                    log.warning("%d event(s) not recorded: the database has not taken the last "
                                "%d for a while", self.lost, self.batch_size)
                return
            self._rows.append(row)
            if len(self._rows) >= self._write_from:
                self._changed.notify_all()

    def pending(self) -> int:
        """Rows not yet committed."""
        with self._changed:
            return len(self._rows)

    def flush(self) -> None:
        """Write every queued row now, in the calling thread (for `close` and tests)."""
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._writing == 0)
                if not self._rows:
                    return
                batch = self._take()
            if not self._write(batch):
                return

    def close(self) -> None:
        """Write what is queued and stop the writer; called on a clean shutdown."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
            thread = self._thread if self._pid == os.getpid() else None
        if thread is not None:
            thread.join()
        self.flush()
        _open_logs.discard(self)

    def _ensure_writer(self) -> None:
        # Started by the first row of each process: a thread does not survive gunicorn's fork.
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        if self._pid != os.getpid():
            self._writing = 0  # a batch the parent was writing is the parent's
        self._closing = False
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="kb-event-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(
                    lambda: self._closing or (not self._writing
                                              and len(self._rows) >= self._write_from),
                    timeout=self.flush_seconds or None)
                if self._closing:
                    return  # close() writes the rest in its own thread
                if self._writing or not self._rows:
                    continue  # nothing yet, or `flush` is writing these rows itself
                batch = self._take()
            if not self._write(batch):
                time.sleep(self.flush_seconds or 1.0)

    def _take(self) -> list[dict[str, Any]]:
        self._writing = len(self._rows)
        return list(self._rows)

    def _write(self, batch: list[dict[str, Any]]) -> bool:
        """One transaction for the batch; on success its rows leave the buffer."""
        try:
            with self.database.engine.begin() as connection:
                connection.execute(insert(Event), batch)
        except (OperationalError, InterfaceError) as exc:  # unreachable: keep them, retry
            with self._changed:
                self._writing = 0
                first = not self._failing
                self._failing = True
                self._changed.notify_all()
            if first:
                log.warning("%d event(s) waiting: the database is unavailable (%s); retrying",
                            len(batch), exc)
            return False
        except SQLAlchemyError as exc:
            # Something in the rows themselves: retrying the batch would block every later one.
            self._write_one_by_one(batch, exc)
        except Exception:  # noqa: BLE001 - the writer thread must outlive any one batch
            log.exception("%d event(s) not recorded", len(batch))
        with self._changed:
            del self._rows[:len(batch)]
            self._writing = 0
            if self._failing:
                log.info("events recorded again")
            self._failing = False
            self._changed.notify_all()
        return True


    def _write_one_by_one(self, batch: list[dict[str, Any]], exc: Exception) -> None:
        """Keep every row of a refused batch that the database takes on its own."""
        refused = 0
        for row in batch:
            try:
                with self.database.engine.begin() as connection:
                    connection.execute(insert(Event), [row])
            except SQLAlchemyError:
                refused += 1
        if refused:
            self.lost += refused
            log.error("%d event(s) refused by the database and not recorded (%s)", refused,
                      exc)


_open_logs: weakref.WeakSet[EventLog] = weakref.WeakSet()


@atexit.register
def _close_open_logs() -> None:
    # A CLI command or a test process ending normally writes its queued rows too.
    for event_log in list(_open_logs):
        event_log.close()
