"""`POST /api/v1/events`: what happened in the widget (for the deflection funnel)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from kb.security import limiter, write_limit
from kb.validation import ConfiguredLanguage, MaxChars

bp = Blueprint("events", __name__, description="Record widget events")

EVENT_TYPES = ("widget_opened", "search", "suggestions_shown", "article_opened", "helpful",
               "not_helpful", "deflected", "ticket_started", "ticket_sent")


def _small_json(value: dict[str, Any]) -> None:
    if len(str(value)) > 2000 or len(value) > 20:
        raise ValidationError("is too large (at most 20 keys and about 2,000 characters)")


class EventSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    session_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100))
    lang = fields.String(load_default=None, allow_none=True, validate=ConfiguredLanguage())
    query = fields.String(load_default=None, allow_none=True, validate=MaxChars("MAX_QUERY_CHARS"))
    article_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(200))
    data = fields.Dict(keys=fields.String(), load_default=dict, validate=_small_json)


class QueuedSchema(Schema):
    """The answer to an event taken for the next batch write (kb/event_log.py)."""

    queued = fields.Boolean(metadata={"description": "Always true: the event is written "
                                                     "within KB_EVENT_FLUSH_SECONDS."})


@bp.route("/events")
class EventResource(MethodView):
    @limiter.limit(write_limit)
    @bp.arguments(EventSchema)
    @bp.response(202, QueuedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Record one widget event (written with the next batch, in order)."""
        current_app.extensions["kb_event_log"].record(**data)
        return {"queued": True}
