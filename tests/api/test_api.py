"""Every endpoint's success and error paths, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from kb import create_app
from kb.cli import main
from kb.models import Event, Feedback, OutboxItem, Ticket
from kb.services import services
from tests.support.app import app_config
from tests.support.articles import SAMPLE_ARTICLES

TOKEN = {"Authorization": "Bearer s3cret-token"}
TICKET = {"email": "anna@example.se", "subject": "Kan inte logga in",
          "message": "Jag har försökt i två timmar.", "lang": "sv",
          "page_url": "https://shop.example/kontakt", "session_id": "s-1",
          "suggestions_shown": ["sv/reset-password", "sv/sign-in-problems"],
          "suggestions_opened": ["sv/reset-password"]}


def assert_error(response, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def count(app: Flask, model: type) -> int:
    with services(app).database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


# --- search ----------------------------------------------------------------------------------

def test_search_answers_in_the_customers_language(client: FlaskClient,
                                                  sample_index: Path) -> None:
    data = client.get("/api/v1/search", query_string={"q": "jag har glömt mitt lösenord"}).get_json()
    assert data["lang"] == "sv"
    assert data["results"][0]["lang"] == "sv"
    assert set(data) >= {"query", "lang", "results", "took_ms", "abstained", "repaired_query"}
    # The build that answered, by its folder name only (no path on the server).
    assert data["index_build"] == sample_index.resolve().name
    first = data["results"][0]
    assert set(first) >= {"id", "slug", "lang", "title", "summary", "snippet", "anchor", "score",
                          "fallback"}


def test_the_api_and_kb_search_show_an_answer_alike(client: FlaskClient, sample_index: Path,
                                                   fake_model: str, tmp_path: Path) -> None:
    question = "jag har glömt mitt lösenord"
    api = client.get("/api/v1/search", query_string={"q": question}).get_json()
    shown = CliRunner().invoke(main, ["search", question, "--json"], env={
        "KB_INSTANCE_PATH": str(tmp_path / "cli"), "KB_INDEX_DIR": str(sample_index),
        "KB_MODEL": fake_model, "KB_ARTICLES_DIR": str(SAMPLE_ARTICLES)})
    assert shown.exit_code == 0, shown.output
    cli = json.loads(shown.output)
    # One JSON form: the API adds only which build answered, and leaves out why a language
    # was chosen (a writer's detail).
    assert set(api) - {"index_build"} == set(cli) - {"lang_reason"}
    assert [r["id"] for r in cli["results"]] == [r["id"] for r in api["results"]]
    assert [r["snippet"] for r in cli["results"]] == [r["snippet"] for r in api["results"]]
    assert set(api["results"][0]) == set(cli["results"][0]) - {"signals"}


def test_explicit_lang_wins_and_accept_language_is_a_hint(client: FlaskClient) -> None:
    forced = client.get("/api/v1/search", query_string={"q": "lösenord glömt", "lang": "ru"})
    assert forced.get_json()["lang"] == "ru"
    hinted = client.get("/api/v1/search", query_string={"q": "Driftbox"},
                        headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert hinted.get_json()["lang"] == "ru"
    clear = client.get("/api/v1/search", query_string={"q": "jag har glömt mitt lösenord"},
                       headers={"Accept-Language": "en-US"})
    assert clear.get_json()["lang"] == "sv"


@pytest.mark.parametrize("query", [
    {}, {"q": ""}, {"q": "x" * 501}, {"q": "ok", "lang": "de"}, {"q": "ok", "limit": 0},
    {"q": "ok", "limt": 3},
])
def test_search_rejects_bad_requests(client: FlaskClient, query: dict) -> None:
    error = assert_error(client.get("/api/v1/search", query_string=query), 400, "invalid_request")
    assert error["details"]["fields"]


# --- articles --------------------------------------------------------------------------------

def test_article_list_for_a_language_with_fallbacks(client: FlaskClient) -> None:
    items = client.get("/api/v1/articles", query_string={"lang": "sv"}).get_json()
    by_slug = {item["slug"]: item for item in items}
    assert by_slug["reset-password"]["lang"] == "sv"
    assert by_slug["team-accounts"] == {**by_slug["team-accounts"], "lang": "en", "fallback": True}
    billing = client.get("/api/v1/articles", query_string={"lang": "ru", "category": "billing"})
    assert {item["category"] for item in billing.get_json()} == {"billing"}


def test_article_detail_has_safe_html_and_translations(client: FlaskClient) -> None:
    data = client.get("/api/v1/articles/reset-password", query_string={"lang": "ru"}).get_json()
    assert data["lang"] == "ru" and data["fallback"] is False and data["stale"] is False
    assert "<script" not in data["html"] and "<h2 id=" in data["html"]
    assert {t["lang"] for t in data["translations"]} == {"en", "sv", "ru"}


def test_unknown_article_is_404_in_the_error_shape(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/articles/no-such-thing"), 404, "not_found")


def test_draft_articles_are_never_served(tmp_path: Path, database_url: str, fake_model: str) -> None:
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    articles = tmp_path / "articles"
    (articles / "en").mkdir(parents=True)
    (articles / "en" / "secret.md").write_text("---\ntitle: Secret plan\nstatus: draft\n---\nx\n")
    (articles / "en" / "public.md").write_text("---\ntitle: Public\nsummary: Hi.\n---\nHello.\n")
    settings = load_settings(environ={}, overrides={"INSTANCE_PATH": str(tmp_path / "i"),
                                                    "MODEL": fake_model,
                                                    "ARTICLES_DIR": str(articles)})
    build_and_publish(settings)
    app = create_app(app_config(tmp_path, database_url, Path(settings["INDEX_DIR"]), fake_model,
                                ARTICLES_DIR=str(articles)))
    client = app.test_client()
    assert_error(client.get("/api/v1/articles/secret"), 404)
    assert [a["slug"] for a in client.get("/api/v1/articles?lang=en").get_json()] == ["public"]
    results = client.get("/api/v1/search?q=secret+plan").get_json()["results"]
    assert all(r["slug"] != "secret" for r in results)
    services(app).database.dispose()


# --- feedback and events ---------------------------------------------------------------------

def test_feedback_is_stored(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/feedback", json={"article_id": "sv/reset-password",
                                                     "helpful": False, "comment": "Fick ingen länk",
                                                     "query": "glömt lösenord"})
    assert response.status_code == 201 and response.get_json()["id"]
    assert count(app, Feedback) == 1


@pytest.mark.parametrize("body", [{}, {"article_id": "x"}, {"article_id": "x", "helpful": "perhaps"},
                                  {"article_id": "x", "helpful": True, "extra": 1}])
def test_feedback_rejects_bad_bodies(client: FlaskClient, body: dict) -> None:
    assert_error(client.post("/api/v1/feedback", json=body), 400, "invalid_request")


def test_events_are_stored_and_checked(app: Flask, client: FlaskClient) -> None:
    ok = client.post("/api/v1/events", json={"type": "deflected", "session_id": "s-1",
                                             "lang": "sv", "article_id": "sv/reset-password"})
    assert ok.status_code == 202
    assert_error(client.post("/api/v1/events", json={"type": "hacked"}), 400)
    assert_error(client.post("/api/v1/events", json={"type": "search", "data": {
        str(i): i for i in range(50)}}), 400)
    services(app).event_log.flush()
    assert count(app, Event) == 1


# --- tickets ---------------------------------------------------------------------------------

def test_ticket_is_stored_with_its_suggestions_before_201(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/tickets", json=TICKET)
    assert response.status_code == 201
    data = response.get_json()
    assert data["reply_within_hours"] == 24
    with services(app).database.session() as session:
        ticket = session.get(Ticket, data["id"])
        assert ticket is not None and ticket.message == TICKET["message"]
        assert ticket.suggestions_shown == TICKET["suggestions_shown"]
        assert ticket.suggestions_opened == ["sv/reset-password"]
        outbox = session.scalar(select(OutboxItem).where(OutboxItem.ticket_id == ticket.id))
        assert outbox is not None and outbox.delivered_at is None


def test_honeypot_ticket_looks_accepted_but_is_not_stored(app: Flask, client: FlaskClient) -> None:
    response = client.post("/api/v1/tickets", json={**TICKET, "website": "http://spam.example"})
    assert response.status_code == 201
    assert count(app, Ticket) == 0


@pytest.mark.parametrize("change", [{"email": "not-an-email"}, {"message": ""},
                                    {"message": "x" * 5001}, {"lang": "xx"},
                                    {"suggestions_shown": ["a"] * 51}, {"priority": "urgent"}])
def test_ticket_field_limits(app: Flask, client: FlaskClient, change: dict) -> None:
    error = assert_error(client.post("/api/v1/tickets", json={**TICKET, **change}), 400)
    assert error["details"]["fields"]
    assert count(app, Ticket) == 0


def test_oversized_body_is_413(client: FlaskClient) -> None:
    response = client.post("/api/v1/tickets", data="x" * 70_000, content_type="application/json")
    assert_error(response, 413)


def test_invalid_json_is_400(client: FlaskClient) -> None:
    assert_error(client.post("/api/v1/tickets", data="{not json",
                             content_type="application/json"), 400)


# --- health and admin ------------------------------------------------------------------------

def test_health_reports_model_index_and_database(client: FlaskClient) -> None:
    data = client.get("/api/v1/health").get_json()
    assert data["status"] == "ok" and data["database"] == "ok"
    assert data["model"] == "fake" and data["index_built_at"]
    assert data["index_build"] and "/" not in data["index_build"]
    assert data["articles"] == {"en": 23, "sv": 20, "ru": 20}


def test_health_is_503_when_the_database_is_down(app: Flask, client: FlaskClient,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services(app).database, "reachable", lambda: False)
    error = assert_error(client.get("/api/v1/health"), 503, "unhealthy")
    assert error["details"]["database"] == "unreachable"


def test_admin_needs_the_right_token(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/admin/tickets"), 401)
    assert_error(client.get("/api/v1/admin/tickets", headers={"Authorization": "Bearer wrong"}),
                 401)
    assert_error(client.get("/api/v1/admin/tickets", headers={"Authorization": "s3cret-token"}),
                 401)
    assert client.get("/api/v1/admin/tickets", headers=TOKEN).status_code == 200


def test_admin_is_off_without_a_configured_token(tmp_path: Path, database_url: str,
                                                 sample_index: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, database_url, sample_index, fake_model, ADMIN_TOKEN=""))
    assert_error(app.test_client().get("/api/v1/admin/tickets",
                                       headers={"Authorization": "Bearer "}), 404)
    services(app).database.dispose()


def test_admin_lists_tickets_with_delivery_state(client: FlaskClient) -> None:
    client.post("/api/v1/tickets", json=TICKET)
    tickets = client.get("/api/v1/admin/tickets", headers=TOKEN).get_json()["tickets"]
    assert tickets[0]["subject"] == TICKET["subject"]
    assert tickets[0]["delivered_at"] is None and tickets[0]["attempts"] == 0
    undelivered = client.get("/api/v1/admin/tickets?undelivered=true", headers=TOKEN)
    assert len(undelivered.get_json()["tickets"]) == 1


# --- cross-cutting ---------------------------------------------------------------------------

def test_cors_only_for_allowed_origins(client: FlaskClient) -> None:
    allowed = client.get("/api/v1/search?q=refund", headers={"Origin": "https://shop.example"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://shop.example"
    other = client.get("/api/v1/search?q=refund", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    for response in (client.get("/api/v1/health"), client.get("/api/v1/nope")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, database_url: str,
                                                 sample_index: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, database_url, sample_index, fake_model,
                                RATE_LIMIT_SEARCH="2/minute", RATE_LIMIT_WRITE="1/minute",
                                RATE_LIMIT_EVENTS="2/minute"))
    client = app.test_client()
    codes = [client.get("/api/v1/search?q=refund").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = client.get("/api/v1/search?q=refund")
    assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0
    # Events have a limit of their own, above the write limit: a visit sends several.
    events = [client.post("/api/v1/events", json={"type": "search"}).status_code for _ in range(2)]
    assert events == [202, 202]
    assert_error(client.post("/api/v1/events", json={"type": "search"}), 429)
    services(app).database.dispose()


def test_every_endpoint_answers_errors_in_one_shape(app: Flask, client: FlaskClient) -> None:
    """Walk the URL map: a bad request to each endpoint gets the one JSON error shape."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule.endswith("openapi.json"):
            continue
        url = rule.rule.replace("<slug>", "no-such-article").replace("<int:ticket_id>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, query_string={"bogus": "1"},
                                   json={"bogus": 1} if method == "POST" else None)
            if response.status_code >= 400:
                assert_error(response, response.status_code)
                checked += 1
        not_allowed = client.open(url, method="DELETE")
        assert_error(not_allowed, 405)
    assert checked >= 9


def test_openapi_document_lists_every_endpoint(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/search", "/api/v1/articles", "/api/v1/articles/{slug}", "/api/v1/feedback",
            "/api/v1/tickets", "/api/v1/events", "/api/v1/health", "/api/v1/admin/reindex",
            "/api/v1/admin/tickets"} <= set(spec["paths"])


def test_ticket_while_the_database_is_down_is_503_and_search_still_works(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import contextmanager

    from sqlalchemy.exc import OperationalError

    @contextmanager
    def broken_session():  # type: ignore[no-untyped-def]
        raise OperationalError("INSERT", {}, Exception("connection refused"))
        yield

    monkeypatch.setattr(services(app).database, "session", broken_session)
    error = assert_error(client.post("/api/v1/tickets", json=TICKET), 503, "database_unavailable")
    assert error["details"] == {"retry": True}
    assert client.get("/api/v1/search?q=refund").status_code == 200


def test_admin_reindex_runs_once_and_reports(client: FlaskClient, app: Flask) -> None:
    import time

    started = client.post("/api/v1/admin/reindex", headers=TOKEN)
    assert started.status_code == 202 and started.get_json()["status"] == "running"
    again = client.post("/api/v1/admin/reindex", headers=TOKEN)
    assert again.status_code in (202, 409)
    deadline = time.monotonic() + 60
    while client.get("/api/v1/admin/reindex", headers=TOKEN).get_json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    state = client.get("/api/v1/admin/reindex", headers=TOKEN).get_json()
    assert state["status"] == "done" and state["articles"] == 63


@pytest.mark.parametrize("body", [{"type": "search", "query": "bad\x00text"},
                                  {"type": "search", "data": {"x": "y" * 3000}}])
def test_hostile_values_are_400(client: FlaskClient, body: dict) -> None:
    assert_error(client.post("/api/v1/events", json=body), 400)


def test_deeply_nested_json_is_400_not_500(client: FlaskClient) -> None:
    response = client.post("/api/v1/events", data="[" * 20000 + "]" * 20000,
                           content_type="application/json")
    assert response.status_code == 400 and response.is_json


def test_widget_hint_lets_the_text_decide(client: FlaskClient) -> None:
    data = client.get("/api/v1/search", query_string={"q": "не могу войти в аккаунт",
                                                      "hint": "en"}).get_json()
    assert data["lang"] == "ru"
    repaired = client.get("/api/v1/search", query_string={"q": "pf,skf gfhjkm", "hint": "en"})
    assert repaired.get_json()["repaired_query"] == "забыла пароль"


# A lone UTF-16 surrogate, as JSON writes it: what cutting an emoji in two leaves behind.
LONE_SURROGATE = '"\\ud83d"'


@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/feedback", '{"article_id": "en/x", "helpful": true, "query": %s}', "query"),
    ("/api/v1/tickets", '{"email": "a@example.com", "subject": %s, "message": "m", "lang": "en"}',
     "subject"),
    ("/api/v1/events", '{"type": "search", "session_id": %s}', "session_id"),
    ("/api/v1/events", '{"type": "search", "data": {"k": [%s]}}', "data.k.0"),
])
def test_a_lone_surrogate_is_400_naming_the_field(app: Flask, client: FlaskClient, path: str,
                                                  body: str, field: str) -> None:
    response = client.post(path, data=body % LONE_SURROGATE, content_type="application/json")
    error = assert_error(response, 400)
    assert f"'{field}'" in error["message"] and "surrogate" in error["message"]
    assert count(app, Feedback) + count(app, Ticket) + count(app, Event) == 0


def test_a_whole_emoji_written_as_a_surrogate_pair_is_stored(app: Flask,
                                                             client: FlaskClient) -> None:
    body = '{"article_id": "en/x", "helpful": true, "query": "\\ud83d\\ude00 broken"}'
    response = client.post("/api/v1/feedback", data=body, content_type="application/json")
    assert response.status_code == 201
    with services(app).database.session() as session:
        assert session.scalars(select(Feedback.query)).one() == "\U0001F600 broken"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_told_to_be_json(client: FlaskClient,
                                                    content_type: str | None) -> None:
    import json

    response = client.post("/api/v1/tickets", data=json.dumps(TICKET), content_type=content_type)
    error = assert_error(response, 415, "unsupported_media_type")
    assert "application/json" in error["message"]


def test_openapi_document_states_the_error_shape_the_codes_and_the_admin_token(
        client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(spec["components"]["schemas"]["ErrorDetail"]["properties"]) == {
        "code", "message", "details"}
    search = spec["paths"]["/api/v1/search"]["get"]
    assert "400" in search["responses"] and "422" not in search["responses"]
    q = next(p for p in search["parameters"] if p["name"] == "q")["schema"]
    assert q["minLength"] == 1 and q["maxLength"] == 500 and "\\u0000" in q["pattern"]
    lang = next(p for p in search["parameters"] if p["name"] == "lang")["schema"]
    assert lang["enum"] == ["en", "sv", "ru"]
    assert spec["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    tickets = spec["paths"]["/api/v1/admin/tickets"]["get"]
    assert tickets["security"] == [{"adminToken": []}] and "200" in tickets["responses"]
    assert "200" in spec["paths"]["/api/v1/health"]["get"]["responses"]


def test_a_recorded_search_keeps_the_words_no_article_uses(app: Flask,
                                                           client: FlaskClient) -> None:
    from tests.support.app import rows

    client.get("/api/v1/search?q=how+do+I+cancel+my+gym+membership&session_id=gap-1")
    client.get("/api/v1/search?q=how+do+I+reset+my+password&session_id=gap-2")
    events = {e.session_id: e for e in rows(app, Event, Event.type == "search")}
    assert {"gym", "membership"} <= set(events["gap-1"].data["unknown_words"])
    assert "unknown_words" not in events["gap-2"].data
