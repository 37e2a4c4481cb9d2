"""The insights dashboard: behind the admin token, tables readable without JavaScript."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from kb import create_app
from kb.deflection import DEFINITIONS
from kb.services import services
from tests.support.app import app_config
from tests.support.report_data import seed


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app over a database seeded with a known story."""
    seed(services(app).database)
    return app


def test_login_then_dashboard_tables(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/admin/dashboard")
    assert first.status_code == 302 and first.headers["Location"].endswith("/admin/login")
    wrong = client.post("/admin/login", data={"token": "guess"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    right = client.post("/admin/login", data={"token": "s3cret-token"})
    assert right.status_code == 302
    page = client.get("/admin/dashboard?period=week")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for table in ("funnel", "gaps", "articles", "translations"):
        assert f'<table id="{table}">' in html
    assert "<td>2026-W47</td><td>sv</td><td>2</td>" in html
    # Confirmed, pending and cancelled deflections, each defined in one sentence.
    assert "<th>confirmed</th><th>pending</th><th>cancelled</th>" in html
    for state, sentence in DEFINITIONS.items():
        assert f"<dt>{state.capitalize()}</dt><dd>{sentence}</dd>" in html
    assert "sv/reset-password" in html and "team-accounts" in html
    assert "@example" not in html
    assert client.post("/admin/logout").status_code == 302
    assert client.get("/admin/dashboard").status_code == 302


def test_bearer_token_also_works_and_bad_dates_are_400(app: Flask) -> None:
    client = app.test_client()
    headers = {"Authorization": "Bearer s3cret-token"}
    assert client.get("/admin/dashboard", headers=headers).status_code == 200
    error = client.get("/admin/dashboard?from=soon", headers=headers)
    assert error.status_code == 400 and error.get_json()["error"]["message"].startswith("'from'")


def test_dashboard_is_off_without_a_token(tmp_path: Path, sample_index: Path,
                                          fake_model: str) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", sample_index,
                                fake_model, ADMIN_TOKEN=""))
    assert app.test_client().get("/admin/dashboard").status_code == 404
    services(app).database.dispose()
