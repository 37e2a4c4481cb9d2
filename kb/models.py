"""What the service stores: tickets (with their delivery outbox), feedback and widget events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def isoformat(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes, which we stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat()


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    """A customer's request, stored before the service answers 201."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(16))
    page_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    suggestions_shown: Mapped[list[Any]] = mapped_column(JSON, default=list)
    suggestions_opened: Mapped[list[Any]] = mapped_column(JSON, default=list)
    outbox: Mapped[OutboxItem | None] = relationship(back_populates="ticket", uselist=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": isoformat(self.created_at), "email": self.email,
                "subject": self.subject, "message": self.message, "lang": self.lang,
                "page_url": self.page_url, "session_id": self.session_id,
                "suggestions_shown": self.suggestions_shown,
                "suggestions_opened": self.suggestions_opened}


class OutboxItem(Base):
    """A ticket still to be delivered to the help desk webhook (or already delivered)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                         index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket: Mapped[Ticket] = relationship(back_populates="outbox")


class Feedback(Base):
    """"Did this answer help?" for one article."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Event(Base):
    """A widget event: suggestions shown, article opened, deflected, ticket started."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    session_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    article_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PublishedIndex(Base):
    """An index POST /admin/reindex built and published on one replica; every other replica
    rebuilds from its own articles until it serves the same content (see kb/reindex.py)."""

    __tablename__ = "published_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    host: Mapped[str] = mapped_column(String(255))
    identity: Mapped[str] = mapped_column(String(64))
    articles: Mapped[int] = mapped_column(Integer)
