"""Tickets to a help desk by email: the message an agent triages, and sending it over SMTP.

Almost every help desk (and every shared inbox) takes tickets by email. The mail comes from the
service's own address with `Reply-To:` the customer, so an agent's reply reaches them; its
`Message-ID` is derived from the ticket, so a delivery retried after a crash is recognisably the
same mail and a help desk that deduplicates drops it.
"""

from __future__ import annotations

import datetime as dt
import html
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

SCHEMES = {"smtp": 587, "smtps": 465}
LANGUAGE_NAMES = {"en": "English", "sv": "Swedish", "ru": "Russian"}


class PermanentFailure(Exception):
    """The receiver refused the delivery for good (5xx, bad credentials): retrying will not help
    until an operator fixes a setting and re-sends."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to hand mail over, from `KB_SMTP_URL`."""

    scheme: str
    host: str
    port: int
    user: str = ""
    password: str = ""

    @property
    def address(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://user:pass@host:port` or `smtps://...`; ValueError says what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL like smtp://user:password@host:587 ({exc})") from None
    if parts.scheme not in SCHEMES:
        raise ValueError("use smtp://user:password@host:587 (STARTTLS when offered) or "
                         "smtps://user:password@host:465")
    if not parts.hostname:
        raise ValueError("the URL names no mail server host")
    return SmtpServer(parts.scheme, parts.hostname, port or SCHEMES[parts.scheme],
                      unquote(parts.username or ""), unquote(parts.password or ""))


@dataclass(frozen=True)
class MailSettings:
    """Everything sending a ticket by email needs."""

    server: SmtpServer
    to: str
    sender: str
    article_url: str = "/help/{lang}/{slug}"


def mail_settings(settings: dict[str, Any]) -> MailSettings | None:
    """The email channel as configured, None when it is off; ValueError names a missing or
    malformed setting."""
    if not settings["SMTP_URL"]:
        return None
    for name in ("TICKET_EMAIL_TO", "TICKET_EMAIL_FROM"):
        if "@" not in parseaddr(settings[name])[1]:
            raise ValueError(f"KB_{name} must be an email address when KB_SMTP_URL is set "
                             f"(got {settings[name]!r})")
    try:
        server = parse_smtp_url(settings["SMTP_URL"])
    except ValueError as exc:
        raise ValueError(f"KB_SMTP_URL is not valid: {exc}") from None
    return MailSettings(server, settings["TICKET_EMAIL_TO"], settings["TICKET_EMAIL_FROM"],
                        settings["ARTICLE_URL"])


def article_link(article_id: str, article_url: str, page_url: str | None) -> str:
    """Where an agent can read a suggested article: KB_ARTICLE_URL, made absolute against the
    page the customer wrote from (the help center is usually on the same site)."""
    lang, _, slug = article_id.partition("/")
    link = article_url.format(lang=lang, slug=slug)
    return urljoin(page_url, link) if page_url and not urlsplit(link).scheme else link


def message_id(ticket: dict[str, Any], sender: str) -> str:
    """The same for every delivery of one ticket (its id and creation time)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    created = (ticket.get("created_at") or "").replace(":", "").replace("+", "")
    return f"<ticket-{ticket['id']}.{created}@{domain}>"


def compose(ticket: dict[str, Any], mail: MailSettings) -> EmailMessage:
    """The ticket as a plain-text and HTML email an agent can triage and answer."""
    lang = ticket.get("lang") or "?"
    language = f"{LANGUAGE_NAMES.get(lang, lang)} ({lang})"
    opened = list(ticket.get("suggestions_opened") or [])
    shown = list(ticket.get("suggestions_shown") or [])
    suggestions = [(a, article_link(a, mail.article_url, ticket.get("page_url")), a in opened)
                   for a in dict.fromkeys(shown + opened)]
    message = EmailMessage()
    # A header may not contain a line break; a customer's subject may.
    subject = " ".join(str(ticket["subject"]).split())
    message["Subject"] = f"[{lang}] {subject} (ticket #{ticket['id']})"
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Reply-To"] = ticket["email"]
    message["Message-ID"] = message_id(ticket, mail.sender)
    created = ticket.get("created_at")
    if created:
        message["Date"] = format_datetime(dt.datetime.fromisoformat(created))
    message["X-Driftbox-Ticket"] = str(ticket["id"])

    text = [f"From: {ticket['email']}", f"Language: {language}"]
    if ticket.get("page_url"):
        text.append(f"Page: {ticket['page_url']}")
    text += ["", ticket["message"], ""]
    text.append(f"Suggested answers (shown {len(shown)}, opened {len(opened)}):"
                if suggestions else "No answer was suggested.")
    text += [f"- {a}{' (opened)' if was_opened else ''}: {link}"
             for a, link, was_opened in suggestions]
    message.set_content("\n".join(text) + "\n")

    rows = "".join(
        f'<li><a href="{html.escape(link)}">{html.escape(a)}</a>'
        f'{" <strong>(opened)</strong>" if was_opened else ""}</li>'
        for a, link, was_opened in suggestions)
    page = (f'<br>Page: <a href="{html.escape(ticket["page_url"])}">'
            f'{html.escape(ticket["page_url"])}</a>' if ticket.get("page_url") else "")
    message.add_alternative(
        f"<!doctype html><html><body>"
        f"<p>From: {html.escape(ticket['email'])}<br>Language: {html.escape(language)}{page}</p>"
        f'<div style="white-space: pre-wrap">{html.escape(ticket["message"])}</div>'
        + (f"<p>Suggested answers (shown {len(shown)}, opened {len(opened)}):</p><ul>{rows}</ul>"
           if suggestions else "<p>No answer was suggested.</p>")
        + "</body></html>", subtype="html")
    return message


def _connect(server: SmtpServer, timeout: float) -> smtplib.SMTP:
    """A session ready to send: TLS (STARTTLS when offered) and logged in if the URL has a user."""
    context = ssl.create_default_context()
    if server.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                              context=context)
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
    try:
        smtp.ehlo()
        if server.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.user:
            smtp.login(server.user, server.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _refused_for_good(exc: Exception) -> bool:
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError)):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", 0)
    return isinstance(code, int) and code >= 500


def send_ticket(mail: MailSettings, ticket: dict[str, Any], timeout: float) -> None:
    """Hand the ticket's mail to the server; PermanentFailure for a refusal retrying will not
    fix, any other exception for one it may."""
    try:
        message = compose(ticket, mail)
    except (ValueError, TypeError, KeyError) as exc:
        raise PermanentFailure(f"cannot write the mail for this ticket: {exc}") from exc
    try:
        smtp = _connect(mail.server, timeout)
        try:
            smtp.send_message(message, from_addr=parseaddr(mail.sender)[1],
                              to_addrs=[parseaddr(mail.to)[1]])
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except smtplib.SMTPException as exc:
        if _refused_for_good(exc):
            raise PermanentFailure(f"{mail.server.address} refused: {_describe(exc)}") from exc
        raise


def _describe(exc: Exception) -> str:
    code, text = getattr(exc, "smtp_code", None), getattr(exc, "smtp_error", None)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}" if code else f"{type(exc).__name__}: {exc}"


def check_server(mail: MailSettings, timeout: float) -> None:
    """Connect and log in once, at start, so a wrong host or password is found now rather than
    with the first customer's ticket; ValueError names KB_SMTP_URL."""
    try:
        _connect(mail.server, timeout).quit()
    except (OSError, smtplib.SMTPException) as exc:
        raise ValueError(f"KB_SMTP_URL: cannot use the mail server {mail.server.address}: "
                         f"{_describe(exc)}") from None

