"""Delivering tickets to the help desk, from an outbox, so an outage loses nothing.

A ticket and its outbox rows (one per channel: webhook, email) are written in one transaction
before the customer gets 201. Senders (the service's background thread, `kb tickets send`) claim
due rows with a conditional update, so two workers never send the same ticket at once; failures
are retried with growing delays. A refusal retrying cannot fix (`PermanentFailure`: a mail
server's 5xx, bad credentials) marks the row failed, with the reason, until an operator re-sends
it. Each delivery is recognisable as a repeat (webhook `Idempotency-Key`, email `Message-ID`), so
a help desk can drop one if our "delivered" mark was lost after it accepted the ticket.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, selectinload

from kb.db import Database
from kb.mail import PermanentFailure, check_server, mail_settings, send_ticket
from kb.models import OutboxItem, Ticket, utcnow
from kb.webhook import post_ticket

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 3600


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    delivered: int = 0
    failed: int = 0


# How many waits of up to the timeout one delivery may take: a webhook connects, sends and
# reads the answer; a mail server is also greeted, asked for TLS, logged into, and told the
# sender, the recipient and the message, each with its own answer.
STEPS = {"webhook": 4, "email": 10}


def claim_time(timeout: float, channel: str = "webhook") -> dt.timedelta:
    """How long a sender holds a ticket it is sending. Long enough for one delivery (each of its
    steps may take the whole timeout), short enough that a ticket whose sender died
    mid-delivery (a killed worker) is soon taken up by another sender."""
    return dt.timedelta(seconds=STEPS.get(channel, 4) * timeout + 10)


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between attempts."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


Deliver = Callable[[dict[str, Any]], None]


def configured_channels(settings: Mapping[str, Any],
                        check_mail_server: bool = False) -> dict[str, Deliver]:
    """The channels tickets go out through (webhook, email, or both), from the settings; a
    malformed email setting (or, with `check_mail_server`, a mail server that cannot be reached
    or refuses the login) raises ValueError naming it."""
    timeout = settings["WEBHOOK_TIMEOUT"]
    channels: dict[str, Deliver] = {}
    if settings["WEBHOOK_URL"]:
        channels["webhook"] = partial(post_ticket, settings["WEBHOOK_URL"], timeout=timeout,
                                      secret=settings["WEBHOOK_SECRET"])
    mail = mail_settings(dict(settings))
    if mail is not None:
        if check_mail_server:
            check_server(mail, timeout)
        channels["email"] = partial(send_ticket, mail, timeout=timeout)
    return channels


def queue_ticket(session: Session, ticket_id: int, channels: Mapping[str, Deliver]) -> None:
    """Add the ticket's outbox rows, one per channel, in the transaction that stores it. With no
    channel configured it waits for the webhook, as before there was a choice."""
    for channel in channels or ("webhook",):
        session.add(OutboxItem(ticket_id=ticket_id, channel=channel, attempts=0))


def _claim(db: Database, item_id: int, now: dt.datetime, send_all: bool,
           claim: dt.timedelta) -> bool:
    """Lock one row for this sender. The row must still be due: a pass works through a list read
    when it started, and another sender may have tried (and failed) the ticket since; retrying it
    again at once would hammer a failing help desk and push its next attempt further out."""
    with db.session() as session:
        query = (update(OutboxItem)
                 .where(OutboxItem.id == item_id, OutboxItem.delivered_at.is_(None),
                        OutboxItem.failed_at.is_(None),
                        or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now)))
        if not send_all:
            query = query.where(OutboxItem.next_attempt_at <= now)
        result = session.execute(
            query.values(locked_until=now + claim))
        return result.rowcount == 1


def _record(db: Database, item_id: int, error: Exception | None) -> OutboxItem:
    """Write down how one attempt went and release the row."""
    with db.session() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.attempts += 1
        item.locked_until = None
        if error is None:
            item.delivered_at = utcnow()
            item.last_error = None
        else:
            item.last_error = f"{type(error).__name__}: {error}"[:2000]
            if isinstance(error, PermanentFailure):
                item.failed_at = utcnow()
            else:
                item.next_attempt_at = utcnow() + retry_delay(item.attempts)
        return item


def deliver_due(db: Database, channels: Mapping[str, Deliver], timeout: float,
                send_all: bool = False) -> DeliveryReport:
    """Send every undelivered ticket that is due (or every undelivered one with `send_all`)
    through the channels configured; failed ones wait for `resend`."""
    report = DeliveryReport()
    if not channels:
        return report
    now = utcnow()
    with db.session() as session:
        query = select(OutboxItem.id, OutboxItem.channel).where(
            OutboxItem.delivered_at.is_(None), OutboxItem.failed_at.is_(None),
            OutboxItem.channel.in_(list(channels)))
        if not send_all:
            query = query.where(OutboxItem.next_attempt_at <= now)
        due = list(session.execute(query.order_by(OutboxItem.id)))
    for item_id, channel in due:
        if not _claim(db, item_id, utcnow(), send_all, claim_time(timeout, channel)):
            continue  # another sender has it, or tried it since this pass began
        with db.session() as session:
            item = session.get(OutboxItem, item_id)
            assert item is not None
            ticket = session.get(Ticket, item.ticket_id)
            payload = ticket.to_dict() if ticket else {"id": item.ticket_id}
        try:
            channels[channel](payload)
        except Exception as exc:  # noqa: BLE001 - any failure is written down; most are retried
            item = _record(db, item_id, exc)
            report.failed += 1
            log.warning("ticket %s not delivered by %s (attempt %s%s): %s", item.ticket_id,
                        channel, item.attempts, ", for good" if item.failed_at else "", exc)
            continue
        _record(db, item_id, None)
        report.delivered += 1
    return report


def resend(db: Database, ticket_ids: list[int] | None = None) -> int:
    """Make failed deliveries (of these tickets, or all) due again, after a setting was fixed;
    returns how many."""
    with db.session() as session:
        query = update(OutboxItem).where(OutboxItem.failed_at.is_not(None),
                                         OutboxItem.delivered_at.is_(None))
        if ticket_ids is not None:
            query = query.where(OutboxItem.ticket_id.in_(ticket_ids))
        return session.execute(query.values(failed_at=None, next_attempt_at=utcnow())).rowcount


def tickets_with_deliveries(undelivered: bool = False, failed: bool = False) -> Select:
    """Tickets newest first with their deliveries, optionally only those not yet delivered by
    every channel, or refused for good by one."""
    query = select(Ticket).options(selectinload(Ticket.deliveries)).order_by(Ticket.id.desc())
    if undelivered:
        query = query.where(Ticket.id.in_(
            select(OutboxItem.ticket_id).where(OutboxItem.delivered_at.is_(None))))
    if failed:
        query = query.where(Ticket.id.in_(
            select(OutboxItem.ticket_id).where(OutboxItem.failed_at.is_not(None),
                                               OutboxItem.delivered_at.is_(None))))
    return query


class BackgroundSender:
    """Retries the outbox every `interval` seconds inside a worker process."""

    def __init__(self, db: Database, channels: Mapping[str, Deliver], timeout: float,
                 interval: float):
        self.db, self.channels, self.timeout, self.interval = db, channels, timeout, interval
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread in this process if needed (threads do not survive a fork)."""
        if not self.channels or self.interval <= 0:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="ticket-outbox")
                self._thread.start()

    def nudge(self) -> None:
        """Try now (a new ticket was just stored), without making the customer wait."""
        if not self.channels:
            return
        if self.interval <= 0:
            threading.Thread(target=deliver_due, args=(self.db, self.channels, self.timeout),
                             daemon=True).start()
            return
        self.ensure_running()
        self._wake.set()

    def _run(self) -> None:
        while True:
            try:
                deliver_due(self.db, self.channels, self.timeout)
            except Exception:  # noqa: BLE001 - keep the sender alive; the next pass retries
                log.exception("outbox pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()
