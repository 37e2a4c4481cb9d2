"""Who may call the API and how often: CORS allow-list, rate limits, security headers."""

from __future__ import annotations

from flask import Flask, Response
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

import kb.rate_limit_store  # noqa: F401 - registers the sqlite:// counter store with limits

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


def search_limit() -> str:
    from flask import current_app

    return current_app.config["RATE_LIMIT_SEARCH"]


def write_limit() -> str:
    from flask import current_app

    return current_app.config["RATE_LIMIT_WRITE"]


def sign_in_limit() -> str:
    from flask import current_app

    return str(current_app.config["RATE_LIMIT_SIGN_IN"])


def _refused(response: Response) -> bool:
    return response.status_code == 401


# Only refused attempts count, and the dashboard form and the bearer token share one count per
# client: guessing the admin token through either is slowed down the same way.
admin_sign_in = limiter.shared_limit(sign_in_limit, scope="admin-sign-in", deduct_when=_refused)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")  # the widget is a script, never a frame
    response.headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
    if response.mimetype == "application/json" and "Content-Security-Policy" not in response.headers:
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'none'; frame-ancestors 'none'")
    return response


def _retry_after_only_when_limited(response: Response) -> Response:
    # Flask-Limiter adds Retry-After to every response; it only means something on a 429.
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def init_security(app: Flask) -> None:
    # Registered before the limiter, so it runs after the limiter has added its headers.
    app.after_request(_retry_after_only_when_limited)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATELIMIT_STORAGE_URL"]
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    if app.config["RATELIMIT_STORAGE_URL"].startswith(("redis", "rediss")):
        # Redis keys are named by the storage, not by Flask-Limiter's own prefix (which only
        # the first app in a process would get to set).
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "key_prefix": f"{app.config['REDIS_KEY_PREFIX']}:limits"}
    limiter.init_app(app)
    CORS(app, resources={r"/api/*": {"origins": list(app.config["CORS_ORIGINS"])}},
         methods=["GET", "POST", "OPTIONS"], allow_headers=["Content-Type"], max_age=600)
    app.after_request(_security_headers)
