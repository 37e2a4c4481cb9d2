"""Honest deflection: a "Yes, this solved it" counts only once no ticket has followed it.

A deflection is a widget session's first "deflected" event (the customer pressed "Yes, problem
solved"). It is *cancelled* when a ticket comes from the same session at any time, or, within
KB_DEFLECTION_WINDOW_DAYS after it, from the same visitor (the widget's anonymous id, kept in the
browser across reloads and visits) or the same email (compared as a salted hash, for our tickets
and those other channels report); *confirmed* once the window has passed without one; *pending*
until then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kb.models import DeploymentSecret, Event, ExternalTicket, Ticket, utcnow

STATES = ("confirmed", "pending", "cancelled")
# One sentence each; the dashboard and `kb report` print these, docs/tickets.md repeats them.
DEFINITIONS = {
    "confirmed": "The customer said an answer solved the problem, and no ticket came from that "
                 "session, visitor or email within the deflection window.",
    "pending": "The customer said an answer solved the problem less than the deflection window "
               "ago, and no ticket has followed yet.",
    "cancelled": "The customer said an answer solved the problem, but a ticket followed (from "
                 "the same session, or within the window from the same visitor or email).",
}
_SALTS: dict[str, str] = {}


def email_salt(session: Session) -> str:
    """This deployment's salt for email hashes (made once by the 0003 migration)."""
    url = str(session.get_bind().url)
    if url not in _SALTS:
        _SALTS[url] = session.scalars(
            select(DeploymentSecret.value).where(DeploymentSecret.name == "email_salt")).one()
    return _SALTS[url]


def hash_email(email: str, salt: str) -> str:
    """The salted hash that stands for an email when matching tickets to deflections."""
    return hmac.new(salt.encode(), email.strip().lower().encode("utf-8"),
                    hashlib.sha256).hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes, which we stored as UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Deflection:
    """One session's "Yes, solved", and what became of it."""

    session_id: str
    at: dt.datetime
    state: str


def _deflections(session: Session, sessions: Select) -> list[tuple[str, dt.datetime, str | None,
                                                                   str | None]]:
    """(session, first "deflected" time, visitor, email hash) for the given session ids."""
    rows = session.execute(
        select(Event.session_id, func.min(Event.created_at), func.max(Event.visitor_id),
               func.max(Event.email_hash))
        .where(Event.type == "deflected", Event.session_id.in_(sessions))
        .group_by(Event.session_id))
    return [(sid, _utc(when), visitor, email) for sid, when, visitor, email in rows]


def classify(session: Session, sessions: Select, window_days: int,
             now: dt.datetime | None = None) -> dict[str, Deflection]:
    """The deflections of the sessions `sessions` selects, by session id."""
    found = _deflections(session, sessions)
    if not found:
        return {}
    now, window = now or utcnow(), dt.timedelta(days=window_days)
    earliest = min(when for _, when, _, _ in found)
    by_session = set(session.scalars(select(Ticket.session_id)
                                     .where(Ticket.session_id.in_(sessions))))
    by_visitor: dict[str, list[dt.datetime]] = defaultdict(list)
    by_email: dict[str, list[dt.datetime]] = defaultdict(list)
    for visitor, email, created in session.execute(
            select(Ticket.visitor_id, Ticket.email_hash, Ticket.created_at)
            .where(Ticket.created_at >= earliest)):
        for key, index in ((visitor, by_visitor), (email, by_email)):
            if key:
                index[key].append(_utc(created))
    for email, opened in session.execute(
            select(ExternalTicket.email_hash, ExternalTicket.opened_at)
            .where(ExternalTicket.opened_at >= earliest)):
        by_email[email].append(_utc(opened))

    def followed(times: Iterable[dt.datetime], since: dt.datetime) -> bool:
        return any(since <= t <= since + window for t in times)

    result = {}
    for sid, when, visitor, email in found:
        if sid in by_session or followed(by_visitor.get(visitor or "", ()), when) or \
                followed(by_email.get(email or "", ()), when):
            state = "cancelled"
        else:
            state = "confirmed" if now >= when + window else "pending"
        result[sid] = Deflection(sid, when, state)
    return result
