"""The widget in a real headless Chromium, against the running app with the sample help center.

Screenshots go to `test-output/` so a person can look at each language.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from kb.models import Event, Feedback, Ticket
from kb.services import services
from tests.support.app import rows
from tests.support.articles import SAMPLE_ARTICLES
from tests.support.browser import OUTPUT, ask, served_app, wait_for_chart
from tests.support.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The app with the real offline model and the sample help center, on a loopback port."""
    with served_app(tmp_path_factory.mktemp("widget"), SAMPLE_ARTICLES) as served:
        yield served


@pytest.fixture
def page(browser, server):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 900, "height": 1000}, locale="en-US")
    page = context.new_page()
    page.problems = []  # console errors and CSP violations seen while the test ran
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)




@pytest.mark.parametrize(("lang", "subject", "message", "slug", "yes"), [
    ("sv", "Glömt lösenord", "Jag har glömt mitt lösenord och kan inte logga in", "reset-password",
     "Ja, problemet är löst"),
    ("ru", "Забыла пароль", "Не могу войти, забыла пароль от аккаунта", "reset-password",
     "Да, проблема решена"),
])
def test_question_suggestion_article_and_deflection(page, server, lang: str, subject: str,
                                                    message: str, slug: str, yes: str) -> None:
    url, app = server
    page.goto(f"{url}/demo/{lang}")
    ask(page, subject, message)
    titles = page.locator(".kb-suggestion strong").all_inner_texts()
    article_ids = [f"{lang}/{slug}"]
    expected_title = {"sv": "Återställ ditt lösenord", "ru": "Как сбросить пароль"}[lang]
    assert expected_title in titles, titles
    screenshot(page, f"widget-{lang}-suggestions")
    page.locator(".kb-suggestion", has_text=expected_title).click()
    page.locator("#kb-article-title").wait_for()
    assert page.locator("#kb-article-title").inner_text() == expected_title
    screenshot(page, f"widget-{lang}-article")
    page.get_by_role("button", name=yes).click()
    page.locator(".kb-done").wait_for()
    assert eventually(lambda: rows(app, Event, Event.type == "deflected",
                                   Event.article_id.in_(article_ids))), "deflection not recorded"
    assert eventually(lambda: rows(app, Feedback, Feedback.article_id == article_ids[0],
                                   Feedback.helpful.is_(True)))
    assert page.problems == []


def test_ticket_is_stored_with_its_suggestions(page, server) -> None:
    url, app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").fill("pat@example.com")
    ask(page, "Refund please", "I paid for a yearly plan by mistake and want my money back")
    first = page.locator(".kb-suggestion").first
    first.click()
    page.locator("#kb-article-title").wait_for()
    opened_title = page.locator("#kb-article-title").inner_text()
    page.get_by_role("button", name="No, I still need help").click()
    page.get_by_role("button", name="Send to support").click()
    page.get_by_text("We will answer within 24 hours.").wait_for()
    screenshot(page, "widget-en-ticket-sent")
    ticket = rows(app, Ticket, Ticket.email == "pat@example.com")[0]
    assert ticket.subject == "Refund please"
    assert ticket.suggestions_shown and ticket.suggestions_opened
    assert set(ticket.suggestions_opened) <= set(ticket.suggestions_shown)
    assert any(opened_title for _ in ticket.suggestions_opened)
    # The draft is gone once the ticket is safely stored.
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kb-draft'))"
                         ".map(k => localStorage.getItem(k))") == []


def test_draft_survives_a_reload(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/sv")
    page.locator("#kb-email").fill("eva@example.se")
    page.locator("#kb-message").fill("Appen startar inte på min Mac")
    page.reload()
    page.locator("#kb-message").wait_for()
    assert page.locator("#kb-message").input_value() == "Appen startar inte på min Mac"
    assert page.locator("#kb-email").input_value() == "eva@example.se"


def test_failed_submit_keeps_the_draft_and_says_so(page, server) -> None:
    url, app = server
    page.goto(f"{url}/demo/en")
    page.route("**/api/v1/tickets", lambda route: route.abort())
    page.locator("#kb-email").fill("offline@example.com")
    page.locator("#kb-subject").fill("Offline")
    page.locator("#kb-message").fill("My sync is stuck")
    page.get_by_role("button", name="Send to support").click()
    page.get_by_text("It is saved on this device").wait_for()
    assert page.locator("#kb-message").input_value() == "My sync is stuck"
    saved = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kb-draft'))"
                          ".map(k => JSON.parse(localStorage.getItem(k)).message)")
    assert saved == ["My sync is stuck"]
    assert rows(app, Ticket, Ticket.email == "offline@example.com") == []


def test_database_outage_keeps_the_draft_and_sends_it_later(  # type: ignore[no-untyped-def]
        page, server, monkeypatch) -> None:
    from contextlib import contextmanager

    from sqlalchemy.exc import OperationalError

    url, app = server

    @contextmanager
    def database_down():  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("connection refused"))
        yield

    page.clock.install()  # the widget retries after 30 s; the test moves the clock instead
    page.goto(f"{url}/demo/en")
    monkeypatch.setattr(services(app).database, "session", database_down)
    page.locator("#kb-email").fill("outage@example.com")
    page.locator("#kb-subject").fill("Database down")
    page.locator("#kb-message").fill("My invoice is wrong")
    with page.expect_response("**/api/v1/tickets") as answer:
        page.get_by_role("button", name="Send to support").click()
    assert answer.value.status == 503
    assert answer.value.json()["error"]["code"] == "database_unavailable"
    page.get_by_text("It is saved on this device").wait_for()
    assert page.locator("#kb-message").input_value() == "My invoice is wrong"
    saved = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kb-draft'))"
                          ".map(k => JSON.parse(localStorage.getItem(k)).message)")
    assert saved == ["My invoice is wrong"]

    monkeypatch.undo()  # the database is back
    with page.expect_response("**/api/v1/tickets") as answer:
        page.clock.run_for(31_000)
    assert answer.value.status == 201
    page.get_by_text("Thank you! Your message has been sent.").wait_for()
    # Stored once: the answer 503 stored nothing, the retry stored the draft.
    stored = rows(app, Ticket, Ticket.email == "outage@example.com")
    assert [t.message for t in stored] == ["My invoice is wrong"]
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kb-draft'))") == []


def test_strict_csp_page_and_isolated_styles(page, server) -> None:
    url, _app = server
    response = page.goto(f"{url}/demo/en")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    page.locator("#kb-subject").wait_for()
    # The host page styles buttons hot pink at 30px; inside the shadow root they stay ours.
    size = page.locator(".kb-form .kb-primary").evaluate("b => getComputedStyle(b).fontSize")
    assert size == "16px"
    assert not [p for p in page.problems if "Content Security Policy" in p or "Refused" in p]


def test_keyboard_only_use(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").focus()
    page.keyboard.type("kim@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type("Password")
    page.keyboard.press("Tab")
    page.keyboard.type("I forgot my password and cannot sign in")
    page.locator(".kb-suggestion").first.wait_for(timeout=15_000)
    assert "suggested answer" in page.locator(".kb-live").inner_text()
    page.locator(".kb-suggestion").first.focus()
    page.keyboard.press("Enter")
    page.locator("#kb-article-title").wait_for()
    active = "document.querySelector('.kb-host').shadowRoot.activeElement"
    assert page.evaluate(f"{active}.id") == "kb-article-title"
    page.keyboard.press("Escape")
    assert page.evaluate(f"{active}.className") == "kb-suggestion"
    assert page.locator(".kb-form").is_visible()


def test_api_text_is_inserted_as_text(page, server) -> None:
    url, _app = server
    evil = '{"results": [{"id": "en/x", "slug": "x", "lang": "en", "fallback": false, ' \
           '"title": "<img src=x onerror=window.pwned=1>", "summary": "<b>bold</b>"}]}'
    page.route("**/api/v1/search?**", lambda route: route.fulfill(
        status=200, content_type="application/json", body=evil))
    page.goto(f"{url}/demo/en")
    ask(page, "anything", "anything at all")
    assert page.locator(".kb-suggestion strong").inner_text() == "<img src=x onerror=window.pwned=1>"
    assert page.locator(".kb-suggestion img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_wrong_config_gives_a_clear_console_error(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-subject").wait_for()
    page.evaluate("DriftboxHelp.init({})")
    page.evaluate("DriftboxHelp.init({endpoint: location.origin, container: '#nowhere'})")
    joined = " ".join(page.problems)
    assert "missing endpoint" in joined and "container not found" in joined


def test_js_api_set_locale_close_open_destroy(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-message").fill("kept across the switch")
    assert page.locator(".kb-title").inner_text() == "Contact support"
    page.evaluate("DriftboxHelp.instance.setLocale('ru')")
    page.get_by_text("Написать в поддержку").wait_for()
    assert page.locator("#kb-message").input_value() == "kept across the switch"
    page.evaluate("DriftboxHelp.instance.close()")
    assert not page.locator(".kb-title").is_visible()
    page.evaluate("DriftboxHelp.instance.open()")
    assert page.locator(".kb-title").is_visible()
    page.evaluate("DriftboxHelp.instance.destroy()")
    assert page.locator(".kb-host").count() == 0


def test_dashboard_renders_charts_after_login(page, server) -> None:
    from kb.report import funnel
    from tests.support.report_data import seed

    url, app = server
    # Sessions the widget recorded earlier in this module (real browser use) are counted, once
    # the events still queued are written.
    services(app).event_log.flush()
    with services(app).database.session() as session:
        widget_sessions = sum(row.sessions for row in funnel(session))
    assert widget_sessions >= 5
    seed(services(app).database)
    page.goto(f"{url}/admin/dashboard")
    page.locator("#token").fill("s3cret-token")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#funnel").wait_for()
    assert wait_for_chart(page, "rate-chart")
    assert page.evaluate("Chart.getChart(document.getElementById('funnel-chart')).data"
                         ".datasets[0].data.length") == 7
    screenshot(page, "dashboard")
    total_all = page.locator("#funnel tr.total", has_text="all").locator("td").nth(2)
    assert int(total_all.inner_text()) == widget_sessions + 5  # + the seeded sessions
    assert page.problems == []


def test_answer_in_another_language_is_labelled(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/sv")
    ask(page, "Linux", "hur använder jag driftbox i linux terminalen")
    fallback = page.locator(".kb-suggestion", has_text="Use Driftbox on Linux")
    assert fallback.locator(".kb-label").inner_text() == "På engelska"
    fallback.click()
    page.locator("#kb-article-title").wait_for()
    assert page.locator(".kb-article .kb-label").inner_text() == "Det här svaret är på engelska."
    screenshot(page, "widget-sv-fallback")


def test_a_link_in_an_answer_in_another_language_leads_on_in_the_customer_s(page, server
                                                                           ) -> None:
    # The Google Drive article exists in English only; the article it links to has a Russian
    # version, which a Russian page's reader gets, as on the help-center pages.
    url, _app = server
    page.goto(f"{url}/demo/ru")
    ask(page, "Google Drive", "как перенести файлы из гугл диска")
    page.locator(".kb-suggestion", has_text="Move your files from Google Drive").click()
    page.locator("#kb-article-title").wait_for()
    page.locator(".kb-article a[data-kb-slug='storage-full']").click()
    from playwright.sync_api import expect

    expect(page.locator("#kb-article-title")).to_have_text("Хранилище заполнено",
                                                           timeout=10_000)


def test_repaired_question_says_what_was_searched(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    # «забыла пароль» / «не могу войти» typed with the keyboard layout left on English.
    ask(page, "pf,skf gfhjkm", "yt vjue djqnb")
    repaired = page.locator(".kb-repaired")
    repaired.wait_for()
    assert repaired.inner_text() == "Showing results for: забыла пароль не могу войти"
    assert "Как сбросить пароль" in page.locator(".kb-suggestion strong").all_inner_texts()
    screenshot(page, "widget-repaired-layout")
    # Typed properly, nothing was repaired: the line goes away.
    page.locator("#kb-subject").fill("Forgot password")
    page.locator("#kb-message").fill("I cannot sign in")
    repaired.wait_for(state="hidden")
    assert page.problems == []


# --- Honest deflection: one visitor and one session across reloads, and a draft that goes ------

def test_a_reload_mid_draft_keeps_the_session_and_the_opened_articles(page, server) -> None:
    url, app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").fill("reload@example.com")
    ask(page, "Forgot password", "I forgot my password and cannot sign in")
    page.locator(".kb-suggestion").first.click()
    page.locator("#kb-article-title").wait_for()
    page.get_by_role("button", name="Back to the form").click()
    session = page.evaluate("Object.keys(sessionStorage).filter(k => k.startsWith('kb-session'))"
                            ".map(k => JSON.parse(sessionStorage.getItem(k)))")[0]
    assert session["opened"], "the opened article is remembered for this session"
    page.reload()
    page.locator("#kb-message").wait_for()
    assert page.locator("#kb-message").input_value() == "I forgot my password and cannot sign in"
    page.get_by_role("button", name="Send to support").click()
    page.get_by_text("We will answer within 24 hours.").wait_for()
    [ticket] = rows(app, Ticket, Ticket.email == "reload@example.com")
    assert ticket.session_id == session["id"]
    assert ticket.suggestions_opened == session["opened"]
    opened_before = rows(app, Event, Event.type == "article_opened",
                         Event.session_id == session["id"])
    assert opened_before and opened_before[0].visitor_id == ticket.visitor_id
    assert ticket.visitor_id


def test_a_ticket_within_the_window_cancels_the_pending_deflection(page, server) -> None:
    from kb.deflection import classify

    url, app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").fill("later@example.com")
    ask(page, "Forgot password", "I forgot my password and cannot sign in")
    page.locator(".kb-suggestion").first.click()
    page.locator("#kb-article-title").wait_for()
    page.get_by_role("button", name="Yes, problem solved").click()
    page.locator(".kb-done").wait_for()
    first_session = page.evaluate(
        "JSON.parse(sessionStorage.getItem(Object.keys(sessionStorage)"
        ".find(k => k.startsWith('kb-session')))).id")

    def state() -> str | None:
        with services(app).database.session() as session:
            found = classify(session, select(Event.session_id).where(
                Event.session_id == first_session), 7)
        return found[first_session].state if first_session in found else None

    assert eventually(lambda: state() == "pending"), state()
    # The next day, in a new tab: a new session, the same visitor, a ticket after all.
    second = page.context.new_page()
    second.goto(f"{url}/demo/en")
    second.locator("#kb-email").fill("someone-else@example.com")
    second.locator("#kb-subject").fill("Still locked out")
    second.locator("#kb-message").fill("The reset link did not work after all")
    second.get_by_role("button", name="Send to support").click()
    second.get_by_text("We will answer within 24 hours.").wait_for()
    [ticket] = rows(app, Ticket, Ticket.email == "someone-else@example.com")
    assert ticket.session_id != first_session
    assert state() == "cancelled"


def test_the_draft_is_gone_after_yes_and_a_shared_computer_starts_empty(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").fill("private@example.com")
    ask(page, "Forgot password", "My private message about my password")
    page.locator(".kb-suggestion").first.click()
    page.locator("#kb-article-title").wait_for()
    drafts = "Object.keys(localStorage).filter(k => k.startsWith('kb-draft'))"
    assert len(page.evaluate(drafts)) == 1
    page.get_by_role("button", name="Yes, problem solved").click()
    page.locator(".kb-done").wait_for()
    assert page.evaluate(drafts) == []
    # The next person at this computer opens the contact page: nothing of the first is there.
    following = page.context.new_page()
    following.goto(f"{url}/demo/en")
    following.locator("#kb-message").wait_for()
    assert following.locator("#kb-email").input_value() == ""
    assert following.locator("#kb-message").input_value() == ""


def test_a_draft_older_than_a_day_is_not_shown(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").fill("yesterday@example.com")
    page.locator("#kb-message").fill("Typed and forgotten")
    page.evaluate("""() => {
        const key = Object.keys(localStorage).find(k => k.startsWith('kb-draft'));
        const draft = JSON.parse(localStorage.getItem(key));
        draft.savedAt = Date.now() - 25 * 3600 * 1000;
        localStorage.setItem(key, JSON.stringify(draft));
    }""")
    following = page.context.new_page()
    following.goto(f"{url}/demo/en")
    following.locator("#kb-message").wait_for()
    assert following.locator("#kb-message").input_value() == ""
    assert following.locator("#kb-email").input_value() == ""
    assert following.evaluate("Object.keys(localStorage).filter(k => k.startsWith('kb-draft'))"
                              ) == []


# --- defects found by a hostile walk ---------------------------------------------------------

def test_feedback_is_never_cut_inside_an_emoji(page, server) -> None:
    url, app = server
    page.goto(f"{url}/demo/en")
    subject = "Forgot password"
    # The feedback query is the first 500 UTF-16 units of subject and message: put an emoji
    # (two units) across that border.
    filler = ("I forgot my password and cannot sign in " * 20)[:499 - len(subject) - 1]
    ask(page, subject, filler + "\U0001F600 please help, I forgot my password")
    page.locator(".kb-suggestion").first.click()
    page.locator("#kb-article-title").wait_for()
    page.get_by_role("button", name="Yes, problem solved").click()
    # Other tests in this module said "Yes" to short questions: this one's starts with the filler.
    stored = eventually(lambda: rows(app, Feedback,
                                     Feedback.query.like(f"{subject} {filler[:100]}%")))
    assert stored, "the feedback was refused"
    assert stored[0].query == f"{subject} {filler}"  # cut before the emoji, not inside it


def test_answer_language_is_on_its_text_and_the_label_in_the_customers(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/sv")
    ask(page, "Linux", "hur använder jag driftbox i linux terminalen")
    fallback = page.locator(".kb-suggestion", has_text="Use Driftbox on Linux")
    assert fallback.get_attribute("lang") is None  # the label inside is Swedish
    assert fallback.locator("strong").get_attribute("lang") == "en"
    assert fallback.locator(".kb-summary").get_attribute("lang") == "en"
    label_lang = "el => el.closest('[lang]').getAttribute('lang')"
    assert fallback.locator(".kb-label").evaluate(label_lang) == "sv"
    fallback.click()
    page.locator("#kb-article-title").wait_for()
    assert page.locator("#kb-article-title").get_attribute("lang") == "en"
    assert page.locator(".kb-body").get_attribute("lang") == "en"
    assert page.locator(".kb-article .kb-label").evaluate(label_lang) == "sv"


CONTRAST = """([fg, bg]) => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const lum = c => { const [r, g, b] = rgb(c); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_focus_ring_contrast_is_at_least_3_to_1(page, server, theme: str) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").wait_for()
    page.evaluate(f"document.querySelector('.kb-host').setAttribute('data-theme', '{theme}')")
    page.locator("#kb-email").focus()
    page.keyboard.press("Tab")  # keyboard focus, so :focus-visible applies
    colors = page.evaluate("""() => {
      const root = document.querySelector('.kb-host').shadowRoot;
      const focused = root.activeElement;
      return [getComputedStyle(focused).outlineColor,
              getComputedStyle(root.querySelector('.kb')).backgroundColor,
              getComputedStyle(focused).outlineStyle];
    }""")
    assert colors[2] != "none"
    assert page.evaluate(CONTRAST, colors[:2]) >= 3.0, colors


def test_every_invalid_field_is_described(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    page.locator("#kb-email").fill("not an email")
    page.get_by_role("button", name="Send to support").click()
    for field, message in [("#kb-email", "Please enter a valid email address."),
                           ("#kb-subject", "Please fill in the subject and the message."),
                           ("#kb-message", "Please fill in the subject and the message.")]:
        described_by = page.locator(field).get_attribute("aria-describedby")
        assert described_by, f"{field} has no aria-describedby"
        assert page.locator(f"#{described_by}").inner_text() == message
        assert page.locator(field).get_attribute("aria-invalid") == "true"
    page.locator("#kb-email").fill("kim@example.com")
    page.get_by_role("button", name="Send to support").click()
    assert page.locator("#kb-email").get_attribute("aria-describedby") is None
    assert page.locator("#kb-email").get_attribute("aria-invalid") == "false"


HEADING_LEVELS = """() => {
  const levels = [];
  const walk = node => {
    for (const child of node.children) {
      if (child.shadowRoot) walk(child.shadowRoot);
      const visible = child.checkVisibility ? child.checkVisibility() : true;
      if (/^H[1-6]$/.test(child.tagName) && visible) levels.push(Number(child.tagName[1]));
      walk(child);
    }
  };
  walk(document.body);
  return levels;
}"""


def test_an_opened_article_keeps_the_heading_order(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    ask(page, "Forgot password", "I forgot my password and cannot sign in")
    page.locator(".kb-suggestion").first.click()
    page.locator("#kb-article-title").wait_for()
    levels = page.evaluate(HEADING_LEVELS)
    assert levels[:2] == [1, 2] and len(levels) > 2, levels  # page h1, article title h2
    jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert jumps == [], levels


def test_a_page_origin_missing_from_cors_is_reported_and_the_customer_is_told(
        page, server) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    url, app = server
    html = (f'<!doctype html><html lang="en"><body><h1>Contact</h1><div id="support"></div>'
            f'<script src="{url}/widget/kb-widget.js" data-endpoint="{url}" '
            f'data-container="#support"></script></body></html>').encode()

    class ContactPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            pass

    # A customer's site on another origin, not in KB_CORS_ORIGINS (on loopback, as the help
    # server is, so the browser lets the page load the widget at all).
    site = ThreadingHTTPServer(("127.0.0.1", 0), ContactPage)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    shop = f"http://127.0.0.1:{site.server_port}"
    try:
        page.goto(f"{shop}/contact")
        page.locator("#kb-subject").fill("Forgot password")
        page.locator("#kb-message").fill("I forgot my password and cannot sign in")
        for _ in range(100):  # console messages arrive while Playwright is waiting
            if any(f"KB_CORS_ORIGINS={shop}" in problem for problem in page.problems):
                break
            page.wait_for_timeout(100)
        assert any(f"KB_CORS_ORIGINS={shop}" in problem for problem in page.problems), \
            page.problems
        page.locator("#kb-email").fill("cors@example.com")
        page.get_by_role("button", name="Send to support").click()
        page.get_by_text("This page cannot reach our support system").wait_for()
        assert page.locator("#kb-message").input_value()  # kept, and saved on the device
        assert rows(app, Ticket, Ticket.email == "cors@example.com") == []
    finally:
        site.shutdown()


def test_dashboard_draws_a_single_week_as_bars_and_totals_last(page, server) -> None:
    import datetime as dt

    url, app = server
    day = dt.datetime(2026, 10, 6, 10, tzinfo=dt.timezone.utc)  # a week nothing else uses
    with services(app).database.session() as session:
        for sid, lang in (("week-sv", "sv"), ("week-en", "en")):
            session.add_all([Event(session_id=sid, type="widget_opened", lang=lang, created_at=day),
                             Event(session_id=sid, type="deflected", lang=lang, created_at=day,
                                   article_id=f"{lang}/reset-password")])
    page.goto(f"{url}/admin/login")
    page.locator("#token").fill("s3cret-token")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#funnel").wait_for()
    page.goto(f"{url}/admin/dashboard?period=week&from=2026-10-05&to=2026-10-11")
    assert wait_for_chart(page, "rate-chart")
    chart = "Chart.getChart(document.getElementById('rate-chart'))"
    assert page.evaluate(f"{chart}.config.type") == "bar"
    assert page.evaluate(f"{chart}.data.labels") == ["2026-W41"]
    languages = page.locator("#funnel tr.total td:nth-child(2)").all_inner_texts()
    assert languages == ["en", "sv", "all"]
    assert page.problems == []
