"""The public help center's pages, forms and headers, through the Flask test client."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from kb.article_link import localize_links
from kb.models import Event, Feedback, Ticket
from kb.services import services
from tests.support.app import app_config, rows
from tests.support.site import DRAFT_SLUG, SHORT_SLUG

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"}
PAGE_BUDGET_BYTES = 30 * 1024


@pytest.fixture
def app(tmp_path: Path, site_index: tuple[Path, Path], fake_model: str) -> Flask:
    root, index = site_index
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", index,
                                fake_model, ARTICLES_DIR=str(root)))
    yield app
    services(app).database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = BROWSER["User-Agent"]
    return client


def page(client: FlaskClient, path: str, status: int = 200, **kwargs: object) -> str:
    response = client.get(path, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def alternates(html: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', html))


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html)[1]  # type: ignore[index]


# --- Languages and the home page -------------------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [("sv-SE,sv;q=0.9,en;q=0.5", "/help/sv/"),
                                                  ("ru", "/help/ru/"), ("de-DE", "/help/en/"),
                                                  (None, "/help/en/")])
def test_help_redirects_by_the_browsers_languages(client: FlaskClient, accept: str | None,
                                                  expected: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/help/", headers=headers)
    assert response.status_code == 302 and response.headers["Location"] == expected
    assert "Accept-Language" in response.headers["Vary"]


def test_home_lists_categories_in_the_readers_language(client: FlaskClient) -> None:
    html = page(client, "/help/sv/")
    assert '<html lang="sv">' in html
    assert "Hur kan vi hjälpa dig?" in html and "Ämnen" in html
    assert "Glömt ditt lösenord" in html or "lösenord" in html.lower()
    # An English-only article is listed in English, labelled, and marked as English text.
    assert re.search(r'<span lang="en">Use Driftbox on Linux with the command line</span></a> '
                     r'<span class="label">på engelska</span>', html)
    assert '/help/sv/category/account' in html
    assert DRAFT_SLUG not in html and "utkast" not in html


def test_home_shows_the_most_opened_articles_of_its_language_only(app: Flask,
                                                                   client: FlaskClient) -> None:
    with services(app).database.session() as session:
        for article_id, lang, times in (("sv/storage-full", "sv", 3), ("sv/share-files", "sv", 2),
                                        ("en/payment-failed", "ru", 1),
                                        ("en/delete-account", "en", 5)):
            session.add_all(Event(type="article_opened", lang=lang, article_id=article_id,
                                  session_id=f"s{i}") for i in range(times))
    popular = lambda html: re.findall(r'href="/help/\w+/([\w-]+)"',  # noqa: E731
                                      html.split('id="popular"')[1].split("</section>")[0])
    assert popular(page(client, "/help/sv/")) == ["storage-full", "share-files"]
    assert popular(page(client, "/help/ru/")) == ["payment-failed"]
    assert "Самые читаемые" in page(client, "/help/ru/")
    assert popular(page(client, "/help/en/")) == ["delete-account"]


def test_topics_are_named_in_the_readers_language(client: FlaskClient) -> None:
    # articles/<lang>/topics.yml, carried with the build the pages are served from.
    assert '/help/sv/category/account">Konto</a>' in page(client, "/help/sv/")
    html = page(client, "/help/ru/category/account")
    assert "<h1>Аккаунт</h1>" in html and "<title>Аккаунт" in html
    assert '/help/ru/category/sign-in">Вход</a>' in page(client, "/help/ru/sign-in-problems")
    assert '/help/en/category/sign-in">Sign in</a>' in page(client, "/help/en/")


def test_the_language_switcher_keeps_the_readers_place(client: FlaskClient) -> None:
    switcher = lambda html: re.findall(  # noqa: E731
        r'<a href="([^"]+)" hreflang="\w+"', html.split('class="languages"')[1].split("</nav>")[0])
    assert "/help/en/category/files" in switcher(page(client, "/help/sv/category/files"))
    assert "/help/ru/search?q=gl%C3%B6mt+l%C3%B6senord" in switcher(
        page(client, "/help/sv/search?q=glömt+lösenord"))
    assert "/help/en/contact?q=hej" in switcher(page(client, "/help/sv/contact?q=hej"))


def test_an_empty_search_says_what_to_do_and_where_a_person_is(client: FlaskClient) -> None:
    for query in ("", "+++"):
        html = page(client, f"/help/sv/search?q={query}")
        assert "Skriv din fråga i rutan ovan" in html and 'id="kb-contact"' in html


def test_category_page_lists_its_articles(client: FlaskClient) -> None:
    html = page(client, "/help/ru/category/account")
    assert "Сбросить пароль" in html or "reset-password" in html
    assert all(f"/help/ru/{slug}" in html for slug in ("reset-password", "delete-account"))
    assert alternates(html)["x-default"].endswith("/help/en/category/account")
    page(client, "/help/en/category/no-such-topic", 404)


# --- Articles --------------------------------------------------------------------------------

def test_article_page_has_everything_a_reader_and_a_crawler_need(client: FlaskClient) -> None:
    html = page(client, "/help/ru/reset-password")
    assert '<html lang="ru">' in html and "<article>" in html
    assert re.search(r"<title>[^<]*пароль[^<]* · Driftbox Help</title>", html, re.I)
    assert re.search(r'<meta name="description" content="[^"]{20,}">', html)
    assert alternates(html) == {
        "en": "http://localhost/help/en/reset-password",
        "sv": "http://localhost/help/sv/reset-password",
        "ru": "http://localhost/help/ru/reset-password",
        "x-default": "http://localhost/help/en/reset-password"}
    assert '<link rel="canonical" href="http://localhost/help/ru/reset-password">' in html
    assert 'class="toc"' in html and "На этой странице" in html
    assert re.search(r"Обновлено \d+ \w+ 20\d\d", html)  # the date in Russian, by Babel
    assert 'aria-label="Вы здесь"' in html and 'href="/help/ru/category/account"' in html
    assert "Похожие статьи" in html
    assert "Это решило вашу проблему?" in html and 'name="helpful" value="yes"' in html


def test_a_short_article_has_no_table_of_contents(client: FlaskClient) -> None:
    html = page(client, f"/help/en/{SHORT_SLUG}")
    assert "Older receipts" in html and 'class="toc"' not in html


def test_untranslated_article_is_served_at_its_languages_address(client: FlaskClient) -> None:
    html = page(client, "/help/sv/import-from-google-drive")
    assert '<html lang="sv">' in html and '<article lang="en">' in html
    assert "Den här artikeln finns inte på svenska än. Här är den på engelska." in html
    assert "Move your files from Google Drive" in html
    # Only versions that exist: the switcher and the alternates name English alone.
    switcher = html.split('class="languages"')[1].split("</nav>")[0]
    assert re.findall(r'hreflang="(\w+)"', switcher) == ["en"]
    assert set(alternates(html)) == {"en", "x-default"}
    assert '<link rel="canonical" href="http://localhost/help/en/import-from-google-drive">' in html


def test_links_inside_an_article_stay_in_the_readers_language(client: FlaskClient) -> None:
    html = page(client, "/help/sv/import-from-google-drive")
    assert re.search(r'<a href="/help/sv/storage-full"[^>]*>Storage full</a>', html)
    assert "/help/en/storage-full" not in html
    # A link to an article in English only stays on the reader's site too, where it is shown
    # in English under the reader's menus, as the home and topic pages link to it.
    html = page(client, "/help/sv/team-accounts")
    assert '<a href="/help/sv/import-from-google-drive"' in html
    assert "/help/en/import-from-google-drive" not in html
    # The English reader keeps the English target.
    assert re.search(r'<a href="/help/en/storage-full"',
                     page(client, "/help/en/import-from-google-drive"))


def test_the_articles_api_localizes_links_with_the_same_function(client: FlaskClient) -> None:
    article = client.get("/api/v1/articles/import-from-google-drive?lang=sv").get_json()
    assert article["fallback"] is True and article["lang"] == "en"
    assert 'href="/help/sv/storage-full"' in article["html"]
    assert 'data-kb-lang="sv"' in article["html"]


def test_localize_links_only_where_a_version_exists() -> None:
    html = ('<p><a href="/help/en/a#steps" data-kb-slug="a" data-kb-lang="en">A</a> '
            '<a href="/help/en/b" data-kb-slug="b" data-kb-lang="en">B</a> '
            '<a href="https://example.com/">out</a></p>')
    out = localize_links(html, "sv", lambda lang, slug: (lang, slug) == ("sv", "a"),
                         "/help/{lang}/{slug}")
    assert '<a href="/help/sv/a" data-kb-slug="a" data-kb-lang="sv">A</a>' in out
    assert '<a href="/help/en/b" data-kb-slug="b" data-kb-lang="en">B</a>' in out
    assert '<a href="https://example.com/">out</a>' in out


def test_drafts_are_never_public(client: FlaskClient) -> None:
    html = page(client, f"/help/en/{DRAFT_SLUG}", 404)
    assert "Page not found" in html
    # A draft translation: readers get the published English article, not the draft.
    html = page(client, "/help/sv/team-accounts")
    assert "Teamkonton (utkast)" not in html and '<article lang="en">' in html
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert DRAFT_SLUG not in sitemap and "/help/sv/team-accounts" not in sitemap


# --- Feedback and contact --------------------------------------------------------------------

def test_feedback_form_feeds_feedback_and_the_funnel(app: Flask, client: FlaskClient) -> None:
    html = page(client, "/help/sv/reset-password")
    response = client.post("/help/sv/reset-password/feedback",
                           data={"helpful": "yes", "token": token_of(html)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/help/sv/reset-password?feedback=yes#feedback"
    assert "Vad bra" in page(client, "/help/sv/reset-password?feedback=yes")
    [feedback] = rows(app, Feedback)
    assert (feedback.article_id, feedback.helpful) == ("sv/reset-password", True)
    events = rows(app, Event, Event.session_id == feedback.session_id)
    assert {e.type for e in events} == {"article_opened", "helpful", "deflected"}
    assert all(e.data == {"source": "site"} and e.lang == "sv" for e in events)


def test_not_helpful_offers_the_contact_form_with_the_question(client: FlaskClient,
                                                               app: Flask) -> None:
    html = page(client, "/help/en/storage-full")
    client.post("/help/en/storage-full/feedback", data={"helpful": "no", "token": token_of(html)})
    html = page(client, "/help/en/storage-full?feedback=no")
    assert 'href="/help/en/contact?q=' in html
    assert [f.helpful for f in rows(app, Feedback)] == [False]


@pytest.mark.parametrize("forgery", ["no token", "wrong token", "other article", "no cookie"])
def test_forged_feedback_is_rejected(app: Flask, client: FlaskClient, forgery: str) -> None:
    html = page(client, "/help/en/storage-full")
    token = {"no token": "", "wrong token": token_of(html)[:-3] + "abc",
             "other article": token_of(page(client, "/help/en/share-files"))}.get(
        forgery, token_of(html))
    if forgery == "no cookie":
        client.delete_cookie("kb_site_session", path="/help/")
    response = client.post("/help/en/storage-full/feedback",
                           data={"helpful": "yes", "token": token})
    assert response.status_code == 400 and "This form has expired" in response.get_data(True)
    assert rows(app, Feedback) == []


def test_contact_form_without_javascript_sends_a_ticket(app: Flask, client: FlaskClient) -> None:
    html = page(client, "/help/sv/contact?q=Kan+inte+logga+in")
    assert ">Kan inte logga in</textarea>" in html
    form = {"email": "anna@example.se", "subject": "Inloggning", "message": "Kan inte logga in",
            "token": token_of(html)}
    html = client.post("/help/sv/contact", data={**form, "email": "not-an-email"}).get_data(True)
    assert "Ange en giltig e-postadress." in html and "Kan inte logga in</textarea>" in html
    assert rows(app, Ticket) == []
    html = client.post("/help/sv/contact", data=form).get_data(True)
    assert "Ditt meddelande har skickats" in html
    [ticket] = rows(app, Ticket)
    assert (ticket.email, ticket.lang, ticket.message) == ("anna@example.se", "sv",
                                                           "Kan inte logga in")


def test_a_forged_contact_post_is_refused_and_keeps_the_text(app: Flask,
                                                              client: FlaskClient) -> None:
    page(client, "/help/en/contact")
    response = client.post("/help/en/contact", data={
        "email": "a@example.com", "subject": "Hi", "message": "My long message", "token": "x"})
    assert response.status_code == 400
    assert "My long message</textarea>" in response.get_data(True)
    assert rows(app, Ticket) == []


# --- Search ----------------------------------------------------------------------------------

def test_search_uses_the_engine_and_is_recorded_as_from_the_site(app: Flask,
                                                                 client: FlaskClient) -> None:
    html = page(client, "/help/sv/search?q=jag+har+glömt+mitt+lösenord")
    assert 'href="/help/sv/reset-password' in html
    assert 'value="jag har glömt mitt lösenord"' in html
    [event] = rows(app, Event, Event.type == "search")
    assert event.query == "jag har glömt mitt lösenord" and event.data["source"] == "site"
    assert "sv/reset-password" in event.data["results"]


def test_search_shows_the_repaired_question(client: FlaskClient) -> None:
    html = page(client, "/help/ru/search?q=zabyla+parol")
    assert "Показаны результаты для" in html and "<strong>забыла парол" in html


def test_search_labels_answers_in_another_language(client: FlaskClient) -> None:
    html = page(client, "/help/sv/search?q=hur+installerar+jag+kommando+i+linux+terminal")
    assert re.search(r'href="/help/sv/linux-command-line[^"]*"', html)
    assert 'class="label" lang="sv">på engelska<' in html


def test_nothing_matched_offers_the_contact_form_with_the_question(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from search.engine import SearchResponse

    # The fake model finds something for anything; the real model's abstention is walked in
    # tests/test_site_browser.py.
    engine = services(app).live_index.current().engine
    monkeypatch.setattr(engine, "search", lambda query, **_: SearchResponse(
        query=query, lang="en", lang_reason="text", results=[], abstained=True, took_ms=1.0))
    html = page(client, "/help/en/search?q=what+is+the+weather+like+in+Paris+tomorrow")
    assert "Nothing in the help center matched your question." in html
    assert ">what is the weather like in Paris tomorrow</textarea>" in html


@pytest.mark.parametrize("query", ["x" * 2000, "ok\x00bad", "\x01\x02\x03"])
def test_bad_questions_get_a_clear_message_not_an_error(client: FlaskClient, query: str) -> None:
    response = client.get("/help/en/search", query_string={"q": query})
    assert response.status_code == 400 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and ("2000 characters long" in html or "not text" in html)


def test_a_long_question_reaches_the_page_that_says_so(client: FlaskClient) -> None:
    # A search box with maxlength cut a pasted question at the limit without a word; the whole
    # question goes to the server, whose page says how long it is and keeps it for support.
    html = page(client, "/help/en/")
    box = re.search(r'<input id="q"[^>]*>', html).group(0)
    assert "maxlength" not in box
    response = client.get("/help/en/search", query_string={"q": "my files vanish " * 40})
    assert response.status_code == 400
    assert "my files vanish my files" in response.get_data(as_text=True).split("kb-contact")[1]


def test_a_customer_over_the_search_limit_keeps_the_question_and_the_way_to_a_person(
        tmp_path: Path, site_index: tuple[Path, Path], fake_model: str) -> None:
    root, index = site_index
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", index,
                                fake_model, ARTICLES_DIR=str(root), RATE_LIMIT_SEARCH="1/minute"))
    client = app.test_client()
    client.get("/help/en/search", query_string={"q": "my files are gone"})
    response = client.get("/help/en/search", query_string={"q": "my files are gone"})
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and "Too many requests" in html
    assert 'value="my files are gone"' in html  # the search box
    assert ">my files are gone</textarea>" in html  # the contact form
    services(app).database.dispose()


def test_a_message_over_the_write_limit_is_shown_again_not_lost(
        tmp_path: Path, site_index: tuple[Path, Path], fake_model: str) -> None:
    root, index = site_index
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", index,
                                fake_model, ARTICLES_DIR=str(root), RATE_LIMIT_WRITE="1/minute"))
    client = app.test_client()
    typed = {"email": "kim@example.com", "subject": "Sync", "message": "my files do not sync"}
    client.post("/help/en/contact", data=typed)
    response = client.post("/help/en/contact", data=typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert 'value="kim@example.com"' in html and 'value="Sync"' in html
    assert ">my files do not sync</textarea>" in html
    services(app).database.dispose()


def test_binary_query_string_is_a_page_in_the_sites_style(client: FlaskClient) -> None:
    response = client.get("/help/en/search?q=%FF%FE%00")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "We could not read this request" in response.get_data(as_text=True)


def test_bots_are_not_counted(app: Flask, client: FlaskClient) -> None:
    for agent in ("Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.0", ""):
        client.get("/help/en/reset-password", headers={"User-Agent": agent})
        client.get("/help/en/search?q=password", headers={"User-Agent": agent})
    assert rows(app, Event) == []
    client.get("/help/en/reset-password")
    assert [e.type for e in rows(app, Event)] == ["article_opened"]


# --- Not found, headers, budget --------------------------------------------------------------

@pytest.mark.parametrize("path", ["/help/xx/", "/help/de/reset-password", "/help/en/no-such-page",
                                  "/help/en/reset-password/extra", "/help/sv/category/x"])
def test_unknown_addresses_get_a_helpful_404_page(client: FlaskClient, path: str) -> None:
    html = page(client, path, 404)
    assert 'role="search"' in html and 'class="top"' in html
    assert 'href="/help/sv/"' in html and 'href="/help/ru/"' in html


def test_404_page_searches_the_words_of_the_address(client: FlaskClient) -> None:
    html = page(client, "/help/sv/reset-pasword", 404, headers={"Accept-Language": "sv"})
    assert "Sidan hittades inte" in html and 'value="reset pasword"' in html


def test_pages_are_strict_compressed_and_revalidated(client: FlaskClient) -> None:
    response = client.get("/help/en/reset-password", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(response.data).decode()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert not re.search(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son\w+=", html)
    assert response.headers["Last-Modified"] and response.headers["ETag"].startswith('W/"')
    again = client.get("/help/en/reset-password", headers={
        "Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_each_page_fits_the_size_budget(client: FlaskClient) -> None:
    css = gzip.compress(client.get("/help/site.css").data, 9)
    for path in ("/help/en/", "/help/ru/", "/help/ru/reset-password", "/help/sv/search?q=lösenord",
                 "/help/sv/import-from-google-drive"):
        html = gzip.compress(client.get(path).data, 9)
        assert len(html) + len(css) <= PAGE_BUDGET_BYTES, (path, len(html), len(css))


def test_pages_follow_a_new_build_without_restart(tmp_path: Path, fake_model: str,
                                                  site_index: tuple[Path, Path]) -> None:
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    root = tmp_path / "articles"
    shutil.copytree(site_index[0], root)
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp_path / "instance"), "MODEL": fake_model,
        "ARTICLES_DIR": str(root)})
    build_and_publish(settings)
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                                Path(settings["INDEX_DIR"]), fake_model, ARTICLES_DIR=str(root)))
    client = app.test_client()
    first = client.get("/help/en/storage-full")
    path = root / "en" / "storage-full.md"
    path.write_text(path.read_text().replace("title: ", "title: Renamed ", 1))
    build_and_publish(settings)
    import time

    deadline = time.monotonic() + 20
    while "Renamed " not in client.get("/help/en/storage-full").get_data(as_text=True):
        assert time.monotonic() < deadline, "the new build was not served"
        time.sleep(0.1)
    later = client.get("/help/en/storage-full", headers={"If-None-Match": first.headers["ETag"]})
    # The browser's copy of the old build is not confirmed as current.
    assert later.status_code == 200
    services(app).database.dispose()


def test_branding_comes_from_settings_and_templates_from_the_instance(
        tmp_path: Path, site_index: tuple[Path, Path], fake_model: str) -> None:
    override = tmp_path / "instance" / "templates" / "site"
    override.mkdir(parents=True)
    (override / "home.html").write_text('{% extends "site/base.html" %}'
                                        '{% block main %}<h1>Our own home</h1>{% endblock %}')
    app = create_app(app_config(
        tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", site_index[1], fake_model,
        ARTICLES_DIR=str(site_index[0]), SITE_NAME="Acme Support",
        SITE_LOGO_URL="/static/acme.svg", SITE_ACCENT_COLOR="#5a1e82"))
    client = app.test_client()
    html = page(client, "/help/en/")
    assert "<h1>Our own home</h1>" in html and "· Acme Support</title>" in html
    assert '<img src="/static/acme.svg" alt="" height="32"><span>Acme Support</span>' in html
    assert client.get("/help/site.css").get_data(as_text=True).startswith(
        ":root{--accent:#5a1e82}")
    services(app).database.dispose()


def test_a_bad_accent_colour_is_refused_with_the_setting_named() -> None:
    from kb.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="KB_SITE_ACCENT_COLOR"):
        load_settings(environ={"KB_SITE_ACCENT_COLOR": "red;}body{display:none"})


# --- For search engines ----------------------------------------------------------------------

def test_sitemap_lists_every_published_version_with_alternates(client: FlaskClient) -> None:
    xml = client.get("/sitemap.xml").get_data(as_text=True)
    locs = re.findall(r"<loc>([^<]+)</loc>", xml)
    assert "http://localhost/help/sv/reset-password" in locs
    assert "http://localhost/help/en/linux-command-line" in locs
    assert "http://localhost/help/sv/linux-command-line" not in locs  # not translated
    assert len([u for u in locs if not u.endswith("/")]) == 23 + 1 + 20 + 20  # en incl. short, sv, ru
    assert xml.count('hreflang="x-default"') == len(locs)


def test_robots_txt_points_at_the_sitemap(client: FlaskClient) -> None:
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in text and "Disallow: /api/" in text


# --- The writer's preview --------------------------------------------------------------------

def test_preview_shows_drafts_problems_and_the_saved_text(tmp_path: Path,
                                                          site_index: tuple[Path, Path],
                                                          fake_model: str) -> None:
    from kb.settings import load_settings
    from kb.site_content import WorkingFolder
    from search.check import CheckRules

    root = tmp_path / "articles"
    shutil.copytree(site_index[0], root)
    settings = load_settings(environ={}, overrides={"ARTICLES_DIR": str(root)})
    folder = WorkingFolder(settings, root, CheckRules(source_language="en"))
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", site_index[1],
                                fake_model, ARTICLES_DIR=str(root)),
                     site_content=lambda: folder.content())
    client = app.test_client()
    html = page(client, f"/help/en/{DRAFT_SLUG}")
    assert "Draft: customers cannot see this article." in html
    assert 'name="kb-preview"' in html
    stamp = client.get("/help/_preview/stamp").get_data(as_text=True)
    path = root / "en" / f"{DRAFT_SLUG}.md"
    path.write_text(path.read_text().replace("An unreleased feature", "Now renamed") +
                    "\nSee [nothing](no-such-article.md).\n")
    assert client.get("/help/_preview/stamp").get_data(as_text=True) != stamp
    html = page(client, f"/help/en/{DRAFT_SLUG}")
    assert "Now renamed" in html and "no-such-article" in html and 'class="problems"' in html
    assert rows(app, Event) == []  # the writer's visits are not customers'
    services(app).database.dispose()


def test_preview_stamp_is_not_served_outside_the_preview(client: FlaskClient) -> None:
    assert client.get("/help/_preview/stamp").status_code == 404


def test_kb_preview_serves_the_working_folder(tmp_path: Path,
                                               site_index: tuple[Path, Path]) -> None:
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    root = tmp_path / "articles"
    shutil.copytree(site_index[0], root)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["KB_INSTANCE_PATH"] = str(tmp_path / "instance")
    process = subprocess.Popen(
        [sys.executable, "-c", "from kb.cli import main; main()", "preview", str(root),
         "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/help/en/{DRAFT_SLUG}") as r:
                    html = r.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "kb preview did not start"
                time.sleep(0.2)
        assert "An unreleased feature" in html and "Draft: customers cannot see" in html
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_kb_preview_refuses_a_missing_folder(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kb.cli import main

    result = runner.invoke(main, ["preview", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no articles folder" in result.output


# --- UI text ---------------------------------------------------------------------------------

def test_site_template_matches_the_strings_in_the_templates(tmp_path: Path) -> None:
    import subprocess
    import sys

    from kb.catalog import SITE_DIR

    out = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(SITE_DIR / "babel.cfg"), "-k", "_", "--no-location", "--sort-output",
                    "-o", str(out), str(SITE_DIR)], check=True, capture_output=True)
    ids = lambda text: sorted(re.findall(r'^msgid "(.+)"$', text, re.M))  # noqa: E731
    assert ids(out.read_text()) == ids((SITE_DIR / "messages.pot").read_text()), \
        "run: kb translate update"


@pytest.mark.parametrize("lang", ["sv", "ru"])
def test_every_site_string_is_translated(lang: str) -> None:
    from babel.messages.pofile import read_po

    from kb.catalog import SITE_DIR, SITE_TRANSLATIONS, catalog_path

    with open(SITE_DIR / "messages.pot", "rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with open(catalog_path(lang, SITE_TRANSLATIONS), "rb") as handle:
        catalog = read_po(handle, locale=lang)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert wanted - translated == set(), f"translate these in kb/translations/{lang}"


# --- A crawler -------------------------------------------------------------------------------

def test_a_crawler_finds_no_dead_link_no_page_without_alternates_and_no_draft(
        client: FlaskClient) -> None:
    from urllib.parse import urldefrag, urlsplit

    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    queue = ["/help/"] + [urlsplit(u).path for u in re.findall(r"<loc>([^<]+)</loc>", sitemap)]
    seen: set[str] = set()
    problems: list[str] = []
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, follow_redirects=True)
        if response.status_code != 200:
            problems.append(f"{path}: {response.status_code}")
            continue
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        if not alternates(html) or "x-default" not in alternates(html):
            problems.append(f"{path}: no hreflang alternates")
        if DRAFT_SLUG in html or "Teamkonton (utkast)" in html:
            problems.append(f"{path}: shows a draft")
        for href in re.findall(r'(?:href|src)="([^"]+)"', html):
            link = urldefrag(href.replace("&amp;", "&"))[0]
            parts = urlsplit(link)
            if parts.netloc in ("", "localhost") and parts.path.startswith("/help/") and link:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert problems == []
    assert len([p for p in seen if p.count("/") == 3 and not p.endswith("/")]) >= 64


def test_too_many_searches_get_a_page_that_says_when_to_come_back(
        tmp_path: Path, site_index: tuple[Path, Path], fake_model: str) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", site_index[1],
                                fake_model, ARTICLES_DIR=str(site_index[0]),
                                RATE_LIMIT_SEARCH="2/minute"))
    client = app.test_client()
    for _ in range(2):
        assert client.get("/help/en/search?q=password").status_code == 200
    response = client.get("/help/en/search?q=password")
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert "Too many requests" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    services(app).database.dispose()


def test_related_articles_are_the_nearest_in_the_index(site_index: tuple[Path, Path],
                                                       client: FlaskClient) -> None:
    from search.index import SearchIndex
    from search.related import related_slugs

    index = SearchIndex.load(site_index[1])
    related = related_slugs(index, "reset-password", "en", 3)
    assert len(related) == 3 and "reset-password" not in related
    assert "password-case-sensitive" in related  # the fake model's "password" concept
    assert related_slugs(index, DRAFT_SLUG, "en") == []  # drafts are not in the index
    html = page(client, "/help/ru/reset-password").split('class="related"')[1].split("</section>")[0]
    assert re.findall(r'href="/help/ru/([\w-]+)"', html) == related
