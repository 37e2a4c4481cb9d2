"""Driving the widget in Debian's Chromium."""

from __future__ import annotations

import os

from tests.support.articles import REPO

CHROMIUM = os.environ.get("KB_TEST_CHROMIUM", "/usr/bin/chromium")
# Screenshots, for a person to look at each language.
OUTPUT = REPO / "test-output"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ask(page, subject: str, message: str) -> None:  # type: ignore[no-untyped-def]
    """Type a ticket's subject and message, and wait for the suggestions they bring."""
    page.locator("#kb-subject").fill(subject)
    page.locator("#kb-message").fill(message)
    # Let the debounced search for the whole text finish, so the list is not replaced under us.
    page.wait_for_timeout(450)
    page.wait_for_load_state("networkidle")
    page.locator(".kb-suggestion").first.wait_for(timeout=15_000)
