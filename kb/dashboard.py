"""The support team's dashboard: the report as HTML tables, with charts (admin token required).

Browsers cannot send a bearer header on a page visit, so the token is entered once in a form and
kept in a signed, HTTP-only, same-site session cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from flask import (Blueprint, Flask, Response, abort, current_app, redirect, render_template,
                   request, session, url_for)
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue

from kb.report import DateRange, build_report
from kb.security import admin_sign_in
from kb.services import services

bp = Blueprint("dashboard", __name__, template_folder="templates")

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


class SessionOverHttps(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the page came over HTTPS, also when a trusted
    proxy (KB_PROXY_COUNT) ended TLS and said so in X-Forwarded-Proto."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_dashboard(app: Flask) -> None:
    token = app.config["ADMIN_TOKEN"]
    if token:
        # Derived from the admin token: changing the token logs everyone out.
        app.secret_key = hashlib.sha256(f"kb-dashboard:{token}".encode()).hexdigest()
        app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
        app.session_interface = SessionOverHttps()
    app.register_blueprint(bp)


def _token_ok(given: str) -> bool:
    expected = current_app.config["ADMIN_TOKEN"]
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


def _authorized() -> bool:
    token = _bearer_token()
    if token is not None and _token_ok(token):
        return True
    return bool(current_app.config["ADMIN_TOKEN"]) and session.get("admin") is True


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = Response(render_template(template, **context), status=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/login", methods=["GET", "POST"])
@admin_sign_in
def login() -> ResponseReturnValue:
    if not current_app.config["ADMIN_TOKEN"]:
        abort(404, description="the dashboard is off; set KB_ADMIN_TOKEN to turn it on")
    if request.method == "POST":
        if _token_ok(request.form.get("token", "")):
            session.clear()
            session["admin"] = True
            return redirect(url_for("dashboard.dashboard"))
        return _page("login.html", 401, error="That token is not right.")
    return _page("login.html")


@bp.post("/admin/logout")
def logout() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for("dashboard.login"))


def _date_arg(name: str) -> dt.date | None:
    value = request.args.get(name) or None
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"'{name}' must be a date like 2026-11-22")


@bp.get("/admin/dashboard")
@admin_sign_in
def dashboard() -> ResponseReturnValue:
    if not current_app.config["ADMIN_TOKEN"]:
        abort(404, description="the dashboard is off; set KB_ADMIN_TOKEN to turn it on")
    if not _authorized():
        if _bearer_token() is not None:
            # A script, not a browser: a wrong token is refused (and counted), not redirected.
            abort(401, description="send 'Authorization: Bearer <KB_ADMIN_TOKEN>'")
        return redirect(url_for("dashboard.login"))
    period = request.args.get("period", "week")
    if period not in ("day", "week"):
        abort(400, description="'period' must be day or week")
    dates = DateRange(_date_arg("from"), _date_arg("to"))
    snapshot = services().live_index.current()
    if snapshot is None:
        abort(503, description="the search index is not loaded; run kb index")
    with services().database.session() as db_session:
        report = build_report(db_session, snapshot.engine.embedder, snapshot.articles,
                              current_app.config, dates, period)
    data = report.to_dict()
    return _page("dashboard.html", report=report, data=data,
                 languages=current_app.config["LANGUAGES"])
