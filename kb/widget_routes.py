"""The widget's files, its UI text, and a demo contact page that embeds it."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, \
    send_from_directory
from flask.typing import ResponseReturnValue

from kb.catalog import WIDGET_DIR, widget_messages

bp = Blueprint("widget", __name__, template_folder="templates")

# The demo page is held to the strictest policy a customer's site might use.
STRICT_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
              "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@bp.get("/widget/<any('kb-widget.js', 'kb-widget.css'):name>")
def asset(name: str) -> ResponseReturnValue:
    response = send_from_directory(WIDGET_DIR, name, max_age=300)
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
