"""What a request costs on top of the search: no thread per rate-limit hit, its time reported."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from kb import create_app
from kb.security import InlineExpiryMemoryStorage, limiter_storage_uri
from tests.support.app import app_config


@pytest.fixture
def app(tmp_path: Path, sample_index: Path, fake_model: str) -> Flask:
    return create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", sample_index,
                                 fake_model, RATE_LIMIT_SEARCH="3/second"))


def test_memory_rate_limits_start_no_thread_and_still_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    storage = storage_from_string(limiter_storage_uri("memory://"))
    assert isinstance(storage, InlineExpiryMemoryStorage)
    started: list[object] = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start",
                        lambda thread: (started.append(thread), original(thread))[1])
    limiter, limit = FixedWindowRateLimiter(storage), parse("3/second")
    hits = []
    for _ in range(3):
        hits += [limiter.hit(limit, "client") for _ in range(4)]
        time.sleep(1.05)  # a new window, and the old counter due for expiry
    assert hits == [True, True, True, False] * 3
    assert started == []
    assert len(storage.storage) == 1  # expired windows were dropped, inline


def test_other_storages_are_left_as_configured() -> None:
    assert limiter_storage_uri("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def test_the_service_limits_with_it_and_reports_its_own_time(app: Flask) -> None:
    client = app.test_client()
    answers = [client.get("/api/v1/search?q=refund") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    timing = re.fullmatch(r"app;dur=(\d+\.\d{3})", answers[1].headers["Server-Timing"])
    assert timing is not None
    assert 0 < float(timing.group(1)) < 10_000
    assert answers[1].headers["Cache-Status"] == "kb-worker; hit"  # the same question again


def test_the_search_answer_is_what_its_schema_would_serialize(app: Flask) -> None:
    from kb.search_api import SearchResponseSchema

    body = app.test_client().get("/api/v1/search?q=forgot+password&lang=en").get_json()
    assert body["results"], "the sample help center answers this"
    assert body == SearchResponseSchema().dump(body)
    result_schema = SearchResponseSchema().fields["results"].inner.schema
    assert set(body["results"][0]) == set(result_schema.fields)
