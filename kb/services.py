"""The service's long-lived parts, built in one place from the settings and found by the views.

`create_app` builds them (or takes them ready-made: a test may pass its own), and every view,
hook and test reaches them through `services()`, never by a name looked up in a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from kb.db import Database
from kb.event_log import EventLog
from kb.live_index import LiveIndex
from kb.outbox import BackgroundSender, configured_channels
from kb.reindex import Reindex, ReplicaFollower
from kb.settings import SettingsError

# The key of the Services object in `app.extensions`.
EXTENSION = "kb"


@dataclass
class Services:
    """The database, the ticket outbox, the served index and the index builders of one app."""

    database: Database
    event_log: EventLog  # searches and widget events, written in batches off the request path
    outbox: BackgroundSender
    live_index: LiveIndex
    reindex: Reindex
    follower: ReplicaFollower


def build_services(settings: Mapping[str, Any]) -> Services:
    """Open the database (migrated when AUTO_MIGRATE), load the published index, and set up the
    outbox and the index builders."""
    try:
        # A wrong mail server or password is found now, not with the first customer's ticket.
        channels = configured_channels(settings, check_mail_server=True)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    database = Database(settings["DATABASE_URL"])
    if settings["AUTO_MIGRATE"]:
        database.upgrade()
    reindex = Reindex(settings, database)
    follower = ReplicaFollower(settings, database, reindex)
    follower.join_from_now()
    # No connection may cross gunicorn's fork: each worker opens its own on first use.
    database.dispose()
    event_log = EventLog(database, settings["EVENT_BATCH_SIZE"], settings["EVENT_FLUSH_SECONDS"])
    outbox = BackgroundSender(database, channels, settings["WEBHOOK_TIMEOUT"],
                              settings["OUTBOX_INTERVAL"])
    live = LiveIndex(settings)
    live.load_now()
    return Services(database, event_log, outbox, live, reindex, follower)


def services(app: Flask | None = None) -> Services:
    """The services of `app`, by default of the app handling the current request."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]
