"""One JSON error shape for every error: `{"error": {"code", "message", "details"}}`.

Never an HTML page and never a stack trace: unexpected errors are logged and answered with a
generic 500 in the same shape.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from marshmallow import Schema, fields
from sqlalchemy.exc import DataError, DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge


class ServiceUnavailable(HTTPException):
    """The service cannot answer this yet (no index, database down); try again later."""

    code = 503

    def __init__(self, description: str):
        super().__init__(description=description)


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={
        "description": "Stable, machine-readable: invalid_request, not_found, too_many_requests, "
                       "unsupported_media_type, database_unavailable, ..."})
    message = fields.String(required=True, metadata={"description": "What went wrong and what "
                                                                    "to do, in English."})
    details = fields.Dict(required=True, metadata={
        "description": "More about it: `fields` names each invalid field and what is wrong "
                       "with it; `retry` says whether trying again later may succeed."})


class ErrorSchema(Schema):
    """The one error shape, for the OpenAPI document (error_body builds it)."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class ServiceApi(Api):
    """flask-smorest's Api, documenting our one error shape as the body of every error."""

    ERROR_SCHEMA = ErrorSchema


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape, as data (the gunicorn worker writes it without a Flask app)."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str,
                   details: dict[str, Any] | None = None) -> ResponseReturnValue:
    """Build the one error shape every endpoint uses."""
    return jsonify(error_body(code, message, details)), status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    details: dict[str, Any] = {}
    data = getattr(exc, "data", None)
    if isinstance(data, dict) and "messages" in data:
        # Request validation (webargs/marshmallow): name every bad field and what is wrong.
        status = 400
        details = {"fields": data["messages"]}
        message = "the request has invalid or unknown fields; see details.fields"
        code = "invalid_request"
    elif isinstance(exc, RequestEntityTooLarge):
        # Werkzeug's default text does not say what the limit is.
        limit = current_app.config["MAX_BODY_BYTES"]
        code = "request_entity_too_large"
        message = f"the request body is larger than the limit of {limit} bytes"
        details = {"limit_bytes": limit}
    else:
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name or "error"
    response = error_response(status, code, message, details)
    headers = exc.get_headers() if hasattr(exc, "get_headers") else []
    extra = {k: v for k, v in headers if k.lower() in ("retry-after", "www-authenticate", "allow")}
    if extra:
        body, status_code = response  # type: ignore[misc]
        return body, status_code, extra
    return response


def _database_error(exc: Exception) -> ResponseReturnValue:
    # The database is down or refusing: say so and invite a retry; the widget keeps the draft.
    current_app.logger.error("database error: %s", exc)
    return error_response(503, "database_unavailable",
                          "we cannot save this right now; nothing was lost on your side, "
                          "please try again in a minute", {"retry": True})


def _bad_data(exc: Exception) -> ResponseReturnValue:
    # Input that parses but cannot be stored or handled (too deeply nested JSON, a value the
    # database rejects): the client's fault, not an outage, so no retry is suggested.
    return error_response(400, "invalid_request",
                          "the request body could not be processed; send flat JSON with plain "
                          "text values")


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    current_app.logger.exception("unexpected error")
    return error_response(500, "internal_server_error", InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DataError, _bad_data)
    app.register_error_handler(RecursionError, _bad_data)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(Exception, _unexpected_error)
