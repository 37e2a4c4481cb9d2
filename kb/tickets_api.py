"""`POST /api/v1/tickets`: a customer's request to a human, stored before we say "received"."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from kb.models import OutboxItem, Ticket
from kb.security import limiter, write_limit
from kb.validation import ConfiguredLanguage, EmailAddress, MaxChars

bp = Blueprint("tickets", __name__, description="Send a request to support")


class TicketSchema(Schema):
    email = EmailAddress(required=True, validate=MaxChars(320))
    subject = fields.String(required=True, validate=MaxChars(300, min_chars=1))
    message = fields.String(required=True, validate=MaxChars("MAX_MESSAGE_CHARS", min_chars=1))
    lang = fields.String(required=True, validate=ConfiguredLanguage())
    page_url = fields.String(load_default=None, allow_none=True, validate=MaxChars(2000))
    session_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100))
    suggestions_shown = fields.List(fields.String(validate=MaxChars(200)), load_default=list,
                                    validate=validate.Length(max=50))
    suggestions_opened = fields.List(fields.String(validate=MaxChars(200)), load_default=list,
                                     validate=validate.Length(max=50))
    # Honeypot: hidden from people by the widget; bots fill every field.
    website = fields.String(load_default="", metadata={"description": "Leave empty."})


class TicketCreatedSchema(Schema):
    id = fields.Integer(allow_none=True)
    reply_within_hours = fields.Integer()


@bp.route("/tickets")
class TicketResource(MethodView):
    @limiter.limit(write_limit)
    @bp.arguments(TicketSchema)
    @bp.response(201, TicketCreatedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Store a ticket (and queue it for the help desk) before answering 201."""
        hours = int(current_app.config["SUPPORT_REPLY_HOURS"])
        if data.pop("website", ""):
            # Looks like success to the bot; nothing is stored or forwarded.
            return {"id": None, "reply_within_hours": hours}
        with current_app.extensions["kb_db"].session() as session:
            ticket = Ticket(**data)
            session.add(ticket)
            session.flush()
            session.add(OutboxItem(ticket_id=ticket.id, attempts=0))
            ticket_id = ticket.id
        current_app.extensions["kb_outbox"].nudge()
        return {"id": ticket_id, "reply_within_hours": hours}
