"""`GET /api/v1/articles` and `/api/v1/articles/<slug>`: the help center's content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from kb.article_link import localize_links
from kb.errors import ServiceUnavailable
from kb.services import services
from kb.validation import ApiBlueprint, ConfiguredLanguage
from search import Article, ArticleSet, fallback_order, is_stale

bp = ApiBlueprint("articles", __name__, description="Read help articles")


class ArticleArgs(Schema):
    lang = fields.String(validate=ConfiguredLanguage())


class ListArgs(ArticleArgs):
    category = fields.String()


class TranslationSchema(Schema):
    lang = fields.String()
    title = fields.String()
    stale = fields.Boolean()


class ArticleSummarySchema(Schema):
    slug = fields.String()
    lang = fields.String()
    title = fields.String()
    summary = fields.String()
    category = fields.String()
    fallback = fields.Boolean()


class ArticleSchema(ArticleSummarySchema):
    id = fields.String()
    html = fields.String(metadata={"description": "Sanitized HTML of the body."})
    tags = fields.List(fields.String())
    updated = fields.String(allow_none=True)
    stale = fields.Boolean(metadata={"description": "The source changed since this translation."})
    translations = fields.List(fields.Nested(TranslationSchema))


def _articles() -> ArticleSet:
    snapshot = services().live_index.current()
    if snapshot is None:
        raise ServiceUnavailable(services().live_index.public_error)
    return snapshot.articles


def _language(lang: str | None) -> str:
    """Asked-for language, else the browser's, else the source language."""
    languages = current_app.config["LANGUAGES"]
    if lang:
        return lang
    best = request.accept_languages.best_match(languages)
    return best or current_app.config["SOURCE_LANGUAGE"]


def _is_stale(article: Article, articles: ArticleSet) -> bool:
    source_lang = current_app.config["SOURCE_LANGUAGE"]
    source = articles.get(source_lang, article.slug)
    if article.lang == source_lang or source is None:
        return False
    return is_stale(article, source)


def _is_published(articles: ArticleSet) -> Callable[[str, str], bool]:
    def published(lang: str, slug: str) -> bool:
        article = articles.get(lang, slug)
        return article is not None and article.published

    return published


def _pick(articles: ArticleSet, slug: str, lang: str) -> Article | None:
    versions = {k: a for k, a in articles.translations(slug).items() if a.published}
    order = fallback_order(lang, [current_app.config["SOURCE_LANGUAGE"]],
                           current_app.config["LANGUAGES"])
    return next((versions[code] for code in order if code in versions), None)


@bp.route("/articles")
class ArticleList(MethodView):
    @bp.arguments(ListArgs, location="query", as_kwargs=True)
    @bp.response(200, ArticleSummarySchema(many=True))
    def get(self, lang: str | None = None, category: str | None = None) -> list[dict[str, Any]]:
        """Every published article in the customer's language (or its fallback)."""
        articles = _articles()
        lang = _language(lang)
        out = []
        for slug in articles.slugs():
            article = _pick(articles, slug, lang)
            if article is None or (category and article.category != category):
                continue
            out.append({"slug": slug, "lang": article.lang, "title": article.title,
                        "summary": article.summary, "category": article.category,
                        "fallback": article.lang != lang})
        return out


@bp.route("/articles/<slug>")
class ArticleDetail(MethodView):
    @bp.arguments(ArticleArgs, location="query", as_kwargs=True)
    @bp.response(200, ArticleSchema)
    def get(self, slug: str, lang: str | None = None) -> dict[str, Any]:
        """One article with sanitized HTML, its translations and whether it is stale."""
        articles = _articles()
        lang = _language(lang)
        article = _pick(articles, slug.lower(), lang)
        if article is None:
            abort(404, description=f"no published article '{slug}'")
        translations = [{"lang": a.lang, "title": a.title, "stale": _is_stale(a, articles)}
                        for code, a in sorted(articles.translations(article.slug).items())
                        if a.published]
        return {"id": article.id, "slug": article.slug, "lang": article.lang,
                "title": article.title, "summary": article.summary,
                "category": article.category, "tags": article.tags,
                "updated": article.updated.isoformat() if article.updated else None,
                "html": localize_links(article.html, lang, _is_published(articles),
                                       current_app.config["ARTICLE_URL"]),
                "fallback": article.lang != lang,
                "stale": _is_stale(article, articles), "translations": translations}
