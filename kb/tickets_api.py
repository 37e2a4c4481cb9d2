"""`POST /api/v1/tickets`: a customer's request to a human, stored before we say "received"."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from kb.deflection import email_salt, hash_email
from kb.models import Ticket
from kb.outbox import queue_ticket
from kb.security import limiter, write_limit
from kb.services import services
from kb.validation import ApiBlueprint, ConfiguredLanguage, EmailAddress, MaxChars

bp = ApiBlueprint("tickets", __name__, description="Send a request to support")


class TicketSchema(Schema):
    email = EmailAddress(required=True, validate=MaxChars(320))
    subject = fields.String(required=True, validate=MaxChars(300, min_chars=1))
    message = fields.String(required=True, validate=MaxChars("MAX_MESSAGE_CHARS", min_chars=1))
    lang = fields.String(required=True, validate=ConfiguredLanguage())
    page_url = fields.String(load_default=None, allow_none=True, validate=MaxChars(2000))
    session_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100))
    visitor_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100),
                               metadata={"description": "The widget's anonymous visitor id."})
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
        return {"id": store_ticket(data),
                "reply_within_hours": current_app.config["SUPPORT_REPLY_HOURS"]}


def store_ticket(data: dict[str, Any]) -> int | None:
    """Store a validated ticket (the email also as a salted hash) with its outbox entries and
    wake the sender; None for a bot that filled the honeypot (it is told "sent", nothing is
    stored)."""
    if data.pop("website", ""):
        return None
    outbox = services().outbox
    with services().database.session() as session:
        ticket = Ticket(**data, email_hash=hash_email(data["email"], email_salt(session)))
        session.add(ticket)
        session.flush()
        queue_ticket(session, ticket.id, outbox.channels)
        ticket_id = ticket.id
    outbox.nudge()
    return ticket_id
