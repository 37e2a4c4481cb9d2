"""What the service stores: tickets (with their delivery outbox), feedback and widget events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, \
    UniqueConstraint
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
    visitor_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    suggestions_shown: Mapped[list[Any]] = mapped_column(JSON, default=list)
    suggestions_opened: Mapped[list[Any]] = mapped_column(JSON, default=list)
    deliveries: Mapped[list[OutboxItem]] = relationship(back_populates="ticket")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "created_at": isoformat(self.created_at), "email": self.email,
                "subject": self.subject, "message": self.message, "lang": self.lang,
                "page_url": self.page_url, "session_id": self.session_id,
                "visitor_id": self.visitor_id, "email_hash": self.email_hash,
                "suggestions_shown": self.suggestions_shown,
                "suggestions_opened": self.suggestions_opened}

    def delivery_state(self) -> dict[str, Any]:
        """How delivery went, over every channel: `state` is failed if any channel refused for
        good, waiting if any is still to go, else delivered; `deliveries` has each channel."""
        items = sorted(self.deliveries, key=lambda item: item.channel)
        states = {item.state for item in items}
        done = [item.delivered_at for item in items if item.delivered_at]
        return {"state": next((s for s in ("failed", "waiting") if s in states), "delivered"),
                "delivered_at": isoformat(max(done)) if done and states == {"delivered"}
                else None,
                "attempts": sum(item.attempts for item in items),
                "last_error": next((item.last_error for item in items if item.last_error), None),
                "deliveries": [item.to_dict() for item in items]}


class OutboxItem(Base):
    """A ticket still to be delivered through one channel (webhook or email), or delivered, or
    refused for good (`failed_at`, until an operator re-sends it)."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("ticket_id", "channel", name="uq_outbox_ticket_channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20), default="webhook")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                         index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True, index=True)
    failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket: Mapped[Ticket] = relationship(back_populates="deliveries")

    @property
    def state(self) -> str:
        """delivered, failed (refused for good; re-send after fixing the setting) or waiting."""
        if self.delivered_at is not None:
            return "delivered"
        return "failed" if self.failed_at is not None else "waiting"

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "state": self.state, "attempts": self.attempts,
                "delivered_at": isoformat(self.delivered_at),
                "failed_at": isoformat(self.failed_at), "last_error": self.last_error}


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
    visitor_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lang: Mapped[str | None] = mapped_column(String(16), nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    article_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ExternalTicket(Base):
    """A ticket a customer opened through another channel (phone, plain email), reported so it
    cancels a deflection like one of ours; only the salted hash of the email is kept."""

    __tablename__ = "external_ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)


class DeploymentSecret(Base):
    """A random value made once per deployment (the email-hash salt), shared by every replica."""

    __tablename__ = "deployment_secret"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class PublishedIndex(Base):
    """An index POST /admin/reindex built and published on one replica; every other replica
    rebuilds from its own articles until it serves the same content (see kb/reindex.py)."""

    __tablename__ = "published_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    host: Mapped[str] = mapped_column(String(255))
    identity: Mapped[str] = mapped_column(String(64))
    articles: Mapped[int] = mapped_column(Integer)
