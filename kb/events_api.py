"""`POST /api/v1/events`: what happened in the widget (for the deflection funnel)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate

from kb.deflection import email_salt, hash_email
from kb.models import Event
from kb.security import limiter, write_limit
from kb.services import services
from kb.validation import ApiBlueprint, CreatedSchema, ConfiguredLanguage, MaxChars

bp = ApiBlueprint("events", __name__, description="Record widget events")

EVENT_TYPES = ("widget_opened", "search", "suggestions_shown", "article_opened", "helpful",
               "not_helpful", "deflected", "ticket_started", "ticket_sent")


def _small_json(value: dict[str, Any]) -> None:
    if len(str(value)) > 2000 or len(value) > 20:
        raise ValidationError("is too large (at most 20 keys and about 2,000 characters)")


class EventSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    session_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100))
    visitor_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100),
                               metadata={"description": "The widget's anonymous visitor id, kept "
                                                        "in the browser across visits."})
    # Any text: a typo must not lose the event; an address that never sends a ticket matches none.
    email = fields.String(load_default=None, allow_none=True, validate=MaxChars(320),
                         metadata={"description": "With `deflected`: the email the customer "
                                                  "typed, so a later ticket from it cancels the "
                                                  "deflection; only its salted hash is kept."})
    lang = fields.String(load_default=None, allow_none=True, validate=ConfiguredLanguage())
    query = fields.String(load_default=None, allow_none=True, validate=MaxChars("MAX_QUERY_CHARS"))
    article_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(200))
    data = fields.Dict(keys=fields.String(), load_default=dict, validate=_small_json)


@bp.route("/events")
class EventResource(MethodView):
    @limiter.limit(write_limit)
    @bp.arguments(EventSchema)
    @bp.response(201, CreatedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Store one widget event."""
        database = services().database
        email = data.pop("email")
        if email:
            with database.session() as session:
                data["email_hash"] = hash_email(email, email_salt(session))
        return {"id": database.insert(Event(**data))}
