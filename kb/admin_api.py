"""Admin endpoints behind a bearer token: rebuild the index, read and re-send tickets, report
tickets from other channels."""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from flask import abort, current_app, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from kb.deflection import email_salt, hash_email
from kb.models import ExternalTicket, Ticket, utcnow
from kb.outbox import resend, tickets_with_deliveries
from kb.reindex import Reindex
from kb.security import admin_sign_in
from kb.services import services
from kb.validation import ApiBlueprint, CreatedSchema, EmailAddress, MaxChars

bp = ApiBlueprint("admin", __name__, description="Operator endpoints (bearer token)")
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


class DeliverySchema(Schema):
    channel = fields.String(metadata={"description": "webhook or email"})
    state = fields.String(metadata={"description": "delivered, waiting or failed"})
    attempts = fields.Integer()
    delivered_at = fields.String(allow_none=True)
    failed_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)


class StoredTicketSchema(Schema):
    id = fields.Integer()
    created_at = fields.String()
    email = fields.String()
    subject = fields.String()
    message = fields.String()
    lang = fields.String()
    page_url = fields.String(allow_none=True)
    session_id = fields.String(allow_none=True)
    visitor_id = fields.String(allow_none=True)
    email_hash = fields.String(allow_none=True)
    suggestions_shown = fields.List(fields.String())
    suggestions_opened = fields.List(fields.String())
    state = fields.String(metadata={"description": "failed if any channel refused for good, "
                                                   "waiting if any is still to go, else delivered"})
    delivered_at = fields.String(allow_none=True, metadata={
        "description": "When every channel accepted it; null while one waits in the outbox."})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    deliveries = fields.List(fields.Nested(DeliverySchema))


class TicketListSchema(Schema):
    tickets = fields.List(fields.Nested(StoredTicketSchema))


class TicketListArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0))
    undelivered = fields.Boolean(load_default=False)
    failed = fields.Boolean(load_default=False, metadata={"description": "Only tickets a "
                                                          "channel refused for good."})


@bp.route("/admin/reindex")
class ReindexResource(MethodView):
    @admin_only
    @bp.response(202, ReindexStateSchema)
    def post(self) -> dict[str, Any]:
        """Rebuild the index from the articles folder and swap it in while serving; every
        other replica then rebuilds from its own articles (kb/reindex.py)."""
        reindex: Reindex = services().reindex
        if not reindex.start():
            abort(409, description="a rebuild is already running; poll GET /admin/reindex")
        return reindex.state

    @admin_only
    @bp.response(200, ReindexStateSchema)
    def get(self) -> dict[str, Any]:
        """State of the last rebuild started on this host."""
        return services().reindex.state


@bp.route("/admin/tickets")
class AdminTickets(MethodView):
    @admin_only
    @bp.arguments(TicketListArgs, location="query", as_kwargs=True)
    # Documented, not used to serialize: a field added to tickets is listed, never dropped.
    @bp.alt_response(200, schema=TicketListSchema, description="OK")
    def get(self, limit: int, offset: int, undelivered: bool, failed: bool) -> dict[str, Any]:
        """Stored tickets, newest first, with their delivery state per channel (a failed one
        carries the reason in `last_error`)."""
        with services().database.session() as session:
            tickets = session.scalars(tickets_with_deliveries(undelivered, failed).limit(limit).offset(offset))
            return {"tickets": [{**ticket.to_dict(), **ticket.delivery_state()}
                                for ticket in tickets]}


class ResendSchema(Schema):
    resent = fields.Integer(metadata={"description": "Deliveries made due again."})


@bp.route("/admin/tickets/<int:ticket_id>/resend")
class ResendTicket(MethodView):
    @admin_only
    @bp.response(200, ResendSchema)
    def post(self, ticket_id: int) -> dict[str, Any]:
        """Send a ticket whose delivery failed for good again (after fixing the setting)."""
        database = services().database
        with database.session() as session:
            if session.get(Ticket, ticket_id) is None:
                abort(404, description=f"there is no ticket {ticket_id}")
        resent = resend(database, [ticket_id])
        if not resent:
            abort(409, description=f"ticket {ticket_id} has no failed delivery to re-send")
        services().outbox.nudge()
        return {"resent": resent}


class ExternalTicketSchema(Schema):
    # One of the two is required (document_rules says so in the OpenAPI document).
    email = EmailAddress(load_default=None, allow_none=False, validate=MaxChars(320))
    email_hash = fields.String(load_default=None, allow_none=False,
                               validate=validate.Regexp(r"^[0-9a-f]{64}$", error="must be the "
                                                        "64 hex digits of a hash this service "
                                                        "made"),
                               metadata={"description": "The salted hash, as this service "
                                                        "stores it (tickets' email_hash)."})
    opened_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                     default_timezone=dt.timezone.utc,
                                     metadata={"description": "When the customer opened it; "
                                                              "default now."})
    source = fields.String(load_default=None, allow_none=True, validate=MaxChars(100),
                           metadata={"description": "Where it came from (phone, email, ...)."})

    @validates_schema
    def needs_an_email(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("email") and not data.get("email_hash"):
            raise ValidationError("send the customer's email or its email_hash; without one "
                                  "the ticket cannot be matched to a deflection", "_schema")


def document_rules(spec: Any) -> None:
    """Add to the OpenAPI document what the schemas cannot say field by field: an external
    ticket needs an email or its hash."""
    schema = spec.components.schemas.get("ExternalTicket")
    if schema is not None:
        schema["anyOf"] = [{"required": ["email"]}, {"required": ["email_hash"]}]


@bp.route("/admin/tickets/external")
class ExternalTickets(MethodView):
    @admin_only
    @bp.arguments(ExternalTicketSchema)
    @bp.response(201, CreatedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Report a ticket opened through another channel: it cancels the same customer's
        deflections within KB_DEFLECTION_WINDOW_DAYS. Only the email's salted hash is kept."""
        database = services().database
        with database.session() as session:
            email_hash = data["email_hash"] or hash_email(data["email"], email_salt(session))
            row = ExternalTicket(email_hash=email_hash, opened_at=data["opened_at"] or utcnow(),
                                 source=data["source"])
            session.add(row)
            session.flush()
            return {"id": row.id}
