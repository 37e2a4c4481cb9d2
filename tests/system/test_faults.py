"""Faults in production, with the service run as docs/operations.md deploys it: gunicorn with
`gunicorn.conf.py` and `wsgi.py`, two workers, PostgreSQL, a help desk webhook.

One service runs for the whole module (starting gunicorn costs seconds); each test breaks one thing,
checks that nothing is lost, and leaves the service whole again:

- the index published last is damaged when the service starts: the last good build is served;
- a new build is swapped in under load: no failed request, no answer mixing two builds;
- a worker is killed under load: only requests in flight fail, every accepted ticket arrives once;
- the database goes away (a TCP proxy in front of PostgreSQL is cut): search keeps answering,
  tickets get 503 in the error shape, and after recovery everything accepted arrives once;
- the help desk refuses, then hangs: tickets pile up in the outbox and each arrives once later,
  with both workers' outbox senders running.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from kb.cli import main
from kb.db import Database
from kb.models import Event, OutboxItem, Ticket, utcnow
from kb.outbox import claim_time
from kb.searcher import build_and_publish
from kb.settings import load_settings
from tests.support.articles import article_text
from tests.support.databases import PG_URL, postgres_or_skip
from tests.support.gunicorn import (FAKE_MODEL_APP, free_port, service_env, start_gunicorn,
                                    stop_gunicorn)
from tests.support.waiting import eventually

pytestmark = pytest.mark.slow

ADMIN = {"Authorization": "Bearer fault-token"}
WEBHOOK_TIMEOUT = 1.0
# The knowledge base as first published, and as the writer changes it during the index swap.
ARTICLES = {
    ("en", "reset-password"): ("Reset your password", "Ask for a reset link by email."),
    ("en", "refund"): ("Get a refund", "Cancel the plan and ask support for your money back."),
    ("en", "install-linux"): ("Install on Linux", "Run the install command in a terminal."),
    ("en", "gizmo"): ("Gizmo manual", "Set up the gizmo in five minutes."),
    ("sv", "reset-password"): ("Återställ ditt lösenord", "Be om en länk via e-post."),
    ("ru", "reset-password"): ("Сбросить пароль", "Запросите ссылку по электронной почте."),
}
GIZMO_BEFORE = {"en/gizmo": ARTICLES[("en", "gizmo")][0]}
GIZMO_AFTER = {"en/gizmo": "Gizmo handbook", "en/gizmo-charger": "Charge the gizmo"}


# --- Test doubles around the service: the help desk and the database's network path ----------

class HelpDesk:
    """A help desk webhook that is up, down (503) or hanging past KB_WEBHOOK_TIMEOUT.

    It counts every delivery it accepted by Idempotency-Key, so a repeat shows up as a count of 2.
    """

    def __init__(self) -> None:
        self.mode = "up"
        self.accepted: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["Content-Length"]))
                key, mode = self.headers["Idempotency-Key"], desk.mode
                with desk._lock:
                    desk.attempts[key] += 1
                if mode == "hang":
                    # Longer than the service waits; then the connection just ends, unanswered.
                    time.sleep(WEBHOOK_TIMEOUT * 3)
                    self.close_connection = True
                    return
                if mode == "down":
                    self.send_response(503)
                    self.end_headers()
                    return
                with desk._lock:
                    desk.accepted[key] += 1
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/intake"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> set[int]:
        with self._lock:
            return {int(key.removeprefix("ticket-")) for key in self.accepted}

    def repeats(self, ids: set[int]) -> dict[int, int]:
        """Tickets among `ids` the desk accepted more than once, with their counts."""
        with self._lock:
            return {i: self.accepted[f"ticket-{i}"] for i in ids
                    if self.accepted[f"ticket-{i}"] > 1}


class DatabaseProxy:
    """A TCP relay from a local port to PostgreSQL. `cut()` is an outage as the service sees one:
    open connections drop and new ones are refused. `restore()` listens on the same port again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.restore()

    @property
    def up(self) -> bool:
        return self._listener is not None

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
            with self._lock:
                self._open -= {source, sink}


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# --- The service under gunicorn ----------------------------------------------------------------

@dataclass
class Answer:
    """One HTTP exchange as a client saw it; status 0 when the connection failed."""

    status: int
    body: Any = None
    started: float = 0.0
    seconds: float = 0.0
    kind: str = ""


def call(url: str, method: str = "GET", body: dict | None = None,
         headers: dict[str, str] | None = None, timeout: float = 15) -> Answer:
    """One request on a fresh connection, as a customer's browser would send it."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
            status, body = response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        status, body = error.code, json.loads(error.read() or b"null")
    # Reset, refused, or a half-written answer (IncompleteRead) from a worker killed mid-write.
    except (OSError, ValueError, http.client.HTTPException):
        status, body = 0, None
    return Answer(status, body, started, time.monotonic() - started)


@dataclass
class Service:
    """gunicorn running `wsgi.py` (with the fake model registered) under `gunicorn.conf.py`."""

    process: subprocess.Popen
    url: str
    log_path: Path
    database: Database
    proxy: DatabaseProxy
    desk: HelpDesk
    instance: Path
    articles: Path
    env: dict[str, str]
    good_build: str = ""
    damaged_build: str = ""
    first_answers: list[Answer] = field(default_factory=list)

    def workers(self) -> set[int]:
        pid = self.process.pid
        return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def search(self, query: str, **params: str) -> Answer:
        return call(f"{self.url}/api/v1/search?" + urlencode({"q": query, **params}))

    def post_ticket(self, subject: str) -> Answer:
        answer = call(f"{self.url}/api/v1/tickets", "POST", {
            "email": "anna@example.se", "subject": subject, "message": "It does not work.",
            "lang": "en"})
        answer.kind = "ticket"
        return answer

    def stored_ids(self, ids: set[int]) -> set[int]:
        with self.database.session() as session:
            return set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ids))))

    def wait_delivered(self, ids: set[int], seconds: float = 20) -> None:
        """Wait until the help desk has every ticket in `ids`."""
        deadline = time.monotonic() + seconds
        while missing := ids - self.desk.delivered():
            if time.monotonic() > deadline:
                raise AssertionError(f"tickets never reached the help desk: {sorted(missing)}")
            time.sleep(0.1)

    def unrecorded(self, ids: set[int]) -> set[int]:
        """Tickets in `ids` whose delivery the service has not recorded (it does once the desk
        has answered, a moment after the desk counts the ticket)."""
        with self.database.session() as session:
            return set(session.scalars(select(OutboxItem.ticket_id).where(
                OutboxItem.ticket_id.in_(ids), OutboxItem.delivered_at.is_(None))))

    def wait_healthy(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while call(f"{self.url}/api/v1/health", timeout=2).status != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the service did not become healthy:\n" + self.log()[-4000:])
            time.sleep(0.2)

    def stop(self) -> None:
        stop_gunicorn(self.process)


def write_articles(root: Path, changed: bool = False) -> None:
    for (lang, slug), (title, summary) in ARTICLES.items():
        if changed and f"{lang}/{slug}" in GIZMO_AFTER:
            title = GIZMO_AFTER[f"{lang}/{slug}"]
        path = root / lang / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(title, summary=summary, body=f"{summary}\n\n## Steps\n\n"
                                     f"1. {title}.\n"), encoding="utf-8")
    if changed:
        (root / "en" / "gizmo-charger.md").write_text(article_text(
            GIZMO_AFTER["en/gizmo-charger"], summary="Plug the gizmo charger into the gizmo.",
            body="Use the gizmo charger that came in the box.\n"), encoding="utf-8")


def postgres_schema_url(schema: str, host: str, port: int) -> str:
    """The test server's URL, at `host:port`, with `schema` as the only search path."""
    url = make_url(PG_URL).set(host=host, port=port)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, fake_model: str) -> Iterator[Service]:
    """The service on PostgreSQL (through a proxy) and a help desk, started after a bad publish:
    the newest build on disk is damaged, the one before it is good."""
    postgres_or_skip()
    tmp = tmp_path_factory.mktemp("faults")
    articles = tmp / "articles"
    write_articles(articles)
    env = service_env(KB_INSTANCE_PATH=str(tmp / "instance"), KB_ARTICLES_DIR=str(articles),
                      KB_MODEL=fake_model)
    settings = load_settings(environ=env)
    good = build_and_publish(settings).report.path
    damaged = build_and_publish(settings).report.path
    (damaged / "chunk_vectors.faiss").write_bytes(b"damaged on disk")

    schema = f"kb_faults_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    pg = make_url(PG_URL)
    proxy = DatabaseProxy(pg.host or "127.0.0.1", pg.port or 5432)
    desk = HelpDesk()
    port = free_port()
    env.update({
        "KB_BIND": f"127.0.0.1:{port}", "KB_WORKERS": "2",
        "KB_DATABASE_URL": postgres_schema_url(schema, "127.0.0.1", proxy.port),
        "KB_WEBHOOK_URL": desk.url, "KB_WEBHOOK_TIMEOUT": str(WEBHOOK_TIMEOUT),
        "KB_OUTBOX_INTERVAL": "0.5", "KB_RELOAD_CHECK_SECONDS": "0.2",
        "KB_RATE_LIMIT_SEARCH": "1000000/minute", "KB_RATE_LIMIT_WRITE": "1000000/minute", "KB_RATE_LIMIT_EVENTS": "1000000/minute",
        "KB_ADMIN_TOKEN": ADMIN["Authorization"].removeprefix("Bearer ")})
    log_path = tmp / "gunicorn.log"
    process = start_gunicorn(FAKE_MODEL_APP, env, log_path)
    running = Service(process, f"http://127.0.0.1:{port}", log_path,
                      Database(postgres_schema_url(schema, pg.host or "127.0.0.1",
                                                   pg.port or 5432)),
                      proxy, desk, tmp / "instance", articles, env,
                      good_build=good.name, damaged_build=damaged.name)
    try:
        running.wait_healthy()
        running.first_answers = [running.search("refund", lang="en") for _ in range(6)]
        yield running
    finally:
        running.stop()
        running.database.dispose()
        proxy.cut()
        desk.server.shutdown()
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def healthy(service: Service) -> Iterator[Service]:
    """The service whole before and after each test, whatever the test broke."""
    service.wait_healthy()
    yield service
    if not service.proxy.up:  # a test stopped half-way through an outage
        service.proxy.restore()
    service.desk.mode = "up"


def run_concurrently(actions: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=action) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- The scenarios -----------------------------------------------------------------------------

def test_damaged_index_at_start_serves_the_last_good_build(healthy: Service) -> None:
    lines = healthy.log().splitlines()
    assert any("cannot load the search index" in line and healthy.damaged_build in line
               for line in lines)
    assert any("SERVING AN EARLIER INDEX" in line and healthy.good_build in line
               for line in lines)
    assert [a.status for a in healthy.first_answers] == [200] * 6
    assert {a.body["index_build"] for a in healthy.first_answers} == {healthy.good_build}
    assert all(a.body["results"][0]["id"] == "en/refund" for a in healthy.first_answers)


def test_index_swap_under_load_never_fails_or_mixes_builds(healthy: Service) -> None:
    before = healthy.search("gizmo", lang="en").body["index_build"]
    answers: list[Answer] = []
    stop = threading.Event()

    def customer() -> None:
        rng = random.Random()
        while not stop.is_set():
            # A number makes each question new, so answers are computed, not served from cache.
            answers.append(healthy.search(f"gizmo {rng.randrange(10**6)}", lang="en"))

    customers = [threading.Thread(target=customer) for _ in range(3)]
    for thread in customers:
        thread.start()
    try:
        time.sleep(0.5)
        write_articles(healthy.articles, changed=True)
        result = CliRunner().invoke(main, ["index"], env=healthy.env)
        assert result.exit_code == 0, result.output
        after = healthy.instance.joinpath("index").resolve().name
        # Both workers have switched once a long run of answers comes from the new build.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            recent = answers[-40:]
            if len(recent) == 40 and all(a.body and a.body["index_build"] == after
                                         for a in recent):
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in customers:
            thread.join()

    assert answers and {a.status for a in answers} == {200}
    catalog = {before: dict(GIZMO_BEFORE), after: dict(GIZMO_AFTER)}
    assert {a.body["index_build"] for a in answers} == {before, after}
    for answer in answers:
        shown = {r["id"]: r["title"] for r in answer.body["results"]
                 if r["id"].startswith("en/gizmo")}
        # A gizmo article is always found (which ones are shown is the decision's margin).
        assert shown, answer.body
        # Every answer is consistent with exactly the build it names, and with no other.
        consistent = {build for build, titles in catalog.items()
                      if all(titles.get(i) == t for i, t in shown.items())}
        assert consistent == {answer.body["index_build"]}, answer.body
    assert any("en/gizmo-charger" in {r["id"] for r in a.body["results"]}
               for a in answers if a.body["index_build"] == after)


def test_killed_worker_loses_no_accepted_ticket(healthy: Service) -> None:
    answers: list[Answer] = []
    lock = threading.Lock()
    in_flight = 0
    stop = threading.Event()

    def customer(kind: str) -> None:
        nonlocal in_flight
        n = 0
        while not stop.is_set():
            n += 1
            with lock:
                in_flight += 1
            if kind == "ticket":
                answer = healthy.post_ticket(f"killed-worker {threading.get_ident()} {n}")
            else:
                answer = healthy.search(f"password {n}")
                answer.kind = "search"
            with lock:
                in_flight -= 1
                answers.append(answer)

    customers = [threading.Thread(target=customer, args=(kind,))
                 for kind in ("ticket", "ticket", "ticket", "search", "search", "search")]
    for thread in customers:
        thread.start()
    try:
        time.sleep(1.5)
        victim = sorted(healthy.workers())[0]
        with lock:  # nothing starts or ends between counting and the kill
            in_flight_at_kill = in_flight
            killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while len(healthy.workers() - {victim}) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        replaced_at = time.monotonic()
        time.sleep(1.5)  # keep the load on the replacement worker too
    finally:
        stop.set()
        for thread in customers:
            thread.join()

    workers = healthy.workers()
    assert victim not in workers and len(workers) == 2, "the master did not replace the worker"
    failed = [a for a in answers if a.status not in (200, 201)]
    # Only requests already running when the worker died may fail; each fails as a whole.
    assert all(a.status == 0 and a.started < killed_at for a in failed), failed
    assert len(failed) <= in_flight_at_kill
    assert any(a.status in (200, 201) and a.started > replaced_at for a in answers)
    accepted = {a.body["id"] for a in answers if a.status == 201}
    assert accepted and healthy.stored_ids(accepted) == accepted
    # The killed worker's sender often holds a claim on a ticket it never finished sending;
    # another sender takes it up when the claim runs out (claim_time: 14 s with this timeout).
    healthy.wait_delivered(accepted, seconds=claim_time(WEBHOOK_TIMEOUT).total_seconds() + 15)
    # One sender delivers one ticket at a time: at most that one may have reached the desk
    # before the kill and again after its claim timed out (the Idempotency-Key names it).
    assert len(healthy.desk.repeats(accepted)) <= 1


def test_database_outage_keeps_search_and_loses_no_ticket(healthy: Service) -> None:
    before = [healthy.post_ticket(f"before outage {n}") for n in range(3)]
    assert [a.status for a in before] == [201] * 3
    healthy.wait_delivered({a.body["id"] for a in before})

    healthy.proxy.cut()
    try:
        searches = [healthy.search("refund", lang="en", session_id=f"s-{n}") for n in range(6)]
        refused = [healthy.post_ticket(f"during outage {n}") for n in range(3)]
        health = call(f"{healthy.url}/api/v1/health")
    finally:
        healthy.proxy.restore()
    assert [a.status for a in searches] == [200] * 6
    assert all(a.body["results"][0]["id"] == "en/refund" for a in searches)
    for answer in refused:
        assert answer.status == 503
        assert set(answer.body["error"]) == {"code", "message", "details"}
        assert answer.body["error"]["code"] == "database_unavailable"
        assert answer.body["error"]["details"] == {"retry": True}
    assert health.status == 503 and health.body["error"]["details"]["database"] == "unreachable"

    after = [healthy.post_ticket(f"after outage {n}") for n in range(3)]
    assert [a.status for a in after] == [201] * 3
    accepted = {a.body["id"] for a in before + after}
    healthy.wait_delivered(accepted)
    assert healthy.desk.repeats(accepted) == {}

    # The searches asked during the outage were kept and written once the database was back.
    def recorded() -> set[str | None]:
        with healthy.database.session() as session:
            return set(session.scalars(select(Event.session_id).where(Event.type == "search")))

    assert eventually(lambda: {f"s-{n}" for n in range(6)} <= recorded(), timeout=30)
    with healthy.database.session() as session:
        subjects = set(session.scalars(select(Ticket.subject)
                                       .where(Ticket.subject.like("%outage%"))))
    assert subjects == {f"{when} outage {n}" for when in ("before", "after") for n in range(3)}


def test_help_desk_down_or_hanging_then_each_ticket_arrives_once(healthy: Service) -> None:
    desk = healthy.desk
    # Up: tickets from several customers at once; both workers' senders race for them.
    burst: list[Answer] = []

    def customer(n: int) -> None:
        burst.extend(healthy.post_ticket(f"burst {n} {k}") for k in range(5))

    run_concurrently([lambda n=n: customer(n) for n in range(4)])
    assert [a.status for a in burst] == [201] * 20
    burst_ids = {a.body["id"] for a in burst}
    healthy.wait_delivered(burst_ids)
    assert desk.repeats(burst_ids) == {}

    desk.mode = "down"
    refused = [healthy.post_ticket(f"desk down {n}") for n in range(4)]
    desk.mode = "hang"
    hung = [healthy.post_ticket(f"desk hangs {n}") for n in range(3)]
    waiting = refused + hung
    assert [a.status for a in waiting] == [201] * 7
    # The customer never waits for the help desk.
    assert max(a.seconds for a in hung) < WEBHOOK_TIMEOUT
    waiting_ids = {a.body["id"] for a in waiting}
    deadline = time.monotonic() + 20
    while True:
        queued = call(f"{healthy.url}/api/v1/admin/tickets?undelivered=true&limit=100",
                      headers=ADMIN).body["tickets"]
        tried = {t["id"] for t in queued if t["attempts"] >= 1 and t["last_error"]}
        if waiting_ids <= tried or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert waiting_ids <= tried, queued
    assert not waiting_ids & desk.delivered()
    assert {f"ticket-{i}" for i in waiting_ids} <= set(desk.attempts)

    desk.mode = "up"
    # The retry delay (30 s, growing) has passed for every waiting ticket.
    with healthy.database.session() as session:
        session.execute(update(OutboxItem).where(OutboxItem.delivered_at.is_(None))
                        .values(next_attempt_at=utcnow()))
    healthy.wait_delivered(waiting_ids)
    assert desk.repeats(burst_ids | waiting_ids) == {}
    every_id = burst_ids | waiting_ids
    assert eventually(lambda: not healthy.unrecorded(every_id), timeout=20), \
        healthy.unrecorded(every_id)

