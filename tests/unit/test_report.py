"""Every figure of the insights, from a database seeded with a known story (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.db import Database
from kb.deflection import DEFINITIONS
from kb.models import Event, Feedback, OutboxItem, Ticket
from kb.report import DateRange, build_report, funnel
from kb.retention import PURGED, purge
from kb.settings import load_settings
from search.collection import load_articles
from tests.support.articles import SAMPLE_ARTICLES
from tests.support.fakes import FakeEmbedder
from tests.support.report_data import UTC, at, seed

@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    seed(database)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def sample_articles():  # type: ignore[no-untyped-def]
    return load_articles(SAMPLE_ARTICLES, ("en", "sv", "ru"))


def test_daily_funnel(db: Database) -> None:
    with db.session() as session:
        rows = {(r.period, r.lang): r.to_dict() for r in funnel(session, period="day")}
    assert rows == {
        ("2026-11-16", "sv"): {"period": "2026-11-16", "lang": "sv", "sessions": 2, "searched": 2,
                               "suggestions_shown": 2, "opened": 2, "helpful": 1, "confirmed": 1,
                               "pending": 0, "cancelled": 0, "tickets": 1,
                               "deflection_rate": 0.5},
        ("2026-11-17", "ru"): {"period": "2026-11-17", "lang": "ru", "sessions": 1, "searched": 1,
                               "suggestions_shown": 0, "opened": 0, "helpful": 0, "confirmed": 0,
                               "pending": 0, "cancelled": 0, "tickets": 0, "deflection_rate": None},
        ("2026-11-23", "en"): {"period": "2026-11-23", "lang": "en", "sessions": 1, "searched": 1,
                               "suggestions_shown": 0, "opened": 0, "helpful": 1, "confirmed": 0,
                               "pending": 0, "cancelled": 1, "tickets": 1,
                               "deflection_rate": 0.0},
        ("2026-11-23", "sv"): {"period": "2026-11-23", "lang": "sv", "sessions": 1, "searched": 0,
                               "suggestions_shown": 0, "opened": 1, "helpful": 0, "confirmed": 0,
                               "pending": 0, "cancelled": 0, "tickets": 0, "deflection_rate": None},
        ("2026-11-23", "ru"): {"period": "2026-11-23", "lang": "ru", "sessions": 0, "searched": 0,
                               "suggestions_shown": 0, "opened": 0, "helpful": 0, "confirmed": 0,
                               "pending": 0, "cancelled": 0, "tickets": 1, "deflection_rate": 0.0},
    }


def test_weekly_funnel_and_date_range(db: Database) -> None:
    with db.session() as session:
        weekly = {(r.period, r.lang): (r.sessions, r.confirmed, r.tickets)
                  for r in funnel(session, period="week")}
        assert weekly == {("2026-W47", "sv"): (2, 1, 1), ("2026-W47", "ru"): (1, 0, 0),
                          ("2026-W48", "en"): (1, 0, 1), ("2026-W48", "sv"): (1, 0, 0),
                          ("2026-W48", "ru"): (0, 0, 1)}
        first_week = funnel(session, DateRange(dt.date(2026, 11, 16), dt.date(2026, 11, 22)))
        assert {(r.period, r.lang) for r in first_week} == {("2026-11-16", "sv"),
                                                            ("2026-11-17", "ru")}


def test_full_report(db: Database, sample_articles) -> None:  # type: ignore[no-untyped-def]
    settings = {"SOURCE_LANGUAGE": "en", "DEFLECTION_WINDOW_DAYS": 7}
    with db.session() as session:
        report = build_report(session, FakeEmbedder(), sample_articles, settings, period="week")
    totals = report.totals["all"]
    assert (totals.sessions, totals.confirmed, totals.cancelled, totals.tickets,
            totals.deflection_rate) == (5, 1, 1, 3, 0.25)
    # Content gaps: the forgotten-password questions in three languages form one cluster.
    first, second = report.gaps
    assert (first.count, first.languages, first.no_suggestion, first.ticket) == \
        (3, {"en": 1, "ru": 1, "sv": 1}, 1, 2)
    assert (second.count, second.languages) == (1, {"ru": 1})
    assert any("[email]" in example for example in first.examples)
    # Article performance: the Swedish reset article failed once by vote, once by a ticket.
    stats = {a.article_id: a.to_dict() for a in report.articles}
    assert stats["sv/reset-password"] == {"article_id": "sv/reset-password", "views": 2,
                                          "helpful": 1, "not_helpful": 1,
                                          "tickets_after_view": 1, "failures": 2}
    assert report.articles[0].article_id == "sv/reset-password"
    assert stats["en/team-accounts"]["views"] == 1
    # Translation health: the Swedish team-accounts translation is the most needed one.
    top = report.translations[0]
    assert (top.slug, top.lang, top.status, top.demand) == ("team-accounts", "sv", "missing", 1)
    assert {(r.slug, r.lang) for r in report.translations if r.status == "missing"} == {
        (slug, lang) for slug in ("import-from-google-drive", "linux-command-line", "team-accounts")
        for lang in ("sv", "ru")}
    # Never an email address, not even one typed into a message.
    dumped = json.dumps(report.to_dict(), ensure_ascii=False)
    assert "@example" not in dumped


def test_purge_removes_exactly_what_is_past_retention(db: Database) -> None:
    with db.session() as session:
        session.add(OutboxItem(ticket_id=session.query(Ticket).filter_by(lang="ru").one().id,
                               attempts=1))
    now = dt.datetime(2026, 11, 27, 12, tzinfo=UTC)  # the 16th and 17th are past 7 days
    dry = purge(db, 7, delivery_configured=True, now=now, dry_run=True)
    assert (dry.events, dry.feedback, dry.tickets) == (3, 1, 1)
    done = purge(db, 7, delivery_configured=True, now=now)
    assert (done.events, done.feedback, done.tickets) == (3, 1, 1)
    with db.session() as session:
        queries = {e.query for e in session.query(Event).filter(Event.type == "search")}
        assert queries == {None, "forgot password email never came"}
        s2 = session.query(Ticket).filter_by(session_id="s2").one()
        assert (s2.email, s2.message) == (PURGED, PURGED)
        assert session.query(Ticket).filter_by(session_id="s4").one().email == "pat@example.com"
        assert session.query(Feedback).filter_by(session_id="s2").one().comment is None
    # Counts survive: the funnel still sees every session.
    with db.session() as session:
        assert sum(r.sessions for r in funnel(session)) == 5
    assert purge(db, 7, delivery_configured=True, now=now).events == 0


def test_kb_report_json_and_kb_purge(db: Database, database_url: str, tmp_path: Path,
                                     fake_model: str) -> None:
    from kb.cli import main

    env = {"KB_DATABASE_URL": database_url, "KB_INSTANCE_PATH": str(tmp_path),
           "KB_MODEL": fake_model, "KB_ARTICLES_DIR": str(SAMPLE_ARTICLES)}
    result = CliRunner().invoke(main, ["report", "--json", "--from", "2026-11-16",
                                       "--to", "2026-11-22", "--period", "day"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"]["all"]["sessions"] == 3 and data["from"] == "2026-11-16"
    text = CliRunner().invoke(main, ["report"], env=env)
    assert "Deflection funnel" in text.output and "team-accounts" in text.output
    assert "confirmed pending cancelled" in text.output
    for state, sentence in DEFINITIONS.items():
        assert f"{state}: {sentence}" in text.output
    assert "@" not in text.output
    bad = CliRunner().invoke(main, ["report", "--from", "yesterday"], env=env)
    assert bad.exit_code == 2 and "not a date" in bad.output
    dry = CliRunner().invoke(main, ["purge", "--days", "100000", "--dry-run"], env=env)
    assert "would purge" in dry.output and "0 events" in dry.output


def test_settings_include_retention() -> None:
    assert load_settings(environ={})["RETENTION_DAYS"] == 90


def test_the_all_languages_total_comes_after_the_languages(db: Database) -> None:
    from kb.report import funnel_totals

    with db.session() as session:
        totals = funnel_totals(funnel(session, period="week"))
    assert list(totals) == ["en", "ru", "sv", "all"]


def test_content_gap_examples_are_different_questions(db: Database) -> None:
    from kb.report import content_gaps

    with db.session() as session:
        for n in range(4):  # one customer asking the same thing again and again
            session.add(Event(session_id=f"again-{n}", type="search", created_at=at(20), lang="en",
                              query="how do I export my invoices", data={"abstained": True}))
        session.add(Event(session_id="other", type="search", created_at=at(20), lang="en",
                          query="how do I export my invoices as pdf", data={"abstained": True}))
    with db.session() as session:
        gaps = content_gaps(session, FakeEmbedder(), similarity=0.5)
    invoices = next(g for g in gaps if any("invoices" in e for e in g.examples))
    assert invoices.count == 5
    assert invoices.examples == ["how do I export my invoices",
                                 "how do I export my invoices as pdf"]


def test_a_content_gap_names_what_several_of_its_questions_asked_about(db: Database) -> None:
    from kb.report import content_gaps

    with db.session() as session:
        for n, words in enumerate([("jira", "sprint"), ("jira",), ("jira", "priya")]):
            session.add(Event(session_id=f"jira-{n}", type="search", created_at=at(20),
                              lang="en", query=f"jira sprint will not close {n}",
                              data={"abstained": True, "unknown_words": list(words)}))
    with db.session() as session:
        gaps = content_gaps(session, FakeEmbedder(), similarity=0.5)
    jira = next(g for g in gaps if any("jira" in e for e in g.examples))
    # One customer's name (priya) or a word one session used (sprint) is not a topic.
    assert jira.never_mentioned == [("jira", 3)]
