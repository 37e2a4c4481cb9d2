"""Two replicas, as docs/operations.md's "More than one host" runs them: two gunicorn instances on
loopback, each with its own instance folder and articles folder (its own "host"), sharing one
PostgreSQL and one Redis. The test client plays the load balancer (X-Forwarded-For, one proxy).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kb.searcher import build_and_publish
from kb.settings import load_settings
from tests.support.articles import write_small_help_center
from tests.support.databases import REDIS_URL, postgres_schema, redis_or_skip, schema_url
from tests.support.gunicorn import (FAKE_MODEL_APP, free_port, service_env, start_gunicorn,
                                    stop_gunicorn)

TOKEN = "multi-host-token"
EVENT_LIMIT = 4
NEW_TITLE = "Cancel and get your money back"
FOLLOW_BOUND_SECONDS = 30.0


@dataclass
class Host:
    """One replica: its gunicorn master process and where it keeps its state."""

    name: str
    url: str
    articles: Path
    process: subprocess.Popen[bytes]
    log: Path

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             client: str = "203.0.113.1", admin: bool = False) -> tuple[int, Any, Any]:
        """(status, headers, JSON body) of one request, sent as the load balancer would."""
        headers = {"X-Forwarded-For": client, "Content-Type": "application/json"}
        if admin:
            headers["Authorization"] = f"Bearer {TOKEN}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.headers, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, error.headers, json.loads(error.read())

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture(scope="module")
def shared_database() -> Iterator[str]:
    """A fresh PostgreSQL schema both replicas use."""
    with postgres_schema() as schema:
        yield schema_url(schema)


@pytest.fixture(scope="module")
def redis_prefix() -> Iterator[str]:
    """A key prefix of our own on the shared Redis, removed afterwards."""
    redis_or_skip()
    import redis

    prefix = f"kb-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _start(name: str, root: Path, database: str, prefix: str, model: str) -> Host:
    articles = write_small_help_center(root / "articles")
    instance = root / "instance"
    # Deploy: the articles arrive and `kb index` runs on the host, before the service starts.
    build_and_publish(load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(instance), "MODEL": model, "LANGUAGES": ["en"],
        "ARTICLES_DIR": str(articles)}))
    port = free_port()
    env = service_env(**{
        "KB_INSTANCE_PATH": str(instance), "KB_ARTICLES_DIR": str(articles),
        "KB_LANGUAGES": "en", "KB_MODEL": model, "KB_DATABASE_URL": database,
        "KB_RATELIMIT_STORAGE_URL": REDIS_URL, "KB_SEARCH_CACHE_URL": REDIS_URL,
        "KB_REDIS_KEY_PREFIX": prefix, "KB_PROXY_COUNT": "1", "KB_ADMIN_TOKEN": TOKEN,
        "KB_RATE_LIMIT_EVENTS": f"{EVENT_LIMIT}/minute", "KB_RATE_LIMIT_SEARCH": "1000/minute",
        "KB_RELOAD_CHECK_SECONDS": "0.5", "KB_OUTBOX_INTERVAL": "0",
        "KB_BIND": f"127.0.0.1:{port}", "KB_WORKERS": "2",
    })
    log = root / "gunicorn.log"
    process = start_gunicorn(FAKE_MODEL_APP, env, log)
    return Host(name, f"http://127.0.0.1:{port}", articles, process, log)


def _wait_until_healthy(host: Host, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            pytest.fail(f"host {host.name} exited ({host.process.returncode}):\n{host.log_tail()}")
        try:
            if host.call("GET", "/api/v1/health")[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    pytest.fail(f"host {host.name} not healthy after {seconds} s:\n{host.log_tail()}")


def _stop(hosts: list[Host]) -> None:
    for host in hosts:
        if host.process.poll() is None:
            host.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    for host in hosts:
        # A worker can take gunicorn's whole graceful timeout (30 s) to exit; nothing is left
        # to save here, so after 5 s the host's process group ends: master and workers.
        stop_gunicorn(host.process, signal.SIGINT, seconds=5)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory, shared_database: str, redis_prefix: str,
          fake_model: str) -> Iterator[tuple[Host, Host]]:
    root = tmp_path_factory.mktemp("multi-host")
    # Started together against an empty schema: their migrations must take turns.
    started = [_start(name, root / name, shared_database, redis_prefix, fake_model)
               for name in ("a", "b")]
    try:
        for host in started:
            _wait_until_healthy(host)
        yield started[0], started[1]
    finally:
        _stop(started)


def test_a_ticket_sent_to_one_host_is_listed_on_the_other(hosts: tuple[Host, Host]) -> None:
    first, second = hosts
    subject = f"Cannot sign in {uuid.uuid4().hex[:6]}"
    status, _, created = first.call("POST", "/api/v1/tickets", {
        "email": "anna@example.se", "subject": subject, "message": "Help!", "lang": "en",
        "suggestions_shown": [], "suggestions_opened": []}, client="203.0.113.20")
    assert status == 201, created
    status, _, listed = second.call("GET", "/api/v1/admin/tickets", admin=True)
    assert status == 200
    assert subject in [ticket["subject"] for ticket in listed["tickets"]]


def test_rate_limits_count_one_customer_across_hosts(hosts: tuple[Host, Host]) -> None:
    first, second = hosts
    event = {"type": "widget_opened", "session_id": "s-limits"}
    alternating = [first, second] * EVENT_LIMIT
    codes = [host.call("POST", "/api/v1/events", event, client="203.0.113.7")[0]
             for host in alternating[:EVENT_LIMIT + 2]]
    allowed = codes[0]
    assert allowed in (201, 202) and codes[:EVENT_LIMIT] == [allowed] * EVENT_LIMIT
    assert codes[EVENT_LIMIT:] == [429, 429]  # on both hosts, each of which saw only half
    # Another customer behind the same balancer has a limit of its own.
    assert second.call("POST", "/api/v1/events", event, client="203.0.113.8")[0] == allowed


def _search(host: Host, question: str) -> tuple[str, list[dict[str, Any]]]:
    status, headers, body = host.call("GET", f"/api/v1/search?q={question}")
    assert status == 200, body
    return headers["Cache-Status"], body["results"]


def test_an_answer_found_on_one_host_is_served_from_redis_on_the_other(
        hosts: tuple[Host, Host]) -> None:
    first, second = hosts
    question = f"forgot+password+{uuid.uuid4().hex[:6]}"  # never asked before
    status, asked = _search(first, question)
    assert status == "kb-shared; fwd=uri-miss, kb-worker; fwd=uri-miss"
    status, answered = _search(second, question)
    assert status == "kb-shared; hit, kb-worker; fwd=uri-miss"
    assert answered == asked and answered[0]["slug"] == "reset-password"


def test_a_reindex_on_one_host_reaches_the_other(hosts: tuple[Host, Host]) -> None:
    first, second = hosts
    _, old = _search(second, "refund")
    assert old[0]["title"] != NEW_TITLE
    for host in hosts:  # a deploy brings the edited article to every host
        write_small_help_center(host.articles, refund_title=NEW_TITLE)
    status, _, state = first.call("POST", "/api/v1/admin/reindex", admin=True)
    assert status == 202, state
    started = time.monotonic()
    while state["status"] == "running":
        assert time.monotonic() - started < FOLLOW_BOUND_SECONDS, first.log_tail()
        time.sleep(0.1)
        state = first.call("GET", "/api/v1/admin/reindex", admin=True)[2]
    assert state["status"] == "done" and state["replicas_told"] is True, state

    def serves_the_edit() -> bool:
        # Each worker swaps the new build in on its own: ask until the one answering has it.
        health = second.call("GET", "/api/v1/health")[2]
        article = second.call("GET", "/api/v1/articles/cancel-and-refund?lang=en")[2]
        return (health.get("index_identity") == state["identity"]
                and article.get("title") == NEW_TITLE
                # Not the answer Redis still holds for the old build.
                and _search(second, "refund")[1][0]["title"] == NEW_TITLE)

    while not serves_the_edit():
        assert time.monotonic() - started < FOLLOW_BOUND_SECONDS, \
            f"host b did not follow within {FOLLOW_BOUND_SECONDS} s:\n{second.log_tail()}"
        time.sleep(0.2)
    followed_in = time.monotonic() - started
    print(f"host b served the reindex made on host a after {followed_in:.1f} s")
