"""The widget's files, its UI text, and a demo contact page that embeds it."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, \
    send_from_directory
from flask.typing import ResponseReturnValue

from kb.catalog import WIDGET_DIR, widget_messages

bp = Blueprint("widget", __name__, template_folder="templates")

# The demo page is held to the strictest policy a customer's site might use.
STRICT_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
              "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


ASSET_MAX_AGE = 300


@lru_cache(maxsize=8)
def _gzipped(name: str, modified_ns: int) -> bytes:
    """A widget file compressed once per version (the modification time is part of the key)."""
    return gzip.compress((WIDGET_DIR / name).read_bytes(), compresslevel=9, mtime=0)


def _gzipped_asset(name: str) -> Response:
    """The file gzip-compressed, with the caching headers send_from_directory would give it."""
    path = WIDGET_DIR / name
    modified = path.stat().st_mtime
    body = _gzipped(name, path.stat().st_mtime_ns)
    response = current_app.response_class(body, mimetype=mimetypes.guess_type(name)[0])
    response.headers["Content-Encoding"] = "gzip"
    # Another ETag than the uncompressed file's: caches must not swap one body for the other.
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.last_modified = modified  # type: ignore[assignment]
    response.cache_control.public = True
    response.cache_control.max_age = ASSET_MAX_AGE
    return response.make_conditional(request)


@bp.get("/widget/<any('kb-widget.js', 'kb-widget.css'):name>")
def asset(name: str) -> ResponseReturnValue:
    # Customers' pages load these on every visit: compressed, they are about a third the size.
    if request.accept_encodings["gzip"] > 0:
        response = _gzipped_asset(name)
    else:
        response = send_from_directory(WIDGET_DIR, name, max_age=ASSET_MAX_AGE)
    response.vary.add("Accept-Encoding")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/widget/i18n/<lang>.json")
def messages(lang: str) -> ResponseReturnValue:
    if lang not in current_app.config["LANGUAGES"]:
        abort(404, description=f"no widget translation for '{lang}'")
    response = jsonify({"lang": lang, "messages": widget_messages(lang)})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/demo")
@bp.get("/demo/<lang>")
def demo(lang: str | None = None) -> ResponseReturnValue:
    languages = current_app.config["LANGUAGES"]
    lang = lang or request.accept_languages.best_match(languages) or languages[0]
    if lang not in languages:
        abort(404, description=f"no demo in '{lang}'; try one of {', '.join(languages)}")
    response = Response(render_template("demo.html", lang=lang, languages=languages,
                                        endpoint=request.host_url.rstrip("/")))
    response.headers["Content-Security-Policy"] = STRICT_CSP
    return response
