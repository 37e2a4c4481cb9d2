"""Request validation helpers shared by the blueprints: limits that come from settings."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields

# Unknown fields are rejected everywhere, query strings included (webargs excludes them there by
# default), so a typo like `?limt=3` is reported instead of silently ignored.
Blueprint.ARGUMENTS_PARSER.unknown = RAISE


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
