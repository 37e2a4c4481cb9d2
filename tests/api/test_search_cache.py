"""The shared search cache is an optimisation: a Redis outage slows search down, never stops it."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from kb import create_app
from kb.services import services
from tests.support.app import app_config


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_search_works_while_the_shared_cache_is_down(
        tmp_path: Path, sample_index: Path, fake_model: str,
        caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", sample_index,
                                fake_model,
                                SEARCH_CACHE_URL=f"redis://127.0.0.1:{_closed_port()}/0"))
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="kb.search_cache"):
        responses = [client.get("/api/v1/search", query_string={"q": question})
                     for question in ("refund", "forgot password", "refund")]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].get_json()["results"][0]["slug"] == "cancel-and-refund"
    assert responses[0].headers["Cache-Status"] == \
        "kb-shared; fwd=uri-miss, kb-worker; fwd=uri-miss"
    assert responses[2].headers["Cache-Status"] == "kb-worker; hit"
    warnings = [r for r in caplog.records if "shared search cache unreachable" in r.message]
    assert len(warnings) == 1  # said once, not on every request
    services(app).database.dispose()


def test_without_a_shared_cache_only_the_worker_cache_is_named(
        tmp_path: Path, sample_index: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", sample_index,
                                fake_model))
    client = app.test_client()
    statuses = [client.get("/api/v1/search?q=refund").headers["Cache-Status"] for _ in range(2)]
    assert statuses == ["kb-worker; fwd=uri-miss", "kb-worker; hit"]
    services(app).database.dispose()
