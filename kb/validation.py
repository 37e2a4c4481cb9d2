"""Request validation helpers shared by the blueprints: limits that come from settings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import flask
from flask import abort, current_app, request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

# Half of a UTF-16 pair (JSON's "\ud83d" without its partner) is not a character: no database
# can store it, and it is what cutting an emoji in two leaves behind.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate_at(value: Any, path: str = "") -> str | None:
    """Where in parsed JSON a string holds a lone UTF-16 surrogate (`subject`, `data.x`), else None."""
    if isinstance(value, str):
        return path or "body" if _LONE_SURROGATE.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        where = (lone_surrogate_at(str(key), path or "body")
                 or lone_surrogate_at(item, f"{path}.{key}" if path else str(key)))
        if where:
            return where
    return None


class RequestParser(FlaskParser):
    """webargs' Flask parser, answering what it leaves unsaid: a body that is not JSON, and JSON
    text that cannot be stored. Validation errors are 400s, as the error handler sends them."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            # webargs would read no body at all and report every required field as missing.
            abort(415, description="the request body must be JSON, sent with the header "
                                   "'Content-Type: application/json'")
        data = core.parse_json(req.get_data(cache=True))
        where = lone_surrogate_at(data)
        if where:
            abort(400, description=f"'{where}' contains half of a UTF-16 surrogate pair (such as "
                                   "\\ud83d without its partner), not a character; send whole "
                                   "characters")
        return data


# Unknown fields are rejected everywhere, query strings included (webargs excludes them there by
# default), so a typo like `?limt=3` is reported instead of silently ignored.
Blueprint.ARGUMENTS_PARSER = RequestParser(unknown=RAISE)


def require_utf8_query_string() -> None:
    """Answer 400 for a query string that is not UTF-8, raw or percent-encoded.

    Werkzeug decodes raw bytes strictly (a 500 deep inside request parsing) and leaves invalid
    percent-escapes in place (`%FF` would be searched for as text); both are client errors.
    """
    try:
        unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        abort(400, description="the query string is not valid UTF-8; send text as "
                               "percent-encoded UTF-8")


def refuse_oversized_streamed_body() -> None:
    """Answer 413 for a chunked body over the limit, as for one with a Content-Length.

    Without a length Werkzeug stops reading at the limit and hands on what it has, so an oversized
    body would otherwise be reported as invalid JSON.
    """
    if request.content_length is not None or request.method not in ("POST", "PUT", "PATCH"):
        return
    request.get_data(cache=True)  # kept for the view, which parses it
    if getattr(request.stream, "is_exhausted", False):
        abort(413)


class MaxChars:
    """Reject text longer than a setting allows (read per request, so tests and config apply)."""

    def __init__(self, setting: str | int, min_chars: int = 0):
        self.setting = setting
        self.min_chars = min_chars

    def __call__(self, value: str) -> None:
        limit = self.setting if isinstance(self.setting, int) \
            else int(current_app.config[self.setting])
        if "\x00" in value:
            raise ValidationError("contains a NUL character; remove it")
        if len(value.strip()) < self.min_chars:
            raise ValidationError(f"must have at least {self.min_chars} character(s)")
        if len(value) > limit:
            raise ValidationError(f"is {len(value)} characters long; the limit is {limit}")


class ConfiguredLanguage:
    """Accept only the languages the service is configured for."""

    def __call__(self, value: Any) -> None:
        languages = current_app.config["LANGUAGES"]
        if value not in languages:
            raise ValidationError(f"unknown language {value!r}; use one of {', '.join(languages)}")


class CreatedSchema(Schema):
    """The answer to a successful POST that stored one row."""

    id = fields.Integer()
