"""The help center in a real headless Chromium, with the real offline model: a customer's walk
in every language with JavaScript on and off, keyboard use, and axe-core's accessibility rules.

Screenshots go to `test-output/`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from kb import create_app
from kb.models import Event, Feedback, Ticket
from kb.services import services
from tests.support.app import app_config, rows
from tests.support.articles import REPO
from tests.support.site import AXE, missing_tool, write_site_articles

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = REPO / "test-output"
# (a question a customer types, the article it should find) per language.
QUESTIONS = {"en": ("I forgot my password", "reset-password"),
             "sv": ("jag har glömt mitt lösenord", "reset-password"),
             "ru": ("забыла пароль", "reset-password")}
YES = {"en": "Yes", "sv": "Ja", "ru": "Да"}
THANKS = {"en": "Great, we are glad it helped.", "sv": "Vad bra, vi är glada att det hjälpte.",
          "ru": "Отлично, рады, что это помогло."}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The app with the real offline model over the sample help center and its drafts."""
    from kb.searcher import build_and_publish
    from kb.settings import load_settings
    from search.embedder import OFFLINE_MODEL

    tmp = tmp_path_factory.mktemp("site")
    root = write_site_articles(tmp / "articles")
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp / "instance"), "ARTICLES_DIR": str(root)})
    build_and_publish(settings)
    app = create_app(app_config(tmp, f"sqlite:///{tmp / 'kb.sqlite3'}", Path(settings["INDEX_DIR"]),
                                OFFLINE_MODEL, CACHE_DIR=settings["CACHE_DIR"],
                                ARTICLES_DIR=str(root)))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", app
    http.shutdown()
    services(app).database.dispose()


def open_page(browser, lang: str, javascript: bool = True):  # type: ignore[no-untyped-def]
    """A fresh browser tab in a visitor's language; console errors and CSP reports collected."""
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale=lang,
                                   java_script_enabled=javascript)
    if AXE.is_file():
        context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("response", lambda r: page.problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and "/search?" not in r.url else None)
    return page


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("lang", ["en", "sv", "ru"])
def test_home_category_article_switch_search_feedback(browser, server, lang: str,
                                                      javascript: bool) -> None:
    url, app = server
    page = open_page(browser, lang, javascript)
    page.goto(f"{url}/help/")
    assert page.url == f"{url}/help/{lang}/"
    assert page.locator("html").get_attribute("lang") == lang

    # Home -> category -> article.
    page.locator(".category h3 a").first.click()
    assert "/category/" in page.url
    page.locator(".cards a").first.click()
    assert re.search(rf"/help/{lang}/[a-z0-9-]+$", page.url)
    title = page.locator("article h1").inner_text()
    assert title

    # The language switcher lists only versions that exist, and each opens that version.
    other = next(code for code in ("en", "sv", "ru") if code != lang)
    switcher = page.locator(".languages a")
    assert set(switcher.evaluate_all("links => links.map(a => a.hreflang)")) <= {"en", "sv", "ru"}
    page.locator(f'.languages a[hreflang="{other}"]').click()
    assert page.url.startswith(f"{url}/help/{other}/")
    assert page.locator("html").get_attribute("lang") == other
    page.go_back()

    # Search from the header, open the answer.
    question, slug = QUESTIONS[lang]
    page.locator("#q").fill(question)
    page.locator("#q").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    first = page.locator(".results a").first
    assert slug in first.get_attribute("href")
    first.click()
    assert f"/help/{lang}/{slug}" in page.url

    # "Did this solve your problem?" -> yes, with or without JavaScript.
    session = page.context.cookies()[0]["value"]
    page.get_by_role("button", name=YES[lang], exact=True).click()
    page.wait_for_url(re.compile(r"feedback=yes"))
    assert THANKS[lang] in page.locator("#feedback").inner_text()
    assert [f.article_id for f in rows(app, Feedback, Feedback.session_id == session)] == \
        [f"{lang}/{slug}"]
    events = {e.type for e in rows(app, Event, Event.session_id == session)}
    assert {"article_opened", "search", "helpful", "deflected"} <= events
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"site-{lang}-{'js' if javascript else 'no-js'}.png"),
                    full_page=True)
    assert page.problems == []
    page.context.close()


def test_the_question_carried_over_wins_over_an_earlier_draft(browser, server) -> None:
    # The widget keeps a draft for a day; a second search that found nothing showed the first
    # search's question in the form instead of the new one.
    from playwright.sync_api import expect

    url, _app = server
    page = open_page(browser, "en")
    for question in ("what is the weather like in Paris tomorrow",
                     "who won the football world cup in 1998"):
        page.goto(f"{url}/help/en/search?q={question.replace(' ', '+')}")
        assert "Nothing in the help center matched your question." in page.inner_text("main")
        expect(page.locator("#kb-contact #kb-message")).to_have_value(question, timeout=10_000)
    page.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_nothing_matched_carries_the_question_to_the_contact_form(browser, server,
                                                                  javascript: bool) -> None:
    url, app = server
    page = open_page(browser, "en", javascript)
    question = "what is the weather like in Paris tomorrow"
    page.goto(f"{url}/help/en/search?q={question.replace(' ', '+')}")
    assert "Nothing in the help center matched your question." in page.inner_text("main")
    if javascript:
        # The widget replaced the plain form and got the question.
        from playwright.sync_api import expect

        expect(page.locator("#kb-contact #kb-message")).to_have_value(question, timeout=10_000)
        assert not page.locator(".contact-form").is_visible()
    else:
        assert page.locator("#contact-message").input_value() == question
        page.locator("#contact-email").fill("kim@example.com")
        page.locator("#contact-subject").fill("Weather")
        page.get_by_role("button", name="Send to support").click()
        assert "Your message has been sent" in page.inner_text("main")
        assert [t.message for t in rows(app, Ticket, Ticket.email == "kim@example.com")] == \
            [question]
    assert page.problems == []
    page.context.close()


def test_keyboard_alone_reaches_search_an_answer_and_feedback(browser, server) -> None:
    url, _app = server
    page = open_page(browser, "sv", javascript=False)
    page.goto(f"{url}/help/sv/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    # Following a link within the page is a navigation the browser may finish after the key
    # press returns: waited for, as the search below is (it fails if the link goes nowhere).
    page.wait_for_url(re.compile(r"/help/sv/#main$"))
    page.goto(f"{url}/help/sv/")
    for _ in range(10):  # skip link, brand, three languages, then the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused field has no visible focus ring"
    page.keyboard.type("glömt lösenord")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    page.locator(".results a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/help/sv/reset-password"))
    page.locator('button[value="yes"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"feedback=yes"))
    page.context.close()


@pytest.mark.parametrize("lang", ["en", "sv", "ru"])
def test_axe_finds_no_serious_violation(browser, server, lang: str) -> None:
    if not AXE.is_file():
        missing_tool(f"axe-core not found at {AXE}; run: npm install --prefix .test-tools "
                     "axe-core (.ci/run does)")
    url, _app = server
    page = open_page(browser, lang)
    question, _slug = QUESTIONS[lang]
    untranslated = "import-from-google-drive" if lang != "en" else "find-receipts"
    found = {}
    for path in (f"/help/{lang}/", f"/help/{lang}/reset-password", f"/help/{lang}/{untranslated}",
                 f"/help/{lang}/search?q={question}",
                 f"/help/{lang}/search?q=what+is+the+weather+like+in+Paris+tomorrow"):
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
        assert page.problems == [], path
        result = page.evaluate("""() => axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})""")
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if serious:
            found[path] = serious
        page.problems.clear()  # axe's own probes of inline styles meet the page's CSP
    assert found == {}
    page.context.close()
