"""Shared fixtures: article folders in tmp_path, the CLI runner, databases, the fake model and
the sample index. Helpers that are not fixtures live in `tests/support/`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from tests.support.articles import SAMPLE_ARTICLES, WriteArticle, article_text
from tests.support.databases import postgres_schema, schema_url

if TYPE_CHECKING:
    from kb.db import Database


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

@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh, empty database of each supported kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kb.sqlite3'}"
        return
    with postgres_schema() as schema:
        yield schema_url(schema)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated, empty database of each supported kind."""
    from kb.db import Database

    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def fake_model() -> str:
    """Register the fast fake embedder under a model name the app can be configured with."""
    from kb.searcher import use_model
    from tests.support.fakes import FakeEmbedder

    use_model("fake", FakeEmbedder("fake"))
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




@pytest.fixture(scope="session")
def site_index(tmp_path_factory: pytest.TempPathFactory, fake_model: str) -> tuple[Path, Path]:
    """(articles folder, index link) of the sample help center with drafts, indexed once."""
    from kb.searcher import build_and_publish
    from kb.settings import load_settings
    from tests.support.site import write_site_articles

    tmp = tmp_path_factory.mktemp("site-instance")
    root = write_site_articles(tmp / "articles")
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp / "instance"), "MODEL": fake_model, "ARTICLES_DIR": str(root)})
    build_and_publish(settings)
    return root, Path(settings["INDEX_DIR"])

