"""`POST /api/v1/feedback`: "did this answer help?"."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from kb.models import Feedback
from kb.security import limiter, write_limit
from kb.services import services
from kb.validation import ApiBlueprint, CreatedSchema, MaxChars, StrictBoolean

bp = ApiBlueprint("feedback", __name__, description="Record whether an article helped")


class FeedbackSchema(Schema):
    article_id = fields.String(required=True, validate=MaxChars(200, min_chars=1),
                               metadata={"description": "`<lang>/<slug>`, as in search results."})
    helpful = StrictBoolean(required=True)
    comment = fields.String(load_default=None, allow_none=True,
                            validate=MaxChars("MAX_MESSAGE_CHARS"))
    query = fields.String(load_default=None, allow_none=True, validate=MaxChars("MAX_QUERY_CHARS"))
    session_id = fields.String(load_default=None, allow_none=True, validate=MaxChars(100))


@bp.route("/feedback")
class FeedbackResource(MethodView):
    @limiter.limit(write_limit)
    @bp.arguments(FeedbackSchema)
    @bp.response(201, CreatedSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Store one answer to "did this solve your problem?"."""
        return {"id": services().database.insert(Feedback(**data))}
