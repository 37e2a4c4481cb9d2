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


    services(app).database.dispose()


def test_refused_sign_ins_are_throttled_per_client_form_and_bearer_together(
        tmp_path: Path, sample_index: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", sample_index,
                                fake_model, RATE_LIMIT_SIGN_IN="3/minute"))
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    wrong = {"Authorization": "Bearer guess"}
    refused = [guesser.post("/admin/login", data={"token": "guess"}).status_code,
               guesser.get("/api/v1/admin/tickets", headers=wrong).status_code,
               guesser.get("/admin/dashboard", headers=wrong).status_code]
    assert refused == [401, 401, 401]
    throttled = [guesser.post("/admin/login", data={"token": "guess"}),
                 guesser.get("/api/v1/admin/tickets", headers=wrong),
                 guesser.post("/admin/login", data={"token": "s3cret-token"})]
    assert [r.status_code for r in throttled] == [429, 429, 429]
    assert throttled[1].get_json()["error"]["code"] == "too_many_requests"
    assert int(throttled[1].headers["Retry-After"]) > 0
    # Another client is not held up, and right tokens are never counted.
    operator = app.test_client()
    operator.environ_base["REMOTE_ADDR"] = "198.51.100.8"
    right = {"Authorization": "Bearer s3cret-token"}
    assert [operator.get("/api/v1/admin/tickets", headers=right).status_code
            for _ in range(5)] == [200] * 5
    services(app).database.dispose()


@pytest.mark.parametrize(("proxies", "base_url", "headers", "secure"), [
    (0, "http://help.example", {}, False),
    (0, "https://help.example", {}, True),
    (1, "http://help.example", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
     True),
    (0, "http://help.example", {"X-Forwarded-Proto": "https"}, False),  # untrusted header
])
def test_the_session_cookie_is_secure_over_https(tmp_path: Path, sample_index: Path,
                                                 fake_model: str, proxies: int, base_url: str,
                                                 headers: dict[str, str], secure: bool) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", sample_index,
                                fake_model, PROXY_COUNT=proxies))
    response = app.test_client().post("/admin/login", data={"token": "s3cret-token"},
                                      base_url=base_url, headers=headers)
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 302 and "HttpOnly" in cookie
    assert ("; Secure" in cookie) is secure, cookie
    services(app).database.dispose()
