"""Request validation helpers shared by the blueprints: limits that come from settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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
    """Where in parsed JSON a string holds a lone UTF-16 surrogate (`subject`, `data.x`), or
    None."""
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


class ApiBlueprint(Blueprint):
    """A blueprint of the web API: its arguments reject unknown fields, query strings included
    (webargs excludes them there by default), so a typo like `?limt=3` is reported instead of
    silently ignored; bodies must be JSON that can be stored (RequestParser)."""

    ARGUMENTS_PARSER = RequestParser(unknown=RAISE)

    def arguments(self, schema: Any, **kwargs: Any) -> Any:
        # Given a schema class, webargs makes an instance of it for every request (a tenth of a
        # millisecond of each search, profiled); one made here serves them all, as marshmallow
        # schemas keep nothing between loads. The API description names the same class.
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


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
    """Reject text longer than a setting allows (read per request, so tests and config apply),
    with a NUL character, or (with `min_chars`) with fewer characters that are not spaces."""

    def __init__(self, setting: str | int, min_chars: int = 0):
        self.setting = setting
        self.min_chars = min_chars

    def limit(self, config: Mapping[str, Any]) -> int:
        """The longest text accepted under these settings."""
        return self.setting if isinstance(self.setting, int) else config[self.setting]

    def __call__(self, value: str) -> None:
        limit = self.limit(current_app.config)
        if "\x00" in value:
            raise ValidationError("contains a NUL character; remove it")
        if len(_NOT_SPACE.findall(value)) < self.min_chars:
            raise ValidationError(f"must have at least {self.min_chars} character(s)")
        if len(value) > limit:
            raise ValidationError(f"is {len(value)} characters long; the limit is {limit}")


class ConfiguredLanguage:
    """Accept only the languages the service is configured for."""

    def __call__(self, value: Any) -> None:
        languages = current_app.config["LANGUAGES"]
        if value not in languages:
            raise ValidationError(f"unknown language {value!r}; use one of {', '.join(languages)}")


# Spaces, spelled out: "\s" means other characters in Python and in JavaScript regular
# expressions, and the documented pattern must mean what the service checks.
_SPACE = "\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# What MaxChars accepts, as JSON Schema patterns: no NUL; with min_chars, a character that is
# neither a space nor NUL somewhere.
_NO_NUL = "^[^\\u0000]*$"
_SOME_TEXT = f"^[^\\u0000]*[^{_SPACE}\\u0000][^\\u0000]*$"
_NOT_SPACE = re.compile(f"[^{_SPACE}]")


class EmailAddress(fields.String):
    """An address with one @ and a dotted domain, without spaces or control characters: enough
    to catch typing mistakes, and a rule the OpenAPI document states exactly (PATTERN)."""

    PATTERN = ("^[^@\\u0000-\\u0020\\u007f]+@[^@.\\u0000-\\u0020\\u007f]+"
               "(\\.[^@.\\u0000-\\u0020\\u007f]+)+$")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not re.search(self.PATTERN, text):
            raise ValidationError("is not an email address like name@example.com")
        # "$" also matches before a final newline; it must not reach an email header.
        return text.rstrip("\n")


class StrictBoolean(fields.Boolean):
    """JSON true or false only, as documented (marshmallow's Boolean also takes 0, 1, "yes")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def openapi_keywords(settings: Mapping[str, Any]) -> Callable[..., dict[str, Any]]:
    """An apispec attribute function that documents what our validators check under these
    settings (length, NUL, non-empty, configured languages), so the OpenAPI document states the
    rules the service enforces and a client built from it sends only what is accepted."""
    languages = list(settings["LANGUAGES"])

    def keywords(_converter: Any, field: Any, **_kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for validator in getattr(field, "validators", ()):
            if isinstance(validator, ConfiguredLanguage):
                # OpenAPI 3.0: a nullable enum must list null to allow it.
                found["enum"] = languages + ([None] if field.allow_none else [])
            elif isinstance(validator, MaxChars):
                found["maxLength"] = validator.limit(settings)
                found["pattern"] = _SOME_TEXT if validator.min_chars else _NO_NUL
                if validator.min_chars:
                    found["minLength"] = validator.min_chars
        if isinstance(field, EmailAddress):
            found["pattern"] = EmailAddress.PATTERN
        return found

    return keywords


class CreatedSchema(Schema):
    """The answer to a successful POST that stored one row."""

    id = fields.Integer()
