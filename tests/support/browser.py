"""Driving the widget in Debian's Chromium, against the app served on a loopback port."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from kb import create_app
from kb.services import services
from tests.support.app import app_config
from tests.support.articles import REPO
from tests.support.waiting import eventually

CHROMIUM = os.environ.get("KB_TEST_CHROMIUM", "/usr/bin/chromium")
# Screenshots, for a person to look at each language.
OUTPUT = REPO / "test-output"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def wait_for_chart(page, element_id: str,  # type: ignore[no-untyped-def]
                   timeout: float = 10.0) -> bool:
    """Whether Chart.js drew a chart into `element_id` within `timeout` seconds. Polled from
    here: the pages' Content-Security-Policy forbids the eval Playwright's in-page polling
    (`wait_for_function`) needs, and a chart not drawn at its first look made that fail."""
    return bool(eventually(lambda: page.evaluate(
        "id => typeof Chart !== 'undefined' && Chart.getChart(document.getElementById(id)) "
        "!== undefined", element_id), timeout))


def ask(page, subject: str, message: str) -> None:  # type: ignore[no-untyped-def]
    """Type a ticket's subject and message, and wait for the suggestions they bring."""
    page.locator("#kb-subject").fill(subject)
    page.locator("#kb-message").fill(message)
    # Let the debounced search for the whole text finish, so the list is not replaced under us.
    page.wait_for_timeout(450)
    page.wait_for_load_state("networkidle")
    page.locator(".kb-suggestion").first.wait_for(timeout=15_000)


@contextmanager
def served_app(tmp: Path, articles: Path) -> Iterator[tuple[str, Flask]]:
    """`articles` indexed with the real offline model and served by the app on a loopback port:
    yields (base URL, app)."""
    from kb.searcher import build_and_publish
    from kb.settings import load_settings
    from search.embedder import OFFLINE_MODEL

    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp / "instance"), "ARTICLES_DIR": str(articles)})
    build_and_publish(settings)
    app = create_app(app_config(tmp, f"sqlite:///{tmp / 'kb.sqlite3'}", Path(settings["INDEX_DIR"]),
                                OFFLINE_MODEL, ARTICLES_DIR=str(articles),
                                CACHE_DIR=settings["CACHE_DIR"]))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", app
    finally:
        http.shutdown()
        services(app).database.dispose()
