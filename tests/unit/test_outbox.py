"""Tickets reach the help desk exactly once, even when it is down for a while."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kb.cli import main
from kb.db import Database
from kb.models import OutboxItem, Ticket
from kb.outbox import Deliver, deliver_due, retry_delay
from kb.webhook import post_ticket, sign
from tests.support.articles import REPO


class HelpDesk:
    """A local webhook that records what it receives and can be told to fail."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.keys: list[str] = []
        self.raw: list[tuple[str, bytes]] = []  # (KB-Signature header, body as sent)
        self.failing = False
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if desk.failing:
                    self.send_response(503)
                    self.end_headers()
                    return
                desk.received.append(json.loads(body))
                desk.keys.append(self.headers["Idempotency-Key"])
                desk.raw.append((self.headers.get("KB-Signature", ""), body))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/intake"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def desk() -> Iterator[HelpDesk]:
    helpdesk = HelpDesk()
    yield helpdesk
    helpdesk.server.shutdown()


def webhook(url: str, timeout: float = 2, secret: str = "") -> dict[str, Deliver]:
    """The webhook channel alone, as the service builds it."""
    return {"webhook": lambda ticket: post_ticket(url, ticket, timeout, secret)}


def add_ticket(db: Database, subject: str = "Help") -> int:
    with db.session() as session:
        ticket = Ticket(email="a@example.com", subject=subject, message="It broke", lang="en",
                        suggestions_shown=[], suggestions_opened=[])
        session.add(ticket)
        session.flush()
        session.add(OutboxItem(ticket_id=ticket.id, attempts=0))
        return ticket.id


def test_outage_then_recovery_delivers_once(db: Database, desk: HelpDesk) -> None:
    ticket_id = add_ticket(db)
    desk.failing = True
    first = deliver_due(db, webhook(desk.url), timeout=2)
    assert (first.delivered, first.failed) == (0, 1)
    with db.session() as session:
        item = session.scalar(select(OutboxItem))
        assert item.attempts == 1 and item.delivered_at is None and "503" in item.last_error
    # Not due yet: a pass right away does not hammer the help desk.
    assert deliver_due(db, webhook(desk.url), timeout=2).failed == 0
    desk.failing = False
    assert deliver_due(db, webhook(desk.url), timeout=2, send_all=True).delivered == 1
    assert deliver_due(db, webhook(desk.url), timeout=2, send_all=True).delivered == 0
    assert [r["ticket"]["id"] for r in desk.received] == [ticket_id]
    assert desk.keys == [f"ticket-{ticket_id}"]


def test_unreachable_help_desk_keeps_tickets(db: Database) -> None:
    add_ticket(db)
    report = deliver_due(db, webhook("http://127.0.0.1:9/nothing-listens-here"), timeout=1)
    assert report.failed == 1
    with db.session() as session:
        assert session.scalar(select(OutboxItem)).delivered_at is None


def test_two_senders_never_send_the_same_ticket(db: Database, desk: HelpDesk) -> None:
    for n in range(10):
        add_ticket(db, f"ticket {n}")
    threads = [threading.Thread(target=deliver_due, args=(db, webhook(desk.url), 2))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [r["ticket"]["id"] for r in desk.received]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 10


def test_a_pass_skips_a_ticket_another_sender_tried_since_it_began(db: Database) -> None:
    first, second = add_ticket(db, "first"), add_ticket(db, "second")
    posted: list[str] = []

    def post_while_another_sender_fails_the_second(ticket: dict) -> None:
        posted.append(f"ticket-{ticket['id']}")
        if ticket["id"] == first:
            # Meanwhile another worker's sender tried the second ticket, and the desk refused it.
            assert deliver_due(db, webhook("http://127.0.0.1:9/refused", 1), timeout=1).failed == 1
            raise OSError("help desk down")

    report = deliver_due(db, {"webhook": post_while_another_sender_fails_the_second}, timeout=1)
    assert posted == [f"ticket-{first}"] and report.failed == 1
    with db.session() as session:
        attempts = dict(session.execute(select(OutboxItem.ticket_id, OutboxItem.attempts)).all())
    # The second ticket waits out its retry delay instead of a second attempt at once.
    assert attempts == {first: 1, second: 1}


def test_retry_delays_grow_and_are_capped() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(30).total_seconds() == 3600


def test_kb_tickets_list_and_send(db: Database, desk: HelpDesk, database_url: str,
                                  tmp_path: Path) -> None:
    add_ticket(db, "Cannot sign in")
    env = {"KB_DATABASE_URL": database_url, "KB_WEBHOOK_URL": desk.url,
           "KB_INSTANCE_PATH": str(tmp_path)}
    listed = CliRunner().invoke(main, ["tickets", "list", "--undelivered"], env=env)
    assert "Cannot sign in" in listed.output and "waiting" in listed.output
    sent = CliRunner().invoke(main, ["tickets", "send", "--all"], env=env)
    assert sent.exit_code == 0 and "delivered 1" in sent.output
    assert "delivered" in CliRunner().invoke(main, ["tickets", "list"], env=env).output
    no_url = CliRunner().invoke(main, ["tickets", "send"], env={**env, "KB_WEBHOOK_URL": ""})
    assert no_url.exit_code == 1 and "KB_WEBHOOK_URL" in no_url.output


def test_redirecting_help_desk_is_a_failure_not_a_delivery(db: Database) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(301)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - a followed redirect would land here
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    add_ticket(db)
    report = deliver_due(db, webhook(f"http://127.0.0.1:{server.server_port}/intake"), timeout=2)
    server.shutdown()
    assert report.failed == 1 and report.delivered == 0
    with db.session() as session:
        assert "redirect" in session.scalar(select(OutboxItem)).last_error


def receivers_verify_signature() -> Callable[..., bool]:
    """The verification snippet docs/tickets.md gives receivers, run as they would run it."""
    docs = (REPO / "docs" / "tickets.md").read_text(encoding="utf-8")
    [snippet] = re.findall(r"```python\n(.*?)```", docs, flags=re.S)
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation
    return namespace["verify_signature"]


def test_signed_webhook_verifies_as_a_receiver_would(db: Database, desk: HelpDesk) -> None:
    verify = receivers_verify_signature()
    add_ticket(db, "Cannot sign in")
    assert deliver_due(db, webhook(desk.url, secret="whsec-1"), timeout=2).delivered == 1
    [(header, body)] = desk.raw
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(header, body, "whsec-1")
    tampered = body.replace(b"Cannot sign in", b"Cannot sign up")
    assert tampered != body and not verify(header, tampered, "whsec-1")
    assert not verify(header, body, "another-secret")
    # A delivery captured and replayed later is refused by its timestamp.
    old = int(header.split(",")[0][2:]) - 3600
    assert not verify(sign("whsec-1", body, old), body, "whsec-1")
    assert not verify("", body, "whsec-1")


def test_unsigned_without_a_secret(db: Database, desk: HelpDesk) -> None:
    add_ticket(db)
    assert deliver_due(db, webhook(desk.url), timeout=2).delivered == 1
    assert desk.raw[0][0] == ""
