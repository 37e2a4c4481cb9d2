"""POST /admin/reindex on one replica reaches the others through the shared database.

Two apps in this process stand in for two hosts: each has its own instance folder and articles
folder, and both use one database file, as replicas share one PostgreSQL (the two-process
version on PostgreSQL and Redis is tests/system/test_multi_host.py).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from flask import Flask

from kb import create_app
from kb.searcher import build_and_publish
from kb.services import services
from kb.settings import load_settings
from tests.support.app import app_config
from tests.support.articles import write_small_help_center

TOKEN = {"Authorization": "Bearer s3cret-token"}
NEW_TITLE = "Cancel and get your money back"


def _host(root: Path, database_url: str, model: str, index_dir: Path | None = None) -> Flask:
    """A host with its own articles and instance folder; its index built at deploy (kb index),
    unless it serves `index_dir` shared with another host."""
    articles = write_small_help_center(root / "articles")
    if index_dir is None:
        settings = load_settings(environ={}, overrides={
            "INSTANCE_PATH": str(root / "instance"), "MODEL": model, "LANGUAGES": ["en"],
            "ARTICLES_DIR": str(articles), "CACHE_DIR": str(root / "cache")})
        build_and_publish(settings)
        index_dir = Path(settings["INDEX_DIR"])
    return create_app(app_config(root, database_url, index_dir, model, LANGUAGES=["en"],
                                 ARTICLES_DIR=str(articles)))


def _reindex(app: Flask) -> dict:
    client = app.test_client()
    assert client.post("/api/v1/admin/reindex", headers=TOKEN).status_code == 202
    deadline = time.monotonic() + 30
    while (state := client.get("/api/v1/admin/reindex", headers=TOKEN).get_json())["status"] \
            == "running":
        assert time.monotonic() < deadline, "the reindex did not finish"
        time.sleep(0.05)
    assert state["status"] == "done", state
    return state


def _serves(app: Flask, identity: str) -> bool:
    """Whether the app has swapped in the build with `identity` within a few seconds."""
    client = app.test_client()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if client.get("/api/v1/health").get_json().get("index_identity") == identity:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


def test_a_reindex_on_one_host_is_followed_by_the_other(
        tmp_path: Path, database_file: str, fake_model: str) -> None:
    first = _host(tmp_path / "a", database_file, fake_model)
    second = _host(tmp_path / "b", database_file, fake_model)
    before = second.test_client().get("/api/v1/health").get_json()["index_identity"]
    for host in ("a", "b"):  # a deploy brings the edited article to every host
        write_small_help_center(tmp_path / host / "articles", refund_title=NEW_TITLE)
    state = _reindex(first)
    assert state["replicas_told"] is True and state["identity"] != before
    follower = services(second).follower
    assert follower.check() == "rebuilt"
    assert follower.check() == "up to date"  # acted on once
    assert _serves(second, state["identity"])
    found = second.test_client().get("/api/v1/search?q=refund").get_json()["results"]
    assert found[0]["title"] == NEW_TITLE
    assert services(first).follower.check() == "up to date"  # it built it
    for app in (first, second):
        services(app).database.dispose()


def test_hosts_sharing_one_index_folder_do_not_rebuild(
        tmp_path: Path, database_file: str, fake_model: str) -> None:
    first = _host(tmp_path / "a", database_file, fake_model)
    shared_index = Path(first.config["INDEX_DIR"])
    second = _host(tmp_path / "b", database_file, fake_model, index_dir=shared_index)
    write_small_help_center(tmp_path / "a" / "articles", refund_title=NEW_TITLE)
    state = _reindex(first)
    assert services(second).follower.check() == "already serving it"
    assert _serves(second, state["identity"])
    assert not (tmp_path / "b" / "cache").exists()  # nothing was embedded on the second host
    for app in (first, second):
        services(app).database.dispose()


def test_a_host_with_other_articles_rebuilds_once_and_says_so(
        tmp_path: Path, database_file: str, fake_model: str,
        caplog: pytest.LogCaptureFixture) -> None:
    first = _host(tmp_path / "a", database_file, fake_model)
    second = _host(tmp_path / "b", database_file, fake_model)
    write_small_help_center(tmp_path / "a" / "articles", refund_title=NEW_TITLE)  # not on b
    _reindex(first)
    follower = services(second).follower
    with caplog.at_level(logging.ERROR, logger="kb.reindex"):
        assert follower.check() == "rebuilt, still different"
    assert any("same articles and model" in r.message for r in caplog.records)
    assert follower.check() == "up to date"  # no rebuild on every check
    for app in (first, second):
        services(app).database.dispose()


def test_a_new_host_starts_from_its_own_build(
        tmp_path: Path, database_file: str, fake_model: str) -> None:
    first = _host(tmp_path / "a", database_file, fake_model)
    write_small_help_center(tmp_path / "a" / "articles", refund_title=NEW_TITLE)
    state = _reindex(first)
    # Deployed later, from its own (here: older) articles: earlier reindexes are history.
    later = _host(tmp_path / "c", database_file, fake_model)
    assert services(later).follower.check() == "up to date"
    health = later.test_client().get("/api/v1/health").get_json()
    assert health["index_identity"] != state["identity"]
    for app in (first, later):
        services(app).database.dispose()
