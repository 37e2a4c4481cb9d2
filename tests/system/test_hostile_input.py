"""Hostile input over HTTP, against the service under gunicorn exactly as docs/operations.md deploys it.

Oversized and deeply nested bodies, bytes that are not UTF-8 (body, query string, headers),
requests gunicorn itself cannot parse, and slow clients (slowloris): every answer is a bounded
4xx in the one error shape, never a 5xx, never a stack trace, and slow clients neither take the
service from others nor stay connected.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.articles import article_text
from tests.support.gunicorn import free_port, service_env, start_gunicorn, stop_gunicorn

pytestmark = pytest.mark.slow

REQUEST_TIMEOUT = 4.0  # KB_REQUEST_TIMEOUT for this service: short, so the test stays short
MAX_BODY_BYTES = 65536
TICKET = {"email": "pat@example.com", "subject": "Sync", "message": "It is stuck", "lang": "en"}


@dataclass
class Service:
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def error(self) -> dict[str, object]:
        """The error object, after checking the response has the one error shape."""
        assert self.headers.get_content_type() == "application/json", (self.status, self.body)
        payload = json.loads(self.body)
        assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message",
                                                                        "details"}, payload
        return payload["error"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`gunicorn --config gunicorn.conf.py wsgi:app` with a one-article help center."""
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "articles" / "en").mkdir(parents=True)
    (tmp / "articles" / "en" / "reset-password.md").write_text(article_text(), encoding="utf-8")
    port = free_port()
    env = service_env(**{"KB_INSTANCE_PATH": str(tmp / "instance"),
                "KB_ARTICLES_DIR": str(tmp / "articles"), "KB_LANGUAGES": "en",
                "KB_BIND": f"127.0.0.1:{port}", "KB_WORKERS": "2",
                "KB_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT), "KB_ADMIN_TOKEN": "s3cret-token",
                "KB_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
                "KB_RATE_LIMIT_SEARCH": "100000/minute", "KB_RATE_LIMIT_WRITE": "100000/minute", "KB_RATE_LIMIT_EVENTS": "100000/minute"})
    build_and_publish(load_settings(environ=env))
    log = tmp / "gunicorn.log"
    server = start_gunicorn("wsgi:app", env, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + log.read_text(errors="replace"))
                time.sleep(0.2)
        for _ in range(6):  # every worker has run the model once before timings matter
            assert request(port, b"GET /api/v1/search?q=password HTTP/1.1\r\n\r\n").status == 200
        yield Service(port, log)
    finally:
        stop_gunicorn(server)


@pytest.fixture(autouse=True)
def no_stack_trace_in_the_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test sends, the service logs no traceback (nothing crashed on the way)."""
    if "service" not in request.fixturenames:
        yield
        return
    log: Path = request.getfixturevalue("service").log
    start = log.stat().st_size
    yield
    with log.open("rb") as handle:
        handle.seek(start)
        added = handle.read().decode("utf-8", errors="replace")
    assert "Traceback" not in added, added


def request(port: int, raw: bytes, timeout: float = 20) -> Answer:
    """Send raw bytes (a Host header and Connection: close are added) and read the answer."""
    head, _, body = raw.partition(b"\r\n\r\n")
    raw = head + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = Answer(response.status, response.headers, response.read())
    assert b"Traceback" not in answer.body and b"File \"" not in answer.body
    return answer


def post(port: int, path: str, body: bytes, content_type: str = "application/json") -> Answer:
    return request(port, f"POST {path} HTTP/1.1\r\nContent-Type: {content_type}\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


# --- Bodies ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/feedback", "/api/v1/events"])
def test_oversized_body_is_413_and_names_the_limit(service: Service, path: str) -> None:
    body = json.dumps({**TICKET, "message": "x" * 2 * MAX_BODY_BYTES}).encode()
    answer = post(service.port, path, body)
    assert answer.status == 413
    error = answer.error()
    assert error["code"] == "request_entity_too_large"
    assert error["details"] == {"limit_bytes": MAX_BODY_BYTES}
    assert str(MAX_BODY_BYTES) in str(error["message"])


def test_oversized_chunked_body_is_413(service: Service) -> None:
    """Without a Content-Length the limit still holds while the body is read."""
    chunk = b"x" * 8192
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)) + b"0\r\n\r\n"
    head = (b"POST /api/v1/tickets HTTP/1.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    answer = request(service.port, head + chunks)
    assert answer.status == 413
    assert answer.error()["code"] == "request_entity_too_large"


@pytest.mark.parametrize("nesting", ['{"email": %s}', '{"type": "search", "data": {"x": %s}}'])
def test_deeply_nested_json_is_400(service: Service, nesting: str) -> None:
    deep = "[" * 20000 + "]" * 20000
    path = "/api/v1/tickets" if "email" in nesting else "/api/v1/events"
    answer = post(service.port, path, (nesting % deep).encode())
    assert answer.status == 400
    assert answer.error()["code"] == "invalid_request"


def test_body_that_is_not_utf8_is_400(service: Service) -> None:
    body = b'{"email": "pat@example.com", "subject": "\xff\xfe", "message": "m", "lang": "en"}'
    answer = post(service.port, "/api/v1/tickets", body)
    assert answer.status == 400
    assert answer.error()["code"] == "invalid_request"


def test_json_that_is_not_an_object_is_400(service: Service) -> None:
    for body in (b"[]", b"null", b"\"text\"", b"1e999999", b"{\"email\": NaN}"):
        answer = post(service.port, "/api/v1/tickets", body)
        assert answer.status == 400, body
        answer.error()


# --- Query strings, paths and headers --------------------------------------------------------

@pytest.mark.parametrize("query", [b"q=%ff%fe", b"q=\xff\xfepassword", b"q=pass%C3word",
                                   b"%ff=1", b"q=ok&lang=\xc3"])
def test_query_string_that_is_not_utf8_is_400(service: Service, query: bytes) -> None:
    answer = request(service.port, b"GET /api/v1/search?" + query + b" HTTP/1.1\r\n\r\n")
    assert answer.status == 400
    assert "UTF-8" in str(answer.error()["message"])


def test_query_string_in_utf8_still_works(service: Service) -> None:
    query = urllib.parse.quote("пароль password", safe="").encode()
    answer = request(service.port, b"GET /api/v1/search?q=" + query + b" HTTP/1.1\r\n\r\n")
    assert answer.status == 200
    assert json.loads(answer.body)["query"] == "пароль password"


@pytest.mark.parametrize("path", [b"/api/v1/articles/\xff\xfe", b"/api/v1/articles/%ff%fe",
                                  b"/demo/%ff", b"/widget/i18n/%c3.json"])
def test_path_that_is_not_utf8_is_404(service: Service, path: bytes) -> None:
    answer = request(service.port, b"GET " + path + b" HTTP/1.1\r\n\r\n")
    assert answer.status == 404
    answer.error()


@pytest.mark.parametrize("header", [b"Accept-Language: \xff\xfe;q=0.9, sv",
                                    b"Authorization: Bearer \xff\xfe",
                                    b"Authorization: Bearer s3cret-token\xc3\xa9",
                                    b"Cookie: session=\xff\xfe.\xff",
                                    b"Origin: https://\xff.example",
                                    b"Content-Type: application/json; charset=\xff"])
@pytest.mark.parametrize("target", [b"GET /api/v1/search?q=password", b"GET /api/v1/articles",
                                    b"GET /admin/dashboard", b"POST /api/v1/admin/reindex",
                                    b"GET /demo"])
def test_header_that_is_not_utf8_is_never_a_server_error(service: Service, header: bytes,
                                                         target: bytes) -> None:
    answer = request(service.port, target + b" HTTP/1.1\r\n" + header + b"\r\n\r\n")
    assert answer.status in (200, 302, 401), (answer.status, answer.body[:300])
    if answer.status == 401:
        assert answer.error()["code"] == "unauthorized"


@pytest.mark.parametrize(("raw", "status"), [
    (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", 400),  # request line over gunicorn's limit
    (b"GET /api/v1/health HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n", 431),
    (b"GET /api/v1/health HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(120))
     + b"\r\n", 431),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 HTTP/1.1\r\n\r\n", 400),  # TLS to a plain port
    (b"GET /api/v1/health HTTP/1.1\r\nBad Header\r\n\r\n", 400),
])
def test_requests_gunicorn_rejects_keep_the_error_shape(service: Service, raw: bytes,
                                                        status: int) -> None:
    answer = request(service.port, raw)
    assert answer.status == status
    assert answer.error()["message"]


# --- Slow clients ----------------------------------------------------------------------------

@dataclass
class SlowClient:
    """Sends a request head one byte at a time and notes when and how the server cut it off."""

    port: int
    interval: float = 0.2
    cut_after: float | None = None
    answer: bytes = b""

    def run(self) -> None:
        head = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 500
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            for byte in head:
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    break
                readable, _, _ = select.select([sock], [], [], self.interval)
                if readable:
                    break
            self.cut_after = time.monotonic() - started
            sock.settimeout(2)
            try:
                while chunk := sock.recv(4096):
                    self.answer += chunk
            except OSError:
                pass


def test_slow_clients_hold_no_thread_and_are_cut_off(service: Service) -> None:
    # Twice as many as the service has threads (2 workers x 4): with one thread per slow client,
    # nobody else would get an answer until they were cut off.
    slow = [SlowClient(service.port) for _ in range(16)]
    threads = [threading.Thread(target=client.run, daemon=True) for client in slow]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    waits = []
    while time.monotonic() - began < REQUEST_TIMEOUT - 1.5:
        started = time.monotonic()
        answer = request(service.port, b"GET /api/v1/search?q=password HTTP/1.1\r\n\r\n",
                         timeout=REQUEST_TIMEOUT)
        waits.append(time.monotonic() - started)
        assert answer.status == 200
        time.sleep(0.2)
    assert all(client.cut_after is None for client in slow), "cut off before the normal requests"
    assert len(waits) >= 3 and max(waits) < 1.0, waits
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 5)
    cut = sorted(client.cut_after or 0 for client in slow)
    assert REQUEST_TIMEOUT - 0.5 <= cut[0] and cut[-1] <= REQUEST_TIMEOUT + 2.0, cut
    for client in slow:
        status_line, _, rest = client.answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 408 Request Timeout", client.answer
        body = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert body["error"]["code"] == "request_timeout"


def test_silent_connection_is_closed(service: Service) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", service.port), timeout=REQUEST_TIMEOUT + 5) as sock:
        assert sock.recv(100) == b""  # closed without an answer: it never asked anything
    assert REQUEST_TIMEOUT - 0.5 <= time.monotonic() - started <= REQUEST_TIMEOUT + 2.0


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_body_that_never_finishes_is_408(service: Service, framing: str) -> None:
    body = json.dumps(TICKET).encode()
    head = b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    if framing == "chunked":
        raw = head + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s" % (len(body), body[:10])
    else:
        raw = head + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", service.port), timeout=REQUEST_TIMEOUT + 5) as sock:
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = Answer(response.status, response.headers, response.read())
    assert REQUEST_TIMEOUT - 0.5 <= time.monotonic() - started <= REQUEST_TIMEOUT + 2.0
    assert answer.status == 408
    assert answer.error()["code"] == "request_timeout"


# --- What must keep working ------------------------------------------------------------------

def test_client_waiting_for_100_continue_gets_it_at_once(service: Service) -> None:
    body = json.dumps(TICKET).encode()
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                     b"application/json\r\nExpect: 100-continue\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        sock.settimeout(1.0)  # curl sends the body anyway after 1 s: waiting that long is a bug
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.settimeout(10)
        sock.sendall(body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 201

def test_keep_alive_and_pipelined_requests_are_answered(service: Service) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    for _ in range(3):
        connection.request("POST", "/api/v1/tickets", body=json.dumps(TICKET),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert (response.status, response.headers["Connection"]) == (201, "keep-alive")
        response.read()
    connection.close()
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        one = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        sock.sendall(one + b"GET /api/v1/articles HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + one[:20])
        time.sleep(0.3)
        sock.sendall(one[20:-2] + b"Connection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 3, received[:500]


# --- The help center -------------------------------------------------------------------------

@pytest.mark.parametrize("query", [b"%FF%FE", b"\xff\xfe", b"%00", b"a" * 2000],
                         ids=["percent-encoded bytes", "raw bytes", "NUL", "2000 characters"])
def test_help_center_search_with_bad_input_is_a_page_that_says_so(service: Service,
                                                                  query: bytes) -> None:
    answer = request(service.port, b"GET /help/en/search?q=" + query + b" HTTP/1.1\r\n\r\n")
    assert answer.status == 400 and answer.headers.get_content_type() == "text/html"
    assert b'role="alert"' in answer.body and b'role="search"' in answer.body


def test_help_center_pages_are_compressed_and_a_reload_is_a_304_on_any_worker(
        service: Service) -> None:
    first = request(service.port, b"GET /help/en/reset-password HTTP/1.1\r\n"
                                  b"Accept-Encoding: gzip\r\nUser-Agent: Mozilla/5.0\r\n\r\n")
    assert first.status == 200 and first.headers["Content-Encoding"] == "gzip"
    cookie = first.headers["Set-Cookie"].split(";")[0].encode()
    for _ in range(6):  # two workers: each must recognise the page
        again = request(service.port, b"GET /help/en/reset-password HTTP/1.1\r\n"
                                      b"Accept-Encoding: gzip\r\nUser-Agent: Mozilla/5.0\r\n"
                                      b"Cookie: " + cookie + b"\r\nIf-None-Match: " +
                        first.headers["ETag"].encode() + b"\r\n\r\n")
        assert again.status == 304 and again.body == b""
