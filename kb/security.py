"""Who may call the API and how often: CORS allow-list, rate limits, security headers."""

from __future__ import annotations

import threading
import time

from flask import Flask, Response
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

# Importing it registers the sqlite:// counter store with limits.
from kb.rate_limit_store import EXPIRE_EVERY_SECONDS

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)


class InlineExpiryMemoryStorage(MemoryStorage):
    """The `limits` library's memory storage, dropping expired counters at most once a second
    inside the request that comes along, instead of in a new thread.

    The original starts a timer thread whenever its last one has run, 10 ms after a hit: with
    requests further apart than that, every request started (and waited for) a thread, about
    4.5 ms of a search's time on a busy machine (profiled). A counter past its window is never
    read anyway (`get` checks the expiry), so dropping it late only holds its memory a little
    longer. Used for `memory://` (`kb-memory://` names it).
    """

    STORAGE_SCHEME = ["kb-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._expire_lock = threading.Lock()
        self._next_expiry = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # the original's private hook
        now = time.monotonic()
        if now < self._next_expiry or not self._expire_lock.acquire(blocking=False):
            return
        try:
            self._next_expiry = now + EXPIRE_EVERY_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._expire_lock.release()


def limiter_storage_uri(url: str) -> str:
    """The storage URI handed to Flask-Limiter: `memory://` becomes our thread-free one."""
    if url.startswith("memory://"):
        return "kb-memory://" + url.removeprefix("memory://")
    return url


def search_limit() -> str:
    from flask import current_app

    return current_app.config["RATE_LIMIT_SEARCH"]


def write_limit() -> str:
    from flask import current_app

    return current_app.config["RATE_LIMIT_WRITE"]


def events_limit() -> str:
    from flask import current_app

    return current_app.config["RATE_LIMIT_EVENTS"]


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
    storage_url = app.config["RATELIMIT_STORAGE_URL"]
    app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(storage_url)
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
