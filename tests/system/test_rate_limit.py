"""Rate limits with the default set-up: one host, several gunicorn workers, no Redis."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from kb.rate_limit_store import sqlite_url
from kb.settings import load_settings
from tests.support.gunicorn import gunicorn_service


def test_the_default_store_is_a_file_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings(environ={"KB_INSTANCE_PATH": str(tmp_path)})
    assert settings["RATELIMIT_STORAGE_URL"] == sqlite_url(tmp_path / "ratelimits.sqlite3")


def test_two_stores_on_one_file_count_one_limit(tmp_path: Path) -> None:
    # Two storage objects stand for two worker processes, each with its own connection.
    url = sqlite_url(tmp_path / "limits.sqlite3")
    limiters = [FixedWindowRateLimiter(storage_from_string(url)) for _ in range(2)]
    limit = RateLimitItemPerMinute(3)
    granted = [limiters[n % 2].hit(limit, "client-a") for n in range(6)]
    assert granted == [True, True, True, False, False, False]
    assert limiters[1].hit(limit, "client-b")  # another client has its own count
    stats = limiters[0].get_window_stats(limit, "client-a")
    assert stats.remaining == 0 and 55 < stats.reset_time - time.time() <= 60


def test_a_window_that_ended_starts_again(tmp_path: Path) -> None:
    storage = storage_from_string(sqlite_url(tmp_path / "limits.sqlite3"))
    assert storage.incr("k", expiry=0.2) == 1
    assert storage.incr("k", expiry=0.2) == 2
    time.sleep(0.3)
    assert storage.get("k") == 0
    assert storage.incr("k", expiry=60) == 1
    storage.clear("k")
    assert storage.get("k") == 0


def test_a_count_is_one_statement_and_ended_windows_go_once_a_second(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = storage_from_string(sqlite_url(tmp_path / "limits.sqlite3"))
    storage.incr("ended", expiry=0.05)
    time.sleep(0.1)
    statements: list[str] = []
    storage._connect().set_trace_callback(statements.append)
    assert [storage.incr("k", expiry=60) for _ in range(3)] == [1, 2, 3]
    assert not any("DELETE" in sql for sql in statements)  # the first second's clean-up is done
    assert [sql.split()[0] for sql in statements] == ["INSERT"] * 3  # no BEGIN, no COMMIT
    monkeypatch.setattr(time, "time", lambda: storage._next_expiry + 0.5)
    storage.incr("k", expiry=60)
    assert any(sql.startswith("DELETE") for sql in statements)
    rows = storage._connect().execute("SELECT key FROM counters").fetchall()
    assert rows == [("k",)]  # the ended window of another client is gone


@pytest.mark.slow
def test_the_documented_search_limit_holds_under_gunicorn_with_two_workers(
        tmp_path: Path, fake_model: str) -> None:
    with gunicorn_service(tmp_path, fake_model) as service:  # default limits and store
        def search(n: int) -> tuple[int, str | None]:
            status, headers, _body = service.request("GET", f"/api/v1/search?q=password+{n}")
            return status, headers.get("X-RateLimit-Limit")

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(search, range(200)))
    statuses = [status for status, _limit in answers]
    assert statuses.count(200) == 60, f"{statuses.count(200)} of 200 searches got through"
    assert statuses.count(429) == 140
    assert {limit for _status, limit in answers} == {"60"}
