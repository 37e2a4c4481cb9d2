"""Admin endpoints behind a bearer token: rebuild the index, read tickets."""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from kb.models import OutboxItem, Ticket, isoformat

bp = Blueprint("admin", __name__, description="Operator endpoints (bearer token)")


@bp.before_request
def require_token() -> None:
    expected = current_app.config["ADMIN_TOKEN"]
    if not expected:
        abort(404, description="admin endpoints are off; set KB_ADMIN_TOKEN to turn them on")
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    # Constant-time comparison: response time must not reveal how much of a guess was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        abort(401, description="send 'Authorization: Bearer <KB_ADMIN_TOKEN>'")


class Reindex:
    """One rebuild at a time across all workers (a file lock in the instance folder); the state
    is kept in a file too, so any worker can answer GET /admin/reindex."""

    def __init__(self, instance_path: Path):
        self.lock_path = instance_path / "reindex.lock"
        self.state_path = instance_path / "reindex-state.json"

    @property
    def state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"status": "idle"}

    def _write(self, state: dict[str, Any]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def start(self, app: Flask) -> bool:
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - held open by the build thread
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._write({"status": "running"})
        threading.Thread(target=self._run, args=(app, handle), daemon=True).start()
        return True

    def _run(self, app: Flask, handle: Any) -> None:
        from kb.searcher import build_and_publish

        try:
            build = build_and_publish(app.config)
            self._write({"status": "done", "articles": build.report.documents,
                         "embedded": build.report.embedded,
                         "seconds": round(build.report.seconds, 2)})
        except Exception as exc:  # noqa: BLE001 - reported to the operator via GET
            app.logger.exception("reindex failed")
            self._write({"status": "failed", "error": str(exc)})
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


class ReindexStateSchema(Schema):
    status = fields.String()
    articles = fields.Integer()
    embedded = fields.Integer()
    seconds = fields.Float()
    error = fields.String()


class TicketListArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))
    undelivered = fields.Boolean(load_default=False)


@bp.route("/admin/reindex")
class ReindexResource(MethodView):
    @bp.response(202, ReindexStateSchema)
    def post(self) -> dict[str, Any]:
        """Rebuild the index from the articles folder and swap it in while serving."""
        reindex: Reindex = current_app.extensions["kb_reindex"]
        if not reindex.start(current_app._get_current_object()):  # type: ignore[attr-defined]
            abort(409, description="a rebuild is already running; poll GET /admin/reindex")
        return reindex.state

    @bp.response(200, ReindexStateSchema)
    def get(self) -> dict[str, Any]:
        """State of the last rebuild started by this worker."""
        return current_app.extensions["kb_reindex"].state


@bp.route("/admin/tickets")
class AdminTickets(MethodView):
    @bp.arguments(TicketListArgs, location="query", as_kwargs=True)
    def get(self, limit: int, offset: int, undelivered: bool) -> dict[str, Any]:
        """Stored tickets, newest first, with their delivery state."""
        with current_app.extensions["kb_db"].session() as session:
            query = select(Ticket, OutboxItem).join(OutboxItem, isouter=True)
            if undelivered:
                query = query.where(OutboxItem.delivered_at.is_(None))
            rows = session.execute(query.order_by(Ticket.id.desc()).limit(limit).offset(offset))
            return {"tickets": [
                {**ticket.to_dict(),
                 "delivered_at": isoformat(item.delivered_at) if item else None,
                 "attempts": item.attempts if item else 0,
                 "last_error": item.last_error if item else None}
                for ticket, item in rows]}
