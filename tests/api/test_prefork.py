"""What the gunicorn master does before forking, so workers keep sharing its pages."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from flask import Flask
from gunicorn.config import Config

import kb.prefork
from kb import create_app
from kb.prefork import SharedPagesLogger, warm_up_requests
from kb.services import services
from tests.support.app import app_config


def test_warm_up_runs_a_search_in_every_language_through_the_stack(
        tmp_path: Path, sample_index: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", sample_index,
                                fake_model))
    engine = services(app).live_index.current().engine
    before = len(engine._cache)
    warm_up_requests(app)
    # Each language's search reached the engine (and is remembered, as any answer is).
    assert len(engine._cache) - before == len(app.config["LANGUAGES"])
    assert {key[1] for key in engine._cache} >= set(app.config["LANGUAGES"])


def test_a_failing_warm_up_is_logged_and_the_service_still_starts(
        caplog: pytest.LogCaptureFixture) -> None:
    app = Flask(__name__)
    app.config.update(TESTING=True, LANGUAGES=["en"])
    app.add_url_rule("/api/v1/health", "health", lambda: ("down", 503))

    def broken() -> str:
        raise RuntimeError("model missing")

    app.add_url_rule("/api/v1/search", "search", broken)
    with caplog.at_level(logging.WARNING, logger=kb.prefork.__name__):
        warm_up_requests(app)
    messages = [r.getMessage() for r in caplog.records]
    assert any("/api/v1/health answered 503" in m for m in messages)
    assert any("/api/v1/search?q=help&lang=en" in m and "model missing" in m for m in messages)


def test_only_the_process_that_made_the_logger_walks_every_logger(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger("kb-test-prefork")
    handler = logging.FileHandler(tmp_path / "app.log")
    logger.addHandler(handler)
    try:
        descriptor = handler.stream.fileno()
        gunicorn_log = SharedPagesLogger(Config())
        os.set_inheritable(descriptor, True)
        gunicorn_log.close_on_exec()  # the master: gunicorn's walk, flag set
        assert not os.get_inheritable(descriptor)

        os.set_inheritable(descriptor, True)
        master = os.getpid()
        monkeypatch.setattr(kb.prefork.os, "getpid", lambda: master + 1)
        gunicorn_log.close_on_exec()  # a forked worker: no walk (it inherited the flag)
        assert os.get_inheritable(descriptor)
    finally:
        logger.removeHandler(handler)
        handler.close()
