"""The public help center: server-rendered pages under `/help/`, plus `/sitemap.xml` and
`/robots.txt`. Every page works without JavaScript; the script only swaps the plain contact form
for the widget (and, in `kb preview`, reloads a page when its file is saved)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from babel import Locale
from babel.dates import format_date
from flask import Blueprint, Flask, Response, current_app, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import ChoiceLoader, FileSystemLoader
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound

from kb.article_link import localize_links
from kb.catalog import SITE_DIR, site_translations
from kb.models import Event, Feedback
from kb.page_response import compress, html_page, versioned
from kb.search_api import search_event_data
from kb.security import limiter, search_limit, write_limit
from kb.site_content import ContentSource, SiteContent, served_content
from kb.services import services
from search.article import Article
from search.collection import unnamed_topic
from search.related import related_slugs

bp = Blueprint("site", __name__, url_prefix="/help")

SESSION_COOKIE = "kb_site_session"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A page counts as opened by a customer unless the client says it is a robot or a script.
BOT_AGENT = re.compile(r"bot|crawl|spider|slurp|fetch|monitor|curl|wget|python-|httpx|"
                       r"go-http|java/|libwww|scrapy|preview|facebookexternalhit", re.I)
# With this many section headings or more, an article gets a table of contents.
TOC_MIN_HEADINGS = 3
POPULAR_LIMIT = 5
RELATED_LIMIT = 3
CATEGORY_PREVIEW = 5


# --- Set-up ----------------------------------------------------------------------------------

def init_site(app: Flask, content: ContentSource | None = None, preview: bool = False) -> None:
    """Register the help center; `content` replaces the served build (used by `kb preview`)."""
    instance_templates = Path(app.instance_path) / "templates"
    # The operator's templates (instance/templates/site/*.html) win over the shipped ones.
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(instance_templates)),  # type: ignore[assignment]
                                     FileSystemLoader(str(SITE_DIR / "templates"))])
    app.extensions["kb_site_content"] = content or (lambda: _served(app))
    app.extensions["kb_site_preview"] = preview
    app.extensions["kb_site_signer"] = URLSafeSerializer(_secret_key(app), salt="kb-site-forms")
    app.register_blueprint(bp)
    app.add_url_rule("/sitemap.xml", "sitemap", sitemap)
    app.add_url_rule("/robots.txt", "robots", robots)
    app.after_request(_compress_site_pages)


def _served(app: Flask) -> SiteContent | None:
    snapshot = services(app).live_index.current()
    return None if snapshot is None else served_content(app.config, snapshot)


def _secret_key(app: Flask) -> str:
    """KB_SITE_FORM_KEY, else a random key made once and kept in the instance folder (made in the
    master before gunicorn forks, so every worker signs alike)."""
    if app.config["SITE_FORM_KEY"]:
        return str(app.config["SITE_FORM_KEY"])
    path = Path(app.instance_path) / "secret-key"
    if not path.is_file():
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _compress_site_pages(response: Response) -> Response:
    if request.path.startswith(("/help", "/sitemap.xml", "/robots.txt")):
        return compress(response)
    return response


# --- What every page needs -------------------------------------------------------------------

def _content() -> SiteContent:
    content = current_app.extensions["kb_site_content"]()
    if content is None:
        raise _Unavailable()
    return content


class _Unavailable(HTTPException):
    code = 503
    description = "no index"


def _languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def language_name(code: str, in_language: str | None = None) -> str:
    """A language's name, in itself and capitalized as in a menu ("Svenska", "Русский"); or, with
    `in_language`, as a word inside that language's sentences ("engelska", "английском" aside)."""
    name = Locale.parse(code).get_display_name(in_language or code) or code
    return name if in_language else name[:1].upper() + name[1:]


def _reader_language() -> str:
    """The language a page without one in its address is shown in: the browser's, else the
    source language."""
    return request.accept_languages.best_match(_languages()) or \
        current_app.config["SOURCE_LANGUAGE"]


def _session_id() -> str | None:
    """The visitor's site session (a cookie, so the funnel can follow a visit); None for bots."""
    if _is_bot():
        return None
    given = request.cookies.get(SESSION_COOKIE, "")
    if SESSION_ID.match(given):
        return given
    if "kb_new_session" not in g:
        g.kb_new_session = secrets.token_urlsafe(18)
    return str(g.kb_new_session)


def _is_bot() -> bool:
    agent = request.user_agent.string
    return not agent or bool(BOT_AGENT.search(agent))


def _url(lang: str, slug: str | None = None, external: bool = False) -> str:
    if slug is None:
        return url_for("site.home", lang=lang, _external=external)
    return url_for("site.article", lang=lang, slug=slug, _external=external)


def _context(lang: str, content: SiteContent | None) -> dict[str, Any]:
    config = current_app.config
    return {
        "lang": lang, "_": site_translations(lang).gettext, "language_name": language_name,
        "site": {"name": config["SITE_NAME"], "logo": config["SITE_LOGO_URL"]},
        "languages": _languages(), "content": content, "url": _url,
        "preview": current_app.extensions["kb_site_preview"],
        "max_query_chars": config["MAX_QUERY_CHARS"],
        "contact_token": _form_token("contact"), "contact_question": None,
        # A category's name in the reader's language (the language folder's topics file).
        "topic": (lambda category: content.articles.topic_name(lang, category)) if content
        else unnamed_topic,
    }


def _render(template: str, lang: str, content: SiteContent | None, status: int = 200,
            **context: Any) -> Response:
    response = html_page(f"site/{template}", status, **{**_context(lang, content), **context})
    response.headers["Content-Language"] = lang
    new_session = g.get("kb_new_session")
    if new_session:
        response.set_cookie(SESSION_COOKIE, new_session, httponly=True, samesite="Lax",
                            secure=request.is_secure, path="/help/")
    if status == 200 and content is not None:
        return versioned(response, content.updated_at)
    return response


def _record(event_type: str, lang: str, article_id: str | None = None,
            query: str | None = None, **data: Any) -> None:
    """An event in the same funnel as the widget's, marked as coming from the site; bots and
    the writer's preview are not counted."""
    session_id = _session_id()
    if session_id is None or current_app.extensions["kb_site_preview"]:
        return
    # Queued like the widget's events and written in the next batch (kb/event_log.py): a slow
    # or unreachable database never holds up a page.
    services().event_log.record(event_type, session_id=session_id, lang=lang, query=query,
                                article_id=article_id, data={"source": "site", **data})


def _alternates(href: Callable[[str], str], languages: Iterable[str] | None = None,
                default: str | None = None) -> list[dict[str, str]]:
    """The `hreflang` alternates of one page: a link per language it exists in (every
    configured one unless given) and `x-default`, the source language's version."""
    codes = list(languages if languages is not None else _languages())
    default = default or current_app.config["SOURCE_LANGUAGE"]
    return [{"hreflang": code, "href": href(code)} for code in codes] + \
        [{"hreflang": "x-default", "href": href(default if default in codes else codes[0])}]


def _known_language(lang: str) -> None:
    if lang not in _languages():
        raise NotFound()


def _form_token(*parts: str) -> str:
    """A token binding a form to this visitor's session and what it is about."""
    return str(current_app.extensions["kb_site_signer"].dumps([_session_id() or "", *parts]))


def _token_ok(token: str, *parts: str) -> bool:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    try:
        signed = current_app.extensions["kb_site_signer"].loads(token)
    except BadSignature:
        return False
    return bool(session_id) and signed == [session_id, *parts]


# --- Pages -----------------------------------------------------------------------------------

@bp.get("/")
def choose_language() -> ResponseReturnValue:
    response = redirect(_url(_reader_language()), 302)
    response.headers["Vary"] = "Accept-Language"
    return response


@bp.get("/<lang>/")
def home(lang: str) -> ResponseReturnValue:
    _known_language(lang)
    content = _content()
    categories: dict[str, list[Article]] = {}
    for slug in content.slugs():
        article = content.shown(lang, slug)
        if article is not None:
            categories.setdefault(article.category, []).append(article)
    ordered = sorted(categories.items(), key=lambda item: (item[0] == "", item[0]))
    return _render("home.html", lang, content, categories=ordered,
                   popular=_popular(content, lang), preview_count=CATEGORY_PREVIEW,
                   alternates=_home_alternates(), canonical=_url(lang, external=True))


@bp.get("/<lang>/category/<name>")
def category(lang: str, name: str) -> ResponseReturnValue:
    _known_language(lang)
    content = _content()
    articles = [a for a in (content.shown(lang, s) for s in content.slugs())
                if a is not None and a.category == name]
    if not articles:
        raise NotFound()
    return _render("category.html", lang, content, name=name, articles=articles,
                   switch_links=_switch_links("site.category", name=name),
                   alternates=_alternates(lambda code: url_for(
                       "site.category", lang=code, name=name, _external=True)),
                   canonical=url_for("site.category", lang=lang, name=name, _external=True))


def _home_alternates() -> list[dict[str, str]]:
    return _alternates(lambda code: _url(code, external=True))


def _popular(content: SiteContent, lang: str) -> list[Article]:
    """The articles customers reading `lang` opened most (site and widget alike)."""
    if current_app.extensions["kb_site_preview"]:
        return []
    query = (select(Event.article_id, func.count().label("opened"))
             .where(Event.type == "article_opened", Event.lang == lang,
                    Event.article_id.is_not(None))
             .group_by(Event.article_id).order_by(func.count().desc()).limit(4 * POPULAR_LIMIT))
    try:
        with services().database.session() as session:
            opened = [row.article_id for row in session.execute(query)]
    except DBAPIError as exc:
        current_app.logger.warning("most opened articles unavailable: %s", exc)
        return []
    shown: dict[str, Article] = {}
    for article_id in opened:
        article = content.shown(lang, article_id.rpartition("/")[2])
        if article is not None:
            shown.setdefault(article.slug, article)
    return list(shown.values())[:POPULAR_LIMIT]


def _shown_article(lang: str, slug: str) -> tuple[Any, Any]:
    """The site's content and the article a reader of `lang` gets at `slug`; 404 when there is
    none (an unknown language, a draft, a slug no language has)."""
    _known_language(lang)
    content = _content()
    shown = content.shown(lang, slug)
    if shown is None:
        raise NotFound()
    return content, shown


@bp.get("/<lang>/<slug>")
def article(lang: str, slug: str) -> ResponseReturnValue:
    content, shown = _shown_article(lang, slug)
    versions = content.versions(slug)
    _record("article_opened", lang, shown.id)
    alternates = _alternates(lambda code: _url(code, slug, external=True), versions)
    related = []
    if content.index is not None and shown.published:
        # Compared through the source-language versions where they exist: every model knows
        # that language, and the offline one knows only English.
        source = content.source_language
        compare_in = source if content.has_version(source, slug) else shown.lang
        for other in related_slugs(content.index, slug, compare_in, RELATED_LIMIT):
            nearby = content.shown(lang, other)
            if nearby is not None:
                related.append(nearby)
    headings = [h for h in shown.headings if h.level == 2] or shown.headings
    return _render(
        "article.html", lang, content, article=shown, fallback=shown.lang != lang,
        # Every article the reader can open has an address in their language (an English-only
        # one is shown there in English): links keep the reader on their language's site.
        html=localize_links(shown.html, lang,
                            lambda code, target: content.shown(code, target) is not None,
                            current_app.config["ARTICLE_URL"]),
        toc=shown.headings if len(headings) >= TOC_MIN_HEADINGS else [],
        updated=format_date(shown.updated, "long", locale=lang) if shown.updated else None,
        versions=versions, related=related, alternates=alternates,
        canonical=_url(shown.lang, slug, external=True),
        feedback=request.args.get("feedback") if request.args.get("feedback") in ("yes", "no")
        else None,
        token=_form_token("feedback", shown.id), problems=content.problems.get(shown.path, []))


@bp.post("/<lang>/<slug>/feedback")
@limiter.limit(write_limit)
def feedback(lang: str, slug: str) -> ResponseReturnValue:
    content, shown = _shown_article(lang, slug)
    answer = request.form.get("helpful", "")
    if answer not in ("yes", "no") or not _token_ok(request.form.get("token", ""), "feedback",
                                                     shown.id):
        return _render("message.html", lang, content, 400, title_key="form-expired",
                       back=_url(lang, slug))
    helpful = answer == "yes"
    if not current_app.extensions["kb_site_preview"]:
        services().database.insert(
            Feedback(article_id=shown.id, helpful=helpful, session_id=_session_id()))
    _record("helpful" if helpful else "not_helpful", lang, shown.id)
    if helpful:
        _record("deflected", lang, shown.id)
    return redirect(url_for("site.article", lang=lang, slug=slug, feedback=answer,
                            _anchor="feedback"), 303)


@bp.get("/<lang>/search")
@limiter.limit(search_limit)
def search(lang: str) -> ResponseReturnValue:
    _known_language(lang)
    content = _content()
    query = request.args.get("q", "")
    limit = current_app.config["MAX_QUERY_CHARS"]
    context: dict[str, Any] = {"query": query, "alternates": _search_alternates(),
                               "switch_links": _switch_links("site.search", q=query or None),
                               "canonical": url_for("site.search", lang=lang, _external=True)}
    if not query.strip():
        return _render("search.html", lang, content, response=None, **context)
    problem = None
    if len(query) > limit:
        problem = "too-long"
    elif "\x00" in query or any(ord(c) < 32 and c not in "\t\n\r" for c in query):
        problem = "not-text"
    if problem:
        return _render("search.html", lang, content, 400, response=None, problem=problem,
                       length=len(query), **context)
    if content.engine is None:
        return _render("search.html", lang, content, 503, response=None,
                       problem="unavailable", **context)
    response = content.engine.search(query, lang=lang, hints=[lang], limit=10)
    results = [{"result": r, "href": _url(response.lang if r.fallback else r.lang, r.slug)
                + (f"#{r.anchor}" if r.anchor else "")}
               for r in response.results if content.has_version(r.lang, r.slug)]
    _record("search", response.lang, query=query,
            **search_event_data(response, [r["result"] for r in results]))
    return _render("search.html", lang, content, response=response, results=results,
                   contact_token=_form_token("contact"), **context)


def _switch_links(endpoint: str, **values: Any) -> dict[str, str]:
    """The language switcher's link per language for a page that exists in every language (a
    topic, search, the contact form): the same page, with what the reader typed."""
    return {code: url_for(endpoint, lang=code, **values) for code in _languages()}


def _search_alternates() -> list[dict[str, str]]:
    return _alternates(lambda code: url_for("site.search", lang=code, _external=True))


@bp.route("/<lang>/contact", methods=["GET", "POST"])
@limiter.limit(write_limit, methods=["POST"])
def contact(lang: str) -> ResponseReturnValue:
    _known_language(lang)
    content = _content()
    context: dict[str, Any] = {"alternates": _contact_alternates(),
                               "switch_links": _switch_links("site.contact",
                                                             q=request.args.get("q") or None),
                               "canonical": url_for("site.contact", lang=lang, _external=True)}
    if request.method == "GET":
        return _render("contact.html", lang, content, form={"message": request.args.get("q", "")},
                       errors={}, contact_token=_form_token("contact"), **context)
    from kb.tickets_api import TicketSchema, store_ticket

    form = {name: request.form.get(name, "") for name in ("email", "subject", "message")}
    if not _token_ok(request.form.get("token", ""), "contact"):
        # What the customer wrote is shown again, so a stale form loses nothing.
        return _render("contact.html", lang, content, 400, form=form, errors={"token": True},
                       contact_token=_form_token("contact"), **context)
    try:
        data = TicketSchema().load({**form, "lang": lang, "session_id": _session_id(),
                                    "page_url": request.referrer,
                                    "website": request.form.get("website", "")})
    except ValidationError as exc:
        return _render("contact.html", lang, content, 400, form=form,
                       errors=dict.fromkeys(exc.messages, True),
                       contact_token=_form_token("contact"), **context)
    store_ticket(data)
    _record("ticket_sent", lang)
    return _render("message.html", lang, content, title_key="ticket-sent",
                   hours=current_app.config["SUPPORT_REPLY_HOURS"], back=_url(lang))


def _contact_alternates() -> list[dict[str, str]]:
    return _alternates(lambda code: url_for("site.contact", lang=code, _external=True))


@bp.get("/<path:anything>")
def not_found(anything: str) -> ResponseReturnValue:
    if anything in _languages():
        return redirect(_url(anything), 308)
    raise NotFound()


@bp.get("/_preview/stamp")
def preview_stamp() -> ResponseReturnValue:
    """What the preview page polls: changes when an article file is saved."""
    if not current_app.extensions["kb_site_preview"]:
        raise NotFound()
    content = _content()
    response = Response(content.version, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/site.css")
def stylesheet() -> ResponseReturnValue:
    css = (SITE_DIR / "static" / "site.css").read_text(encoding="utf-8")
    accent = current_app.config["SITE_ACCENT_COLOR"]
    # The accent colour is a setting; a stylesheet (never an inline style) carries it.
    response = Response(f":root{{--accent:{accent}}}\n{css}", mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/site.js")
def script() -> ResponseReturnValue:
    response = Response((SITE_DIR / "static" / "site.js").read_text(encoding="utf-8"),
                        mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.errorhandler(HTTPException)
def site_error(exc: HTTPException) -> ResponseReturnValue:
    """Errors on the site are pages in its style, in the reader's language, with search."""
    lang = request.view_args.get("lang") if request.view_args else None
    if lang not in _languages():
        lang = _reader_language()
    try:
        content: SiteContent | None = current_app.extensions["kb_site_content"]()
    except Exception:  # noqa: BLE001 - an error page must render even when content cannot load
        content = None
    status = exc.code or 500
    guess = ""
    if status == 404 and request.view_args:
        guess = str(request.view_args.get("slug") or request.view_args.get("anything") or "")
        guess = re.sub(r"[-_/]+", " ", guess).strip()[:100]
    # A customer stopped by a rate limit keeps what they typed (a search, or a message to
    # support), with the way to a person.
    query, typed = None, None
    if status == 429:
        query = request.args.get("q", "")
        typed = {name: request.form.get(name, "") for name in ("email", "subject", "message")} \
            if request.method == "POST" else {"message": query}
    response = _render("error.html", lang, content, status, error_status=status, guess=guess,
                       query=query, contact_form=typed)
    for name, value in (exc.get_headers() if status in (405, 429) else []):
        if name.lower() in ("retry-after", "allow"):
            response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(Exception)
def site_failure(exc: Exception) -> ResponseReturnValue:
    """An unexpected failure: logged with its trace, shown as the site's error page."""
    if isinstance(exc, HTTPException):
        return site_error(exc)
    if isinstance(exc, DBAPIError):
        current_app.logger.error("database error on a help-center page: %s", exc)
        return site_error(_Unavailable())
    current_app.logger.exception("unexpected error on a help-center page")
    return site_error(InternalServerError())


# --- For search engines ----------------------------------------------------------------------

def sitemap() -> ResponseReturnValue:
    """Every published version of every article, with its language alternates, and each home."""
    content = _content()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
             'xmlns:xhtml="http://www.w3.org/1999/xhtml">']

    def entry(loc: str, alternates: list[tuple[str, str]], lastmod: str | None) -> None:
        lines.append(f"<url><loc>{xml_escape(loc)}</loc>")
        if lastmod:
            lines.append(f"<lastmod>{lastmod}</lastmod>")
        for hreflang, href in alternates:
            lines.append(f'<xhtml:link rel="alternate" hreflang="{hreflang}" '
                         f'href="{xml_escape(href)}"/>')
        lines.append("</url>")

    homes = [(a["hreflang"], a["href"]) for a in _home_alternates()]
    for code in _languages():
        entry(_url(code, external=True), homes, None)
    for slug in content.slugs():
        versions = {k: v for k, v in content.versions(slug).items() if v.published}
        if not versions:
            continue
        alternates = [(a["hreflang"], a["href"]) for a in
                      _alternates(lambda code: _url(code, slug, external=True), versions)]
        for code, version in versions.items():
            entry(_url(code, slug, external=True), alternates,
                  version.updated.isoformat() if version.updated else None)
    lines.append("</urlset>")
    response = Response("\n".join(lines), mimetype="application/xml")
    return versioned(response, content.updated_at)


def robots() -> ResponseReturnValue:
    """Crawl the help center; stay out of the API and the dashboard."""
    text = ("User-agent: *\nAllow: /help/\nDisallow: /api/\nDisallow: /admin/\n"
            "Disallow: /demo\n" f"Sitemap: {url_for('sitemap', _external=True)}\n")
    return Response(text, mimetype="text/plain")
