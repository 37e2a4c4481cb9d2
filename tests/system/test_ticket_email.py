"""Tickets reach a help desk by email: real mail to a real SMTP server (aiosmtpd) the test starts.

Each test runs the outbox against the server as the service does, and reads what arrived.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from sqlalchemy import select, update

from kb.cli import main
from kb.db import Database
from kb.mail import message_id, parse_smtp_url
from kb.models import OutboxItem, Ticket
from kb.outbox import configured_channels, deliver_due, queue_ticket
from kb.services import services
from kb.settings import SettingsError, load_settings
from tests.support.waiting import eventually

TIMEOUT = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailServer:
    """An SMTP server on a loopback port that keeps what it accepts; it can be told to answer
    4xx to the next messages, to refuse every login but one, or be stopped and started."""

    def __init__(self, port: int, password: str | None = None,
                 tls: ssl.SSLContext | None = None, implicit_tls: bool = False) -> None:
        self.port = port
        self.password = password
        self.tls, self.implicit_tls = tls, implicit_tls
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.busy_answers = 0
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        if self.busy_answers:
            self.busy_answers -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Accepted"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"desk"
              and auth_data.password == (self.password or "").encode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> None:
        options: dict = {}
        if self.password is not None:
            options = {"authenticator": self._authenticate, "auth_required": True,
                       # aiosmtpd counts only STARTTLS as TLS; smtps is TLS from the start.
                       "auth_require_tls": self.tls is not None and not self.implicit_tls}
        if self.tls is not None and self.implicit_tls:
            options["ssl_context"] = self.tls
        elif self.tls is not None:  # offer STARTTLS, and accept nothing before it
            options.update(tls_context=self.tls, require_starttls=True)
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


def settings_for(port: int, user: str = "", password: str = "", scheme: str = "smtp",
                 **more: str) -> dict:
    credentials = f"{user}:{password}@" if user else ""
    return load_settings(environ={}, overrides={
        "SMTP_URL": f"{scheme}://{credentials}127.0.0.1:{port}", "TICKET_EMAIL_TO": "desk@help.example",
        "TICKET_EMAIL_FROM": "Driftbox Help <help@driftbox.example>",
        "ARTICLE_URL": "/help/{lang}/{slug}", "WEBHOOK_TIMEOUT": TIMEOUT, **more})


@pytest.fixture
def server_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A certificate for 127.0.0.1 that the service trusts (through SSL_CERT_FILE, as an
    operator's own CA would be), and the server's TLS context with it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        message = "the openssl command is needed to make a test certificate"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def add_ticket(db: Database, channels: dict, subject: str = "Kan inte\r\nlogga  in") -> int:
    with db.session() as session:
        ticket = Ticket(email="anna@example.se", subject=subject,
                        message="Länken kommer aldrig.\n<b>Hjälp</b> & tack", lang="sv",
                        page_url="https://shop.example/kontakt",
                        suggestions_shown=["sv/reset-password", "sv/two-step-login"],
                        suggestions_opened=["sv/reset-password"],
                        created_at=dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.timezone.utc))
        session.add(ticket)
        session.flush()
        queue_ticket(session, ticket.id, channels)
        return ticket.id


def outbox(db: Database) -> OutboxItem:
    with db.session() as session:
        return session.scalars(select(OutboxItem)).one()


def test_the_mail_an_agent_gets(db: Database, mail_server: MailServer) -> None:
    channels = configured_channels(settings_for(mail_server.port))
    ticket_id = add_ticket(db, channels)
    assert deliver_due(db, channels, TIMEOUT).delivered == 1
    [mail] = mail_server.received
    assert mail_server.envelopes == [("help@driftbox.example", ["desk@help.example"])]
    assert mail["From"] == "Driftbox Help <help@driftbox.example>"
    assert mail["To"] == "desk@help.example"
    assert mail["Reply-To"] == "anna@example.se"  # an agent's answer reaches the customer
    assert mail["Subject"] == f"[sv] Kan inte logga in (ticket #{ticket_id})"
    with db.session() as session:
        ticket = session.get(Ticket, ticket_id).to_dict()
    assert mail["Message-ID"] == message_id(ticket, "help@driftbox.example")
    assert mail["Message-ID"].startswith(f"<ticket-{ticket_id}.")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Länken kommer aldrig." in text and "<b>Hjälp</b> & tack" in text
    assert "Language: Swedish (sv)" in text and "Language: Swedish (sv)" in html
    assert "shown 2, opened 1" in text
    assert "- sv/reset-password (opened): https://shop.example/help/sv/reset-password" in text
    assert "- sv/two-step-login: https://shop.example/help/sv/two-step-login" in text
    assert '<a href="https://shop.example/help/sv/reset-password">sv/reset-password</a> ' \
           '<strong>(opened)</strong>' in html
    # The customer's text is text in the HTML part, never markup.
    assert "&lt;b&gt;Hjälp&lt;/b&gt; &amp; tack" in html and "<b>Hjälp</b>" not in html
    assert outbox(db).state == "delivered"


def test_server_down_then_up_delivers_once(db: Database) -> None:
    server = MailServer(free_port())
    channels = configured_channels(settings_for(server.port))
    add_ticket(db, channels)
    first = deliver_due(db, channels, TIMEOUT)
    assert (first.delivered, first.failed) == (0, 1)
    item = outbox(db)
    assert item.state == "waiting" and item.attempts == 1
    assert "Connection refused" in item.last_error or "ConnectionRefused" in item.last_error
    server.start()
    try:
        assert deliver_due(db, channels, TIMEOUT, send_all=True).delivered == 1
        assert deliver_due(db, channels, TIMEOUT, send_all=True).delivered == 0
    finally:
        server.stop()
    assert len(server.received) == 1 and outbox(db).state == "delivered"


def test_busy_server_4xx_is_retried_then_accepted(db: Database, mail_server: MailServer) -> None:
    channels = configured_channels(settings_for(mail_server.port))
    add_ticket(db, channels)
    mail_server.busy_answers = 1
    assert deliver_due(db, channels, TIMEOUT).failed == 1
    item = outbox(db)
    assert item.state == "waiting" and "451" in item.last_error
    # Not due yet: the next pass leaves it alone rather than hammer the server.
    assert deliver_due(db, channels, TIMEOUT).failed == 0
    assert deliver_due(db, channels, TIMEOUT, send_all=True).delivered == 1
    assert len(mail_server.received) == 1


# The test's server listens on loopback only, without TLS; aiosmtpd warns about AUTH without it.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_refused_login_fails_for_good_is_shown_and_can_be_resent(
        db: Database, database_url: str, tmp_path: Path) -> None:
    server = MailServer(free_port(), password="right")
    server.start()
    try:
        wrong = settings_for(server.port, "desk", "wrong")
        channels = configured_channels(wrong)
        ticket_id = add_ticket(db, channels)
        assert deliver_due(db, channels, TIMEOUT).failed == 1
        item = outbox(db)
        assert item.state == "failed" and "535" in item.last_error
        # Failed for good: no pass retries it, not even --all; nothing arrives.
        assert deliver_due(db, channels, TIMEOUT, send_all=True).failed == 0
        assert server.received == []

        env = {"KB_DATABASE_URL": database_url, "KB_INSTANCE_PATH": str(tmp_path),
               "KB_SMTP_URL": f"smtp://desk:right@127.0.0.1:{server.port}",
               "KB_TICKET_EMAIL_TO": "desk@help.example",
               "KB_TICKET_EMAIL_FROM": "help@driftbox.example"}
        listed = CliRunner().invoke(main, ["tickets", "list", "--failed"], env=env)
        assert f"#{ticket_id} " in listed.output and "email failed (1 attempts" in listed.output
        assert "535" in listed.output
        # After fixing the password in the setting, the operator re-sends it.
        resent = CliRunner().invoke(main, ["tickets", "resend", "--failed"], env=env)
        assert resent.exit_code == 0, resent.output
        assert "re-sending 1 deliveries: delivered 1" in resent.output
        assert len(server.received) == 1 and outbox(db).state == "delivered"
    finally:
        server.stop()


def test_a_crash_after_sending_resends_the_same_message(db: Database,
                                                       mail_server: MailServer) -> None:
    channels = configured_channels(settings_for(mail_server.port))
    add_ticket(db, channels)

    class Crash(BaseException):
        """The worker dies after the server accepted the mail, before it is marked sent."""

    def send_then_crash(ticket: dict) -> None:
        channels["email"](ticket)
        raise Crash()

    with pytest.raises(Crash):
        deliver_due(db, {"email": send_then_crash}, TIMEOUT)
    assert outbox(db).state == "waiting"
    # While the dead sender's claim lasts, nobody sends it again...
    assert deliver_due(db, channels, TIMEOUT, send_all=True).delivered == 0
    with db.session() as session:  # ...then the claim runs out
        session.execute(update(OutboxItem).values(
            locked_until=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)))
    assert deliver_due(db, channels, TIMEOUT, send_all=True).delivered == 1
    first, second = mail_server.received
    assert first["Message-ID"] == second["Message-ID"]  # a help desk can drop the repeat


def test_email_and_webhook_both(db: Database, mail_server: MailServer) -> None:
    posted: list[int] = []
    channels = {**configured_channels(settings_for(mail_server.port)),
                "webhook": lambda ticket: posted.append(ticket["id"])}
    ticket_id = add_ticket(db, channels)
    assert deliver_due(db, channels, TIMEOUT).delivered == 2
    assert posted == [ticket_id] and len(mail_server.received) == 1
    with db.session() as session:
        state = session.get(Ticket, ticket_id).delivery_state()
    assert state["state"] == "delivered"
    assert [d["channel"] for d in state["deliveries"]] == ["email", "webhook"]


@pytest.mark.parametrize(("url", "problem"), [
    ("http://mail.example:25", "use smtp://"),
    ("smtp://:587", "names no mail server host"),
    ("smtp://mail.example:port", "not a URL like"),
])
def test_malformed_smtp_url_names_the_setting(url: str, problem: str, runner: CliRunner) -> None:
    with pytest.raises(SettingsError, match="KB_SMTP_URL") as error:
        load_settings(environ={"KB_SMTP_URL": url})
    assert problem in str(error.value)
    result = runner.invoke(main, ["tickets", "send"], env={"KB_SMTP_URL": url})
    assert result.exit_code == 1 and "KB_SMTP_URL" in result.output
    assert "Traceback" not in result.output


def test_smtp_url_forms() -> None:
    assert parse_smtp_url("smtps://a%40b:p%3Ass@mail.example").port == 465
    server = parse_smtp_url("smtp://a%40b:p%3Ass@mail.example")
    assert (server.port, server.user, server.password) == (587, "a@b", "p:ss")


def test_unreachable_mail_server_stops_the_start(tmp_path: Path, runner: CliRunner) -> None:
    from kb import create_app

    port = free_port()
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "WEBHOOK_TIMEOUT": 1.0,
              "SMTP_URL": f"smtp://127.0.0.1:{port}", "TICKET_EMAIL_TO": "desk@help.example",
              "TICKET_EMAIL_FROM": "help@driftbox.example"}
    started = time.monotonic()
    with pytest.raises(SettingsError, match=f"KB_SMTP_URL: cannot use the mail server "
                                            f"smtp://127.0.0.1:{port}"):
        create_app(config)
    assert time.monotonic() - started < 10
    without_to = {**config, "TICKET_EMAIL_TO": ""}
    with pytest.raises(SettingsError, match="KB_TICKET_EMAIL_TO must be an email address"):
        create_app(without_to)
    result = runner.invoke(main, ["tickets", "send"], env={
        "KB_SMTP_URL": f"smtp://127.0.0.1:{port}", "KB_TICKET_EMAIL_TO": "desk@help.example",
        "KB_TICKET_EMAIL_FROM": "help@driftbox.example"})
    assert result.exit_code == 1 and "KB_SMTP_URL: cannot use the mail server" in result.output


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_service_mails_a_ticket_and_the_admin_api_shows_a_refusal(
        tmp_path: Path, database_url: str, sample_index: Path, fake_model: str) -> None:
    from kb import create_app
    from tests.support.app import app_config

    server = MailServer(free_port(), password="right")
    server.start()
    token = {"Authorization": "Bearer s3cret-token"}
    mail = {"SMTP_URL": f"smtp://desk:right@127.0.0.1:{server.port}",
            "TICKET_EMAIL_TO": "desk@help.example", "TICKET_EMAIL_FROM": "help@driftbox.example",
            "WEBHOOK_TIMEOUT": TIMEOUT}
    ticket = {"email": "anna@example.se", "subject": "Kan inte logga in", "message": "Hjälp!",
              "lang": "sv", "suggestions_shown": ["sv/reset-password"]}
    try:
        app = create_app(app_config(tmp_path, database_url, sample_index, fake_model, **mail))
        client = app.test_client()
        created = client.post("/api/v1/tickets", json=ticket)
        assert created.status_code == 201
        assert eventually(lambda: server.received)
        assert server.received[0]["Reply-To"] == "anna@example.se"
        services(app).database.dispose()

        # The password changed on the mail server after the service started.
        server.password = "changed"
        created = client.post("/api/v1/tickets", json=ticket).get_json()["id"]

        def failed() -> list:
            listed = client.get("/api/v1/admin/tickets?failed=true", headers=token).get_json()
            return listed["tickets"]
        [shown] = eventually(failed)
        assert shown["id"] == created and shown["state"] == "failed"
        assert "535" in shown["last_error"]
        assert shown["deliveries"][0]["channel"] == "email"
        server.password = "right"  # the operator fixes it, then re-sends
        resent = client.post(f"/api/v1/admin/tickets/{created}/resend", headers=token)
        assert resent.status_code == 200 and resent.get_json() == {"resent": 1}
        assert eventually(lambda: len(server.received) == 2)
        again = client.post(f"/api/v1/admin/tickets/{created}/resend", headers=token)
        assert again.status_code == 409 and again.get_json()["error"]["message"]
        assert client.post("/api/v1/admin/tickets/999/resend", headers=token).status_code == 404
        services(app).database.dispose()
    finally:
        server.stop()


def test_gunicorn_stops_at_start_naming_the_setting(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.support.articles import REPO

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("KB_")},
           "KB_INSTANCE_PATH": str(tmp_path / "instance"), "KB_BIND": f"127.0.0.1:{free_port()}",
           "KB_SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "KB_WEBHOOK_TIMEOUT": "1",
           "KB_TICKET_EMAIL_TO": "desk@help.example",
           "KB_TICKET_EMAIL_FROM": "help@driftbox.example"}
    started = subprocess.run([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                              "wsgi:app"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert started.returncode != 0
    assert "kb: KB_SMTP_URL: cannot use the mail server" in started.stderr
    assert "Traceback" not in started.stderr


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_tls_starttls_when_offered_or_from_the_first_byte(
        db: Database, server_tls: ssl.SSLContext, scheme: str) -> None:
    # The STARTTLS server takes no login and no mail before TLS: a delivery proves it was used.
    server = MailServer(free_port(), password="right", tls=server_tls,
                        implicit_tls=scheme == "smtps")
    server.start()
    try:
        channels = configured_channels(settings_for(server.port, "desk", "right", scheme),
                                       check_mail_server=True)
        add_ticket(db, channels)
        assert deliver_due(db, channels, TIMEOUT).delivered == 1
    finally:
        server.stop()
    assert len(server.received) == 1
