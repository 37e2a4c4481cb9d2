"""HTML pages as responses: a strict Content-Security-Policy, revalidation (ETag and
Last-Modified, so a reload is a 304) and gzip."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from typing import Any

from flask import Response, render_template, request

# No inline script or style anywhere: everything a page runs or wears comes from this server.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
            "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
COMPRESSIBLE = ("text/html", "text/css", "text/javascript", "text/plain", "application/xml")
# Below this, gzip's header costs more than it saves.
MIN_COMPRESS_BYTES = 512


def html_page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a template as a page under the strict policy, revalidated on every visit."""
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


def versioned(response: Response, modified: dt.datetime) -> Response:
    """Add Last-Modified (when the content was built) and an ETag of the body, and answer 304
    when the browser already has this version."""
    response.last_modified = modified
    body = response.get_data()
    response.set_etag(hashlib.sha256(body).hexdigest()[:32], weak=True)
    response.vary.add("Cookie")  # the body carries the visitor's form tokens
    return response.make_conditional(request)


def compress(response: Response) -> Response:
    """Gzip a text response when the client accepts it (what a page costs on the wire)."""
    response.vary.add("Accept-Encoding")
    if (response.status_code != 200 or response.direct_passthrough
            or "Content-Encoding" in response.headers
            or response.mimetype not in COMPRESSIBLE
            or "gzip" not in request.accept_encodings):
        return response
    body = response.get_data()
    if len(body) < MIN_COMPRESS_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response
