"""Honest deflection figures: confirmed, pending and cancelled, and a session's first-event facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from kb import create_app
from kb.db import Database
from kb.deflection import DEFINITIONS, classify, email_salt, hash_email
from kb.models import Event, ExternalTicket, Ticket
from kb.report import funnel, funnel_totals
from kb.services import services
from tests.support.app import app_config

UTC = dt.timezone.utc
TOKEN = {"Authorization": "Bearer s3cret-token"}


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, database_url: str, sample_index: Path, fake_model: str) -> Iterator[Flask]:
    app = create_app(app_config(tmp_path, database_url, sample_index, fake_model))
    yield app
    services(app).database.dispose()


def said_yes(session_id: str, visitor: str | None, day: int, email_hash: str | None = None,
             lang: str = "en") -> list[Event]:
    return [Event(session_id=session_id, visitor_id=visitor, type="search", lang=lang,
                  created_at=at(day, 9), data={}),
            Event(session_id=session_id, visitor_id=visitor, type="deflected", lang=lang,
                  created_at=at(day), article_id=f"{lang}/reset-password",
                  email_hash=email_hash, data={})]


def ticket(day: int, **fields: object) -> Ticket:
    return Ticket(email="x@example.com", subject="Help", message="Still broken", lang="en",
                  created_at=at(day, 12), suggestions_shown=[], suggestions_opened=[], **fields)


def states(db: Database, now: dt.datetime, window: int = 7) -> dict[str, str]:
    with db.session() as session:
        found = classify(session, select(Event.session_id), window, now)
    return {sid: deflection.state for sid, deflection in found.items()}


def test_a_ticket_within_the_window_cancels_one_after_it_does_not(db: Database) -> None:
    with db.session() as session:
        anna = hash_email("Anna@Example.se ", email_salt(session))
        session.add_all([
            *said_yes("same-visitor", "v1", 1), ticket(3, visitor_id="v1", session_id="later"),
            *said_yes("too-late", "v2", 1), ticket(9, visitor_id="v2"),
            *said_yes("same-email", "v3", 1, email_hash=anna),
            ExternalTicket(email_hash=hash_email("anna@example.se", email_salt(session)),
                           opened_at=at(4), source="phone"),
            *said_yes("same-session", "v4", 1), ticket(1, session_id="same-session"),
            *said_yes("quiet", "v5", 1),
            *said_yes("recent", "v6", 18),
            ticket(2, visitor_id="someone-else"),
        ])
    assert states(db, now=at(20)) == {
        "same-visitor": "cancelled", "too-late": "confirmed", "same-email": "cancelled",
        "same-session": "cancelled", "quiet": "confirmed", "recent": "pending"}
    # Before the window has passed, nothing is confirmed yet.
    assert states(db, now=at(5))["quiet"] == "pending"
    # A longer window reaches the ticket that came eight days later.
    assert states(db, now=at(20), window=10)["too-late"] == "cancelled"


def test_the_funnel_counts_the_three_and_defines_them(db: Database) -> None:
    with db.session() as session:
        session.add_all([*said_yes("a", "v1", 16), *said_yes("b", "v2", 16),
                         ticket(17, visitor_id="v2"), *said_yes("c", "v3", 19)])
    with db.session() as session:
        rows = funnel(session, period="week", window_days=7, now=at(24))
    total = funnel_totals(rows)["all"]
    assert (total.confirmed, total.pending, total.cancelled, total.tickets) == (1, 1, 1, 1)
    assert total.deflection_rate == 0.5  # confirmed / (confirmed + tickets)
    assert set(DEFINITIONS) == {"confirmed", "pending", "cancelled"}
    assert all(sentence.count(". ") == 0 and sentence.endswith(".")
               for sentence in DEFINITIONS.values())


def test_a_sessions_language_and_day_are_its_first_events(db: Database) -> None:
    with db.session() as session:
        # Russian typed late at night; the repaired query the next minute reads as Swedish.
        session.add_all([
            Event(session_id="s", type="search", lang="ru", created_at=at(16, 23), data={}),
            Event(session_id="s", type="search", lang="sv",
                  created_at=at(17, 0) + dt.timedelta(minutes=1), data={})])
    with db.session() as session:
        [row] = funnel(session, period="day")
    assert (row.period, row.lang, row.sessions, row.searched) == ("2026-11-16", "ru", 1, 1)


def test_api_visitor_email_and_external_tickets(app: Flask) -> None:
    client = app.test_client()
    for body in ({"type": "search", "session_id": "s1", "visitor_id": "v1", "lang": "sv"},
                 {"type": "deflected", "session_id": "s1", "visitor_id": "v1", "lang": "sv",
                  "article_id": "sv/reset-password", "email": "Anna@Example.se"}):
        assert client.post("/api/v1/events", json=body).status_code == 202
    services(app).event_log.flush()  # events are queued; the deflection reads the table
    database = services(app).database
    with database.session() as session:
        stored = session.scalars(select(Event).where(Event.type == "deflected")).one()
        # Only the salted hash is kept, never the address.
        assert stored.email_hash == hash_email("anna@example.se", email_salt(session))
        assert "anna" not in str(stored.data).lower() and stored.visitor_id == "v1"
    assert states(database, now=dt.datetime.now(UTC)) == {"s1": "pending"}

    missing = client.post("/api/v1/admin/tickets/external", json={"source": "phone"},
                          headers=TOKEN)
    assert missing.status_code == 400
    assert "send the customer's email or its email_hash" in str(missing.get_json())
    bad_hash = client.post("/api/v1/admin/tickets/external", json={"email_hash": "abc"},
                           headers=TOKEN)
    assert bad_hash.status_code == 400
    assert client.post("/api/v1/admin/tickets/external", json={"email": "anna@example.se"}
                       ).status_code == 401
    created = client.post("/api/v1/admin/tickets/external",
                          json={"email": "ANNA@example.se", "source": "phone"}, headers=TOKEN)
    assert created.status_code == 201 and created.get_json()["id"]
    assert states(database, now=dt.datetime.now(UTC)) == {"s1": "cancelled"}

    # A widget ticket from the same visitor carries its id and the email's hash too.
    sent = client.post("/api/v1/tickets", json={
        "email": "anna@example.se", "subject": "Hjälp", "message": "Det gick inte", "lang": "sv",
        "session_id": "s2", "visitor_id": "v1"})
    assert sent.status_code == 201
    with database.session() as session:
        stored_ticket = session.get(Ticket, sent.get_json()["id"])
        assert stored_ticket.visitor_id == "v1" and stored_ticket.email_hash == stored.email_hash
    listed = client.get("/api/v1/admin/tickets", headers=TOKEN).get_json()["tickets"][0]
    assert listed["email_hash"] == stored.email_hash


def test_purge_removes_email_hashes_past_retention(db: Database) -> None:
    from kb.retention import purge

    digest = "ab" * 32
    with db.session() as session:
        session.add_all([*said_yes("old", "v1", 1, email_hash=digest),
                         ticket(1, email_hash=digest), *said_yes("new", "v2", 19, email_hash=digest)])
    report = purge(db, 7, delivery_configured=False, now=at(20))
    assert (report.events, report.tickets) == (1, 1)
    with db.session() as session:
        hashes = {e.session_id: e.email_hash for e in session.scalars(
            select(Event).where(Event.type == "deflected"))}
        assert hashes == {"old": None, "new": digest}
        assert session.scalars(select(Ticket.email_hash)).one() is None
