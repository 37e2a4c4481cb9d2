"""One JSON error shape for every error: `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError


def error_response(status: int, code: str, message: str,
                   details: dict[str, Any] | None = None) -> ResponseReturnValue:
    """Build the one error shape every endpoint uses."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or exc.name)
    return response


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    # Never a stack trace to the client; the traceback goes to the log via Flask's logger.
    return error_response(500, "internal_server_error", InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
