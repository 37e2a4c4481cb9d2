"""Keeping customers' personal data only as long as the retention setting allows.

Past `KB_RETENTION_DAYS`, emails (and their salted hashes) and free text are removed; what remains (event types, languages,
article ids, dates) still feeds the reports' counts. Tickets still waiting for the help desk are
kept until they are delivered, so purging never loses a request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from kb.db import Database
from kb.models import Event, Feedback, OutboxItem, Ticket, utcnow

PURGED = "[purged]"


@dataclass
class PurgeReport:
    events: int = 0
    feedback: int = 0
    tickets: int = 0
    cutoff: dt.datetime | None = None


def purge(db: Database, retention_days: int, delivery_configured: bool,
          now: dt.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Remove personal data older than the retention period; returns what was (or would be) done."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    report = PurgeReport(cutoff=cutoff)
    with db.session() as session:
        events = select(Event.id).where(
            Event.created_at < cutoff, or_(Event.query.is_not(None), Event.email_hash.is_not(None)))
        feedback = select(Feedback.id).where(
            Feedback.created_at < cutoff,
            or_(Feedback.comment.is_not(None), Feedback.query.is_not(None)))
        tickets = select(Ticket.id).where(Ticket.created_at < cutoff, Ticket.email != PURGED)
        if delivery_configured:
            waiting = select(OutboxItem.ticket_id).where(OutboxItem.delivered_at.is_(None))
            tickets = tickets.where(Ticket.id.not_in(waiting))
        event_ids = list(session.scalars(events))
        feedback_ids = list(session.scalars(feedback))
        ticket_ids = list(session.scalars(tickets))
        report.events, report.feedback, report.tickets = (len(event_ids), len(feedback_ids),
                                                          len(ticket_ids))
        if dry_run:
            return report
        for start in range(0, len(event_ids), 500):
            session.execute(update(Event).where(Event.id.in_(event_ids[start:start + 500]))
                            .values(query=None, data={}, email_hash=None))
        for start in range(0, len(feedback_ids), 500):
            session.execute(update(Feedback).where(Feedback.id.in_(feedback_ids[start:start + 500]))
                            .values(comment=None, query=None))
        for start in range(0, len(ticket_ids), 500):
            session.execute(update(Ticket).where(Ticket.id.in_(ticket_ids[start:start + 500]))
                            .values(email=PURGED, subject=PURGED, message=PURGED, page_url=None,
                                    email_hash=None))
    return report
