"""A database seeded with a known story of widget sessions, feedback and tickets."""

from __future__ import annotations

import datetime as dt

from kb.db import Database
from kb.models import Event, Feedback, Ticket

UTC = dt.timezone.utc


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def seed(db: Database) -> None:
    def event(sid: str | None, kind: str, day: int, lang: str, **extra: object) -> Event:
        return Event(session_id=sid, type=kind, created_at=at(day), lang=lang,
                     data=extra.pop("data", {}), **extra)

    with db.session() as s:
        # s1, Swedish: found the answer and said so, no ticket in the week after -> confirmed.
        s.add_all([event("s1", "widget_opened", 16, "sv"),
                   event("s1", "search", 16, "sv", query="glömt lösenord",
                         data={"abstained": False, "results": ["sv/reset-password"]}),
                   event("s1", "suggestions_shown", 16, "sv"),
                   event("s1", "article_opened", 16, "sv", article_id="sv/reset-password"),
                   event("s1", "deflected", 16, "sv", article_id="sv/reset-password"),
                   Feedback(article_id="sv/reset-password", helpful=True, session_id="s1",
                            created_at=at(16))])
        # s2, Swedish: read the article, it did not help, sent a ticket.
        s.add_all([event("s2", "widget_opened", 16, "sv"),
                   event("s2", "search", 16, "sv", query="glömt lösenord igen",
                         data={"abstained": False, "results": ["sv/reset-password"]}),
                   event("s2", "suggestions_shown", 16, "sv"),
                   event("s2", "article_opened", 16, "sv", article_id="sv/reset-password"),
                   event("s2", "not_helpful", 16, "sv", article_id="sv/reset-password"),
                   Feedback(article_id="sv/reset-password", helpful=False, session_id="s2",
                            comment="Länken kom aldrig", created_at=at(16)),
                   Ticket(session_id="s2", lang="sv", email="anna@example.se",
                          subject="Glömt lösenord", message="Länken kommer inte, mejla anna@example.se",
                          created_at=at(16, 11), suggestions_shown=["sv/reset-password"],
                          suggestions_opened=["sv/reset-password"])])
        # s3, Russian: nothing answered the question.
        s.add_all([event("s3", "widget_opened", 17, "ru"),
                   event("s3", "search", 17, "ru", query="забыла пароль",
                         data={"abstained": True, "results": []})])
        # s4, English, next week: said helpful, yet sent a ticket anyway -> cancelled.
        s.add_all([event("s4", "widget_opened", 23, "en"),
                   event("s4", "search", 23, "en", query="forgot password email never came",
                         data={"abstained": True, "results": []}),
                   event("s4", "deflected", 23, "en", article_id="en/reset-password"),
                   Ticket(session_id="s4", lang="en", email="pat@example.com",
                          subject="Forgot password", message="Email never came",
                          created_at=at(23, 11), suggestions_shown=[], suggestions_opened=[])])
        # s5, Swedish customer opening an English-only article.
        s.add(event("s5", "article_opened", 23, "sv", article_id="en/team-accounts"))
        # A ticket sent straight through the API, no widget session.
        s.add(Ticket(session_id=None, lang="ru", email="ivan@example.ru",
                     subject="Как удалить аккаунт", message="Хочу удалить всё",
                     created_at=at(23, 12), suggestions_shown=[], suggestions_opened=[]))
