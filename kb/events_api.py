"""`POST /api/v1/events`: what happened in the widget (for the deflection funnel)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate

from kb.deflection import email_salt, hash_email
from kb.security import events_limit, limiter
from kb.services import services
from kb.validation import ApiBlueprint, ConfiguredLanguage, MaxChars

bp = ApiBlueprint("events", __name__, description="Record widget events")

EVENT_TYPES = ("widget_opened", "search", "suggestions_shown", "article_opened", "helpful",
               "not_helpful", "deflected", "ticket_started", "ticket_sent")


# `data` is small and flat, in limits the OpenAPI document can state: at most DATA_KEYS keys,
# each value a scalar or a list of at most DATA_LIST_ITEMS scalars, text at most DATA_TEXT_CHARS.
DATA_KEYS, DATA_LIST_ITEMS, DATA_TEXT_CHARS = 20, 20, 200
_DATA_SCALAR = {"anyOf": [{"type": "string", "maxLength": DATA_TEXT_CHARS,
                           "pattern": "^[^\\u0000]*$"},
                          {"type": "number"}, {"type": "boolean"}], "nullable": True}
_DATA_VALUE = {"anyOf": [_DATA_SCALAR, {"type": "array", "maxItems": DATA_LIST_ITEMS,
                                        "items": _DATA_SCALAR}], "nullable": True}


def _scalar_problem(value: Any) -> str | None:
    if isinstance(value, (dict, list)):
        return "must not nest objects or lists"
    if isinstance(value, str) and len(value) > DATA_TEXT_CHARS:
        return f"text is {len(value)} characters long; the limit is {DATA_TEXT_CHARS}"
    if isinstance(value, str) and "\x00" in value:
        return "contains a NUL character; remove it"
    return None


def _small_flat_json(value: dict[str, Any]) -> None:
    if len(value) > DATA_KEYS:
        raise ValidationError(f"has {len(value)} keys; the limit is {DATA_KEYS}")
    for key, item in value.items():
        if isinstance(item, list) and len(item) > DATA_LIST_ITEMS:
            raise ValidationError(f"'{key}' has {len(item)} items; the limit is {DATA_LIST_ITEMS}")
        for scalar in item if isinstance(item, list) else [item]:
            problem = _scalar_problem(scalar)
            if problem:
                raise ValidationError(f"'{key}' {problem}")


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
    data = fields.Dict(keys=fields.String(),
                       values=fields.Raw(allow_none=True, metadata=_DATA_VALUE),
                       load_default=dict, validate=_small_flat_json,
                       metadata={"maxProperties": DATA_KEYS})


class QueuedSchema(Schema):
    """The answer to an event taken for the next batch write (kb/event_log.py)."""

    queued = fields.Boolean(metadata={"description": "Always true: the event is written "
                                                     "within KB_EVENT_FLUSH_SECONDS."})


@bp.route("/events")
class EventResource(MethodView):
    @limiter.limit(events_limit)
    @bp.arguments(EventSchema)
    @bp.response(202, QueuedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Record one widget event (written with the next batch, in order); an email is kept
        only as its salted hash."""
        email = data.pop("email")
        if email:
            # The salt is read once per process, so this is no database round trip after the first.
            with services().database.session() as session:
                data["email_hash"] = hash_email(email, email_salt(session))
        services().event_log.record(**data)
        return {"queued": True}
