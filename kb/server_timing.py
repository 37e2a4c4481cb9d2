"""The `Server-Timing` header: how long the service itself spent on a request.

Measured inside the app, from the first request hook to the last response hook, so it leaves out
the network and gunicorn's queue: what a cache hit costs the service, read straight from any
answer (`app;dur=0.42`, milliseconds, as in the W3C Server Timing spec).
"""

from __future__ import annotations

import time

from flask import Flask, Response, g


def _start_clock() -> None:
    g.kb_started = time.perf_counter()


def _add_header(response: Response) -> Response:
    started = g.get("kb_started")
    if started is not None:
        response.headers["Server-Timing"] = (
            f"app;dur={(time.perf_counter() - started) * 1000:.3f}")
    return response


def init_server_timing(app: Flask) -> None:
    """Register first: the clock starts before every other hook and stops after all of them."""
    app.before_request(_start_clock)
    app.after_request(_add_header)
