"""Delivering tickets to the help desk webhook, from an outbox, so an outage loses nothing.

A ticket and its outbox row are written in one transaction before the customer gets 201. Senders
(the service's background thread, `kb tickets send`) claim due rows with a conditional update, so
two workers never send the same ticket at once; failures are retried with growing delays. Each
request carries an `Idempotency-Key`, so a help desk can drop a repeat if our "delivered" mark was
lost after it accepted the ticket.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from kb.db import Database
from kb.models import OutboxItem, Ticket, utcnow

log = logging.getLogger(__name__)

MAX_DELAY_SECONDS = 3600


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    delivered: int = 0
    failed: int = 0


def claim_time(timeout: float) -> dt.timedelta:
    """How long a sender holds a ticket it is sending. Long enough for one delivery (each of
    connect, send and answer may take the whole timeout), short enough that a ticket whose
    sender died mid-delivery (a killed worker) is soon taken up by another sender."""
    return dt.timedelta(seconds=4 * timeout + 10)


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... up to an hour between attempts."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), MAX_DELAY_SECONDS))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would follow a 301/302 on a POST by sending a bodiless GET, and a 200 to that GET
    would mark a ticket delivered that the help desk never saw. A redirect is a failure."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl} not followed; "
                                     "set KB_WEBHOOK_URL to the final address", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, payload: dict, timeout: float, key: str) -> None:
    """POST the payload; raise on anything but a 2xx answer (redirects included)."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": key,
                 "User-Agent": "driftbox-kb"})
    with _OPENER.open(request, timeout=timeout) as response:  # noqa: S310 - operator's URL
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not 2xx", response.headers, None)


def _claim(db: Database, item_id: int, now: dt.datetime, send_all: bool,
           claim: dt.timedelta) -> bool:
    """Lock one row for this sender. The row must still be due: a pass works through a list read
    when it started, and another sender may have tried (and failed) the ticket since; retrying it
    again at once would hammer a failing help desk and push its next attempt further out."""
    with db.session() as session:
        query = (update(OutboxItem)
                 .where(OutboxItem.id == item_id, OutboxItem.delivered_at.is_(None),
                        or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now)))
        if not send_all:
            query = query.where(OutboxItem.next_attempt_at <= now)
        result = session.execute(
            query.values(locked_until=now + claim))
        return result.rowcount == 1


def deliver_due(db: Database, url: str, timeout: float, send_all: bool = False,
                post: Callable[[str, dict, float, str], None] = post_json) -> DeliveryReport:
    """Send every undelivered ticket that is due (or every undelivered one with `send_all`)."""
    report = DeliveryReport()
    if not url:
        return report
    now = utcnow()
    with db.session() as session:
        query = select(OutboxItem.id).where(OutboxItem.delivered_at.is_(None))
        if not send_all:
            query = query.where(OutboxItem.next_attempt_at <= now)
        due = list(session.scalars(query.order_by(OutboxItem.id)))
    for item_id in due:
        if not _claim(db, item_id, utcnow(), send_all, claim_time(timeout)):
            continue  # another sender has it, or tried it since this pass began
        with db.session() as session:
            item = session.get(OutboxItem, item_id)
            assert item is not None
            ticket = session.get(Ticket, item.ticket_id)
            payload = {"ticket": ticket.to_dict() if ticket else {"id": item.ticket_id}}
        try:
            post(url, payload, timeout, f"ticket-{item.ticket_id}")
        except Exception as exc:  # noqa: BLE001 - any failure means "try again later"
            with db.session() as session:
                item = session.get(OutboxItem, item_id)
                assert item is not None
                item.attempts += 1
                item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                item.next_attempt_at = utcnow() + retry_delay(item.attempts)
                item.locked_until = None
            report.failed += 1
            log.warning("ticket %s not delivered (attempt %s): %s", item.ticket_id,
                        item.attempts, exc)
            continue
        with db.session() as session:
            item = session.get(OutboxItem, item_id)
            assert item is not None
            item.attempts += 1
            item.delivered_at = utcnow()
            item.locked_until = None
            item.last_error = None
        report.delivered += 1
    return report


class BackgroundSender:
    """Retries the outbox every `interval` seconds inside a worker process."""

    def __init__(self, db: Database, url: str, timeout: float, interval: float):
        self.db, self.url, self.timeout, self.interval = db, url, timeout, interval
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread in this process if needed (threads do not survive a fork)."""
        if not self.url or self.interval <= 0:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="ticket-outbox")
                self._thread.start()

    def nudge(self) -> None:
        """Try now (a new ticket was just stored), without making the customer wait."""
        if not self.url:
            return
        if self.interval <= 0:
            threading.Thread(target=deliver_due, args=(self.db, self.url, self.timeout),
                             daemon=True).start()
            return
        self.ensure_running()
        self._wake.set()

    def _run(self) -> None:
        while True:
            try:
                deliver_due(self.db, self.url, self.timeout)
            except Exception:  # noqa: BLE001 - keep the sender alive; the next pass retries
                log.exception("outbox pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()
