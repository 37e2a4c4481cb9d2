"""Admin endpoints behind a bearer token: rebuild the index, read tickets."""

from __future__ import annotations

import hmac
from typing import Any

from flask import abort, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from kb.models import OutboxItem, Ticket, isoformat
from kb.reindex import Reindex
from kb.security import admin_sign_in

bp = Blueprint("admin", __name__, description="Operator endpoints (bearer token)")
admin_sign_in(bp)
# Every admin operation needs the bearer token (the scheme is declared in kb/__init__.py).
admin_only = bp.doc(security=[{"adminToken": []}])


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


class ReindexStateSchema(Schema):
    status = fields.String()
    articles = fields.Integer()
    embedded = fields.Integer()
    seconds = fields.Float()
    identity = fields.String(metadata={"description": "Content identity of the new index; "
                                                      "replicas serving it report it in health."})
    replicas_told = fields.Boolean(metadata={"description": "False when the shared database "
                                                           "could not record the new index for "
                                                           "the other replicas."})
    error = fields.String()


class StoredTicketSchema(Schema):
    id = fields.Integer()
    created_at = fields.String()
    email = fields.String()
    subject = fields.String()
    message = fields.String()
    lang = fields.String()
    page_url = fields.String(allow_none=True)
    session_id = fields.String(allow_none=True)
    suggestions_shown = fields.List(fields.String())
    suggestions_opened = fields.List(fields.String())
    delivered_at = fields.String(allow_none=True, metadata={
        "description": "When the help desk accepted it; null while it waits in the outbox."})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)


class TicketListSchema(Schema):
    tickets = fields.List(fields.Nested(StoredTicketSchema))


class TicketListArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))
    undelivered = fields.Boolean(load_default=False)


@bp.route("/admin/reindex")
class ReindexResource(MethodView):
    @admin_only
    @bp.response(202, ReindexStateSchema)
    def post(self) -> dict[str, Any]:
        """Rebuild the index from the articles folder and swap it in while serving; every
        other replica then rebuilds from its own articles (kb/reindex.py)."""
        reindex: Reindex = current_app.extensions["kb_reindex"]
        if not reindex.start():
            abort(409, description="a rebuild is already running; poll GET /admin/reindex")
        return reindex.state

    @admin_only
    @bp.response(200, ReindexStateSchema)
    def get(self) -> dict[str, Any]:
        """State of the last rebuild started on this host."""
        return current_app.extensions["kb_reindex"].state


@bp.route("/admin/tickets")
class AdminTickets(MethodView):
    @admin_only
    @bp.arguments(TicketListArgs, location="query", as_kwargs=True)
    # Documented, not used to serialize: a field added to tickets is listed, never dropped.
    @bp.alt_response(200, schema=TicketListSchema, description="OK")
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
