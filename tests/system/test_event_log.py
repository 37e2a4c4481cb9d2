"""Searches and widget events are written in batches, in order, off the request's path."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from kb import create_app
from kb.db import Database
from kb.event_log import EventLog
from kb.models import Event
from kb.services import services
from tests.support.app import app_config
from tests.support.articles import write_small_help_center
from tests.support.gunicorn import FAKE_MODEL_APP, free_port, service_env, start_gunicorn
from tests.support.waiting import eventually




def statements(db: Database) -> list[str]:
    """Every SQL statement `db` runs from now on (appended as they run)."""
    seen: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _conn, _cursor, sql, *_args: seen.append(sql))
    return seen


def stored(db: Database) -> list[Event]:
    with db.session() as session:
        return list(session.scalars(select(Event).order_by(Event.id)))


def test_rows_are_written_in_one_insert_in_the_order_they_came(db: Database) -> None:
    log = EventLog(db, batch_size=1000, flush_seconds=60)
    seen = statements(db)
    for n in range(50):
        log.record("search", session_id=f"s-{n}", query=f"question {n}", lang="en")
    assert log.pending() == 50
    assert not [sql for sql in seen if "INSERT" in sql]  # nothing written while recording
    log.close()
    inserts = [sql for sql in seen if sql.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1, inserts
    rows = stored(db)
    assert [r.query for r in rows] == [f"question {n}" for n in range(50)]
    assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
    assert log.pending() == 0


def test_the_writer_writes_within_the_flush_interval(db: Database) -> None:
    log = EventLog(db, batch_size=1000, flush_seconds=0.1)
    log.record("deflected", session_id="s-1", article_id="en/reset-password")
    # The commit is visible a moment before the writer drops the row from its buffer.
    assert eventually(lambda: log.pending() == 0)
    assert len(stored(db)) == 1
    log.close()


def test_without_an_interval_each_row_is_written_as_it_comes(db: Database) -> None:
    log = EventLog(db, batch_size=1000, flush_seconds=0)
    log.record("widget_opened", session_id="s-1")
    assert eventually(lambda: len(stored(db)) == 1, timeout=5)
    log.close()


def test_half_a_batch_is_written_without_waiting_for_the_interval(db: Database) -> None:
    log = EventLog(db, batch_size=10, flush_seconds=60)
    for n in range(5):
        log.record("search", query=f"q{n}")
    assert eventually(lambda: len(stored(db)) == 5, timeout=5)
    log.close()


def test_a_database_outage_keeps_one_batch_and_never_blocks(tmp_path: Path) -> None:
    # Nothing listens on this port: every write fails at once.
    port = free_port()
    down = Database(f"postgresql+psycopg://nobody@127.0.0.1:{port}/nothing",
                    connect_args={"connect_timeout": 1})
    log = EventLog(down, batch_size=4, flush_seconds=0.05)
    started = time.monotonic()
    for n in range(4):
        log.record("search", query=f"q{n}")
    assert eventually(lambda: log._failing, timeout=10)  # the writer has tried and failed
    for n in range(4, 10):
        log.record("search", query=f"q{n}")
    # What a crash now would lose is the one batch held; the rest was given up and counted.
    assert log.pending() == 4
    assert log.lost == 6
    assert time.monotonic() - started < 10
    down.dispose()


def test_a_search_with_a_session_is_recorded_without_touching_the_database(
        tmp_path: Path, database_url: str, sample_index: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, database_url, sample_index, fake_model,
                                EVENT_FLUSH_SECONDS=60.0))
    seen = statements(services(app).database)
    response = app.test_client().get("/api/v1/search?q=forgot+password&session_id=s-9")
    assert response.status_code == 200
    # (The replica follower may look for a newer index meanwhile, in its own thread.)
    assert [sql for sql in seen if "event" in sql.lower()] == []
    services(app).event_log.flush()
    rows = stored(services(app).database)
    assert [(r.type, r.session_id, r.query) for r in rows] == [("search", "s-9", "forgot password")]
    assert rows[0].data["results"] == [r["id"] for r in response.get_json()["results"]][:5]
    services(app).event_log.close()
    services(app).database.dispose()


def test_events_posted_are_queued_and_written(app_with_events: Flask) -> None:
    client = app_with_events.test_client()
    for kind in ("widget_opened", "suggestions_shown", "deflected"):
        answer = client.post("/api/v1/events", json={"type": kind, "session_id": "s-1"})
        assert (answer.status_code, answer.get_json()) == (202, {"queued": True})
    services(app_with_events).event_log.flush()
    assert [r.type for r in stored(services(app_with_events).database)] == [
        "widget_opened", "suggestions_shown", "deflected"]


@pytest.fixture
def app_with_events(tmp_path: Path, sample_index: Path, fake_model: str) -> Iterator[Flask]:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", sample_index,
                                fake_model, EVENT_FLUSH_SECONDS=60.0))
    yield app
    services(app).event_log.close()
    services(app).database.dispose()


# --- Under gunicorn: a clean shutdown writes everything, a crash loses at most one batch --------

BATCH = 8


def start_service(tmp_path: Path, fake_model: str) -> tuple[subprocess.Popen[bytes], str, Database]:
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    articles = write_small_help_center(tmp_path / "articles")
    port = free_port()
    env = service_env(KB_INSTANCE_PATH=str(tmp_path / "instance"), KB_ARTICLES_DIR=str(articles),
                      KB_MODEL=fake_model, KB_BIND=f"127.0.0.1:{port}", KB_WORKERS="1",
                      KB_RATE_LIMIT_SEARCH="100000/minute",
                      # Never by the clock: only a full half-batch, or the shutdown, writes.
                      KB_EVENT_BATCH_SIZE=str(BATCH), KB_EVENT_FLUSH_SECONDS="3600")
    build_and_publish(load_settings(environ=env))
    server = start_gunicorn(FAKE_MODEL_APP, env, tmp_path / "gunicorn.log")
    url = f"http://127.0.0.1:{port}"
    assert eventually(lambda: _healthy(url), timeout=120), (tmp_path / "gunicorn.log").read_text()
    return server, url, Database(f"sqlite:///{tmp_path / 'instance' / 'kb.sqlite3'}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/v1/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def search(url: str, n: int) -> None:
    with urllib.request.urlopen(f"{url}/api/v1/search?q=refund+{n}&session_id=s-{n}") as answer:
        assert answer.status == 200


def test_a_clean_shutdown_writes_every_queued_search(tmp_path: Path, fake_model: str) -> None:
    server, url, db = start_service(tmp_path, fake_model)
    try:
        for n in range(BATCH // 2 - 1):  # fewer than half a batch: only the shutdown writes them
            search(url, n)
        assert stored(db) == []
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert [r.session_id for r in stored(db)] == [f"s-{n}" for n in range(BATCH // 2 - 1)]
    finally:
        if server.poll() is None:
            server.kill()
        db.dispose()


def test_a_crashed_worker_loses_at_most_one_batch(tmp_path: Path, fake_model: str) -> None:
    server, url, db = start_service(tmp_path, fake_model)
    try:
        asked = 3 * BATCH + 3
        for n in range(asked):
            search(url, n)
        workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        for pid in workers:
            os.kill(int(pid), signal.SIGKILL)
        kept = [r.session_id for r in stored(db)]
        assert len(kept) >= asked - BATCH
        assert kept == [f"s-{n}" for n in range(len(kept))]  # in order, with no gap
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        db.dispose()


def test_rows_of_every_kind_share_a_batch(db: Database) -> None:
    log = EventLog(db, batch_size=1000, flush_seconds=60)
    log.record("search", session_id="s-1", lang="en", query="refund",
               data={"abstained": False, "results": ["en/refund"]})
    log.record("article_opened", session_id="s-1", article_id="en/refund")
    log.record("widget_opened")
    log.close()
    assert [(r.type, r.query, r.article_id) for r in stored(db)] == [
        ("search", "refund", None), ("article_opened", None, "en/refund"),
        ("widget_opened", None, None)]


def test_a_row_the_database_refuses_does_not_hold_up_the_others(db: Database) -> None:
    log = EventLog(db, batch_size=1000, flush_seconds=60)
    log.record("search", query="before")
    log.record("x" * 500)  # longer than the column allows (PostgreSQL refuses it)
    log.record("search", query="after")
    log.close()
    kept = [r.query for r in stored(db) if r.type == "search"]
    assert kept == ["before", "after"]
    assert log.pending() == 0


def test_a_column_only_a_later_row_fills_is_kept(db: Database) -> None:
    # One INSERT takes its columns from the batch: a visitor id or email hash that only the
    # second row carries must not be dropped.
    log = EventLog(db, batch_size=1000, flush_seconds=60)
    log.record("widget_opened", session_id="s-1")
    log.record("deflected", session_id="s-1", visitor_id="v-1", email_hash="ab" * 32)
    log.close()
    rows = stored(db)
    assert [(r.visitor_id, r.email_hash) for r in rows] == [(None, None), ("v-1", "ab" * 32)]
