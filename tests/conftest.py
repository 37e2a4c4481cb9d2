"""Shared fixtures: article folders in tmp_path, the CLI runner, the Flask app."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from click.testing import CliRunner

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = REPO / "articles"

WriteArticle = Callable[..., Path]


def article_text(title: str | None = "Reset your password", *,
                 summary: str | None = "Ask for a reset link and choose a new password.",
                 body: str = "Short intro.\n\n## Steps\n\n1. Click Sign in.\n2. Click Forgot password.\n",
                 **fields: object) -> str:
    """Markdown with front matter; a field set to None is left out."""
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {title}")
    if summary is not None:
        lines.append(f"summary: {summary}")
    for name, value in fields.items():
        if value is not None:
            lines.append(f"{name}: {value}")
    lines.append("---")
    return "\n".join(lines) + "\n\n" + textwrap.dedent(body)


def write_small_help_center(root: Path, refund_title: str = "Cancel and get a refund") -> Path:
    """Three English articles in `root/en`, the refund article's title chosen (to edit it)."""
    (root / "en").mkdir(parents=True, exist_ok=True)
    articles = {
        "cancel-and-refund": (refund_title, "Cancel any time; refunds within 14 days.",
                              "## Refunds\n\nAsk for a refund within 14 days of paying.\n"),
        "reset-password": ("Reset your password", "Forgot your password? Get a reset link.",
                           "## Steps\n\nClick Forgot password and follow the email link.\n"),
        "linux-command-line": ("Use Driftbox from the Linux terminal",
                               "Install the command-line client.",
                               "## Install\n\nInstall the package, then run driftbox login.\n"),
    }
    for slug, (title, summary, body) in articles.items():
        (root / "en" / f"{slug}.md").write_text(article_text(title, summary=summary, body=body),
                                                encoding="utf-8")
    return root


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    root = tmp_path / "articles"
    for lang in ("en", "sv", "ru"):
        (root / lang).mkdir(parents=True)
    return root


@pytest.fixture
def write_article(articles_dir: Path) -> WriteArticle:
    """write_article("en", "reset-password", text=None, **front_matter) -> path."""

    def write(lang: str, slug: str, text: str | bytes | None = None, **kwargs: object) -> Path:
        path = articles_dir / lang / f"{slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        content = article_text(**kwargs) if text is None else text
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A CLI runner whose settings come only from defaults (no developer's instance config)."""
    for name in list(os.environ):
        if name.startswith("KB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KB_INSTANCE_PATH", str(tmp_path / "instance"))
    return CliRunner()


# --- The web service -------------------------------------------------------------------------

PG_URL = os.environ.get("KB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_or_skip() -> None:
    """Skip PostgreSQL tests when no server runs here; under CI a missing server is a failure."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        message = (f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); "
                   "these tests ran on SQLite only. Set KB_TEST_POSTGRES_URL to run them.")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


REDIS_URL = os.environ.get("KB_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_or_skip() -> None:
    """Skip Redis tests when no server runs here; under CI a missing server is a failure."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        message = (f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}); what is shared "
                   "through Redis is untested. Set KB_TEST_REDIS_URL to run these tests.")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh, empty database of each supported kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kb.sqlite3'}"
        return
    _postgres_or_skip()
    import uuid

    import sqlalchemy

    schema = f"kb_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def fake_model() -> str:
    """Register the fast fake embedder under a model name the app can be configured with."""
    import kb.searcher
    from tests.fakes import FakeEmbedder

    kb.searcher._EMBEDDERS["fake"] = FakeEmbedder("fake")
    return "fake"


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, fake_model: str) -> Path:
    """The sample help center indexed once with the fake model; returns the index link."""
    from kb.searcher import build_and_publish
    from kb.settings import load_settings

    instance = tmp_path_factory.mktemp("shared-instance")
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(instance), "MODEL": fake_model, "ARTICLES_DIR": str(SAMPLE_ARTICLES)})
    build_and_publish(settings)
    return Path(settings["INDEX_DIR"])


def app_config(tmp_path: Path, database_url: str, index_dir: Path, model: str,
               **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
        "ARTICLES_DIR": str(SAMPLE_ARTICLES), "DATABASE_URL": database_url,
        "INDEX_DIR": str(index_dir), "CACHE_DIR": str(tmp_path / "cache"), "MODEL": model,
        "ADMIN_TOKEN": "s3cret-token", "CORS_ORIGINS": ["https://shop.example"],
        "RATE_LIMIT_SEARCH": "1000/minute", "RATE_LIMIT_WRITE": "1000/minute",
        "OUTBOX_INTERVAL": 0.0, "WEBHOOK_URL": "", "RELOAD_CHECK_SECONDS": 0.0,
    }
    config.update(overrides)
    return config


def eventually(check: Callable[[], T], timeout: float = 10.0) -> T:
    """Poll `check()` until it is truthy or `timeout` seconds pass; its last value."""
    import time

    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value
