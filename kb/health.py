"""`GET /api/v1/health`: is the service up, and what does it serve."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from search.collection import load_articles

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    settings = current_app.config
    articles = load_articles(Path(settings["ARTICLES_DIR"]),
                             settings["LANGUAGES"])
    counts = Counter(a.lang for a in articles.published())
    return jsonify({"status": "ok", "articles": {lang: counts.get(lang, 0)
                                                 for lang in settings["LANGUAGES"]}})
