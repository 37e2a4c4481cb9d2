"""Script injection, tried in a real headless Chromium: through article markdown and front matter,
through what customers type (queries, tickets, feedback, events), into the widget and the
support team's dashboard.

Every payload, if it ran, would set `window.__xss` or open a dialog. The pages are loaded with
their Content-Security-Policy switched off, so what is tested is the escaping and sanitizing
itself, not the policy that would hide a mistake on a strict page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kb.services import services
from tests.support.browser import ask, served_app, wait_for_chart

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = ("Reset your password <script>window.__xss='title'</script>"
         "<img src=x onerror=\"alert('title')\">")
SUMMARY = "Forgot your password? <img src=x onerror=\"window.__xss='summary'\"> Ask for a new one."
BODY = """\
Use this when you forgot your password. <img src=x onerror="window.__xss='inline-img'">

```
<img src=x onerror=window.__xss='snippet'> Now reset the password.
```

<script>window.__xss='script-block'</script>

<div onmouseover="window.__xss='div'">Move the mouse here.</div>

<svg onload="window.__xss='svg'"><script>window.__xss='svg-script'</script></svg>

<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>

<details open ontoggle="window.__xss='details'"><summary>More</summary>Text.</details>

<math><mtext><table><mglyph><style><img src=x onerror="window.__xss='mxss'"></style></mglyph></table></mtext></math>

<form action="javascript:window.__xss='form'"><button>Send</button></form>

<object data="javascript:window.__xss='object'"></object><embed src="javascript:alert('embed')">

<input autofocus onfocus="window.__xss='input'"><base href="javascript:alert('base')//">

## Steps <img src=x onerror="window.__xss='heading'">

1. Click [the link](javascript:window.__xss='md-link') or [this one](JaVaScRiPt:alert('md-case')).
2. See ![a picture](javascript:window.__xss='md-image') and <a href="jav&#x09;ascript:alert('tab')">this</a>.
3. Also <a href="data:text/html,<script>alert('data')</script>">data</a> and [a reference][evil].
4. A [titled link](https://example.com "x\\" onmouseover=\\"window.__xss='title-attr'").
5. Type `<script>alert('code')</script>` in the box.

[evil]: javascript:window.__xss='reference'
"""
TYPED = "<img src=x onerror=\"window.__xss='typed'\"> I forgot my password"
GAP = "<svg onload=\"alert('gap')\"></svg></script><script>window.__xss='gap'</script> wxqz"
ARTICLE_ID = "en/<img src=x onerror=\"window.__xss='article-id'\">"

# Run in the page: every element of a subtree whose tag, event handler or URL could run script.
DANGEROUS = """root => Array.from(root.querySelectorAll('*')).flatMap(el => {
  const found = [];
  if (/^(SCRIPT|IFRAME|OBJECT|EMBED|SVG|MATH|FORM|INPUT|BASE|META|STYLE|LINK)$/i.test(el.tagName))
    found.push(el.tagName);
  for (const attr of el.attributes) {
    if (/^on/i.test(attr.name)) found.push(el.tagName + ' ' + attr.name);
    if (/^(href|src|action|data|formaction|srcdoc)$/i.test(attr.name)
        && !/^(https?:|mailto:|\\/|#|[\\w-]+$)/i.test(attr.value.trim()))
      found.push(el.tagName + ' ' + attr.name + '=' + attr.value);
  }
  return found;
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """The app with one hostile article, on a loopback port."""
    tmp = tmp_path_factory.mktemp("xss")
    articles = tmp / "articles"
    for lang in ("en", "sv", "ru"):
        (articles / lang).mkdir(parents=True)
    (articles / "en" / "reset-password.md").write_text(
        f"---\ntitle: {json.dumps(TITLE)}\nsummary: {json.dumps(SUMMARY)}\n---\n\n{BODY}",
        encoding="utf-8")
    with served_app(tmp, articles) as served:
        yield served


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(bypass_csp=True, viewport={"width": 900, "height": 1000},
                                  locale="en-US")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def assert_nothing_ran(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(300)  # let onerror/onload handlers of broken images fire, if any
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("parent.__xss") is None
    assert page.dialogs == []


def widget_root(page):  # type: ignore[no-untyped-def]
    return page.evaluate_handle("document.querySelector('.kb-host').shadowRoot")


def test_hostile_article_and_typed_text_stay_text_in_the_widget(page, server) -> None:
    url, _app = server
    page.goto(f"{url}/demo/en")
    ask(page, "Password", TYPED)
    suggestion = page.locator(".kb-suggestion").first
    assert suggestion.locator("strong").inner_text() == TITLE
    assert suggestion.locator(".kb-summary").inner_text() == SUMMARY
    suggestion.click()
    page.locator("#kb-article-title").wait_for()
    assert page.locator("#kb-article-title").inner_text() == TITLE
    body = page.locator(".kb-body")
    assert body.evaluate(DANGEROUS) == []
    # The writer's inline code is shown as text; the markdown links lost their scripts.
    assert "<script>alert('code')</script>" in body.inner_text()
    assert "Move the mouse here." in body.inner_text()
    body.hover()
    page.locator(".kb-body div, .kb-body p").first.hover()
    assert_nothing_ran(page)
    page.get_by_role("button", name="No, I still need help").click()
    page.locator("#kb-email").fill("pat@example.com")
    page.reload()  # the draft with the payload comes back from storage
    page.locator("#kb-message").wait_for()
    assert page.locator("#kb-message").input_value() == TYPED
    page.get_by_role("button", name="Send to support").click()
    page.get_by_text("We will answer within 24 hours.").wait_for()
    assert_nothing_ran(page)


def test_snippets_carry_only_highlighting(page, server) -> None:
    """An integrator may put `snippet` into HTML, as documented: only <mark> may come out of it."""
    url, _app = server
    page.goto(f"{url}/demo/en")
    query = "reset password <mark onmouseover=alert('query')>"
    snippets = page.evaluate("""async q => {
      const response = await fetch('/api/v1/search?' + new URLSearchParams({q, lang: 'en'}));
      return (await response.json()).results.map(r => r.snippet);
    }""", query)
    assert snippets, "the hostile article should be found"
    marked = page.evaluate("""snippets => snippets.map(snippet => {
      const div = document.createElement('div');
      div.innerHTML = snippet;
      document.body.appendChild(div);
      return {tags: Array.from(div.querySelectorAll('*')).map(e => e.tagName + e.attributes.length),
              text: div.textContent};
    })""", snippets)
    assert all(set(m["tags"]) <= {"MARK0"} for m in marked), marked
    assert any("<img src=x onerror=window.__xss='snippet'>" in m["text"] for m in marked), marked
    assert any("MARK0" in m["tags"] for m in marked)
    assert_nothing_ran(page)


def test_customers_text_stays_text_in_the_dashboard(page, server) -> None:
    url, app = server
    api = page.request
    session = "s-" + "x" * 8
    assert api.post(f"{url}/api/v1/events", data={
        "type": "search", "session_id": session, "lang": "en", "query": GAP,
        "data": {"abstained": True, "results": []}}).status == 202
    assert api.post(f"{url}/api/v1/events", data={
        "type": "article_opened", "session_id": session, "lang": "en",
        "article_id": ARTICLE_ID}).status == 202
    services(app).event_log.flush()  # events are queued; the dashboard reads the table
    assert api.post(f"{url}/api/v1/feedback", data={
        "article_id": ARTICLE_ID, "helpful": False, "comment": GAP, "query": GAP}).status == 201
    ticket = {"email": "eve@example.com", "subject": TITLE, "message": GAP, "lang": "en",
              "page_url": "javascript:alert('page-url')", "suggestions_shown": [ARTICLE_ID]}
    assert api.post(f"{url}/api/v1/tickets", data=ticket).status == 201
    page.goto(f"{url}/admin/dashboard")
    page.locator("#token").fill("s3cret-token")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#gaps").wait_for()
    assert wait_for_chart(page, "funnel-chart")
    gaps = page.locator("#gaps").inner_text()
    assert GAP in gaps  # the question as asked, shown as text
    assert TITLE in gaps  # the ticket's subject
    assert ARTICLE_ID in page.locator("#articles").inner_text()
    assert TITLE in page.locator("#translations").inner_text()
    assert page.locator("main").evaluate(DANGEROUS) == []
    # The report is also embedded as JSON for the charts: the payload must not end that script.
    report = json.loads(page.locator("#report-data").text_content())
    assert any(GAP in example for gap in report["content_gaps"]
               for example in gap["examples"])
    assert page.locator("script").count() == 3
    assert_nothing_ran(page)
