from __future__ import annotations

import pytest

from search.language import identify_language

LANGS = ("en", "sv", "ru")


@pytest.mark.parametrize(("text", "expected"), [
    ("I forgot my password and cannot sign in", "en"),
    ("jag har glömt mitt lösenord och kan inte logga in", "sv"),
    ("не могу войти, забыла пароль", "ru"),
    ("Пароль", "ru"),
])
def test_identifies_clear_text(text: str, expected: str) -> None:
    guess = identify_language(text, LANGS)
    assert guess.lang == expected
    assert guess.reason == "text"


def test_hint_does_not_override_clear_evidence() -> None:
    # A Swede on an English browser writes Swedish.
    guess = identify_language("hur återställer jag mitt lösenord", LANGS, hints=["en-US"])
    assert guess.lang == "sv"


def test_hint_decides_when_text_is_ambiguous() -> None:
    guess = identify_language("Driftbox app", LANGS, hints=["sv-SE", "en"])
    assert (guess.lang, guess.reason) == ("sv", "hint")


def test_restricted_to_configured_languages() -> None:
    guess = identify_language("ich habe mein Passwort vergessen", ("en", "sv"))
    assert guess.lang in ("en", "sv")


def test_no_letters_falls_back_to_default() -> None:
    guess = identify_language("12345 ???", LANGS, default="en")
    assert (guess.lang, guess.reason) == ("en", "default")
