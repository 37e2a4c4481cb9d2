"""A rebuilt index is picked up while requests are served: no failed request, no restart."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from flask import Flask

from kb import create_app
from kb.searcher import build_and_publish
from kb.services import services
from kb.settings import load_settings
from tests.support.app import app_config
from tests.support.articles import SAMPLE_ARTICLES


def serving_a_copy_of_the_samples(tmp_path: Path, fake_model: str
                                  ) -> tuple[Path, dict, Flask]:
    """The sample articles copied to `tmp_path`, indexed and served by an app: (articles
    folder, settings, app)."""
    articles = tmp_path / "articles"
    shutil.copytree(SAMPLE_ARTICLES, articles)
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp_path / "i"), "MODEL": fake_model, "ARTICLES_DIR": str(articles)})
    build_and_publish(settings)
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                Path(settings["INDEX_DIR"]), fake_model,
                                ARTICLES_DIR=str(articles),
                                RATE_LIMIT_SEARCH="10000000/minute"))
    return articles, settings, app


def test_index_swap_while_serving(tmp_path: Path, fake_model: str) -> None:
    import time

    articles, settings, app = serving_a_copy_of_the_samples(tmp_path, fake_model)
    client = app.test_client()
    first_build = client.get("/api/v1/health").get_json()["index_built_at"]
    statuses: list[int] = []
    stop = threading.Event()

    def customer() -> None:
        local = app.test_client()
        while not stop.is_set():
            statuses.append(local.get("/api/v1/search?q=refund").status_code)

    customers = [threading.Thread(target=customer) for _ in range(3)]
    for thread in customers:
        thread.start()
    # A writer adds an article and the index is rebuilt while customers search.
    (articles / "en" / "brand-new.md").write_text(
        "---\ntitle: Brand new gizmo\nsummary: All about the gizmo.\n---\nGizmo details.\n")
    time.sleep(1.1)  # build times have one-second resolution in the manifest
    build_and_publish(settings)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if client.get("/api/v1/health").get_json()["index_built_at"] != first_build:
            break
        time.sleep(0.05)
    stop.set()
    for thread in customers:
        thread.join()
    assert statuses and set(statuses) == {200}
    assert client.get("/api/v1/health").get_json()["articles"]["en"] == 24
    found = client.get("/api/v1/search?q=gizmo").get_json()["results"]
    assert found[0]["slug"] == "brand-new"
    assert client.get("/api/v1/articles/brand-new").status_code == 200
    services(app).database.dispose()


def test_broken_new_index_keeps_the_last_good_one(tmp_path: Path, fake_model: str,
                                                  sample_index: Path) -> None:
    import json

    link = tmp_path / "index"
    link.symlink_to(sample_index.resolve())
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", link,
                                fake_model))
    client = app.test_client()
    assert client.get("/api/v1/search?q=refund").status_code == 200
    broken = tmp_path / "broken-build"
    broken.mkdir()
    (broken / "manifest.json").write_text(json.dumps({"format_version": 99}))
    link.unlink()
    link.symlink_to(broken)
    for _ in range(20):
        assert client.get("/api/v1/search?q=refund").status_code == 200
    services(app).database.dispose()


def test_missing_index_answers_503_in_the_error_shape(tmp_path: Path, fake_model: str) -> None:
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                tmp_path / "nothing", fake_model))
    response = app.test_client().get("/api/v1/search?q=refund")
    assert response.status_code == 503
    assert "kb index" in response.get_json()["error"]["message"]
    services(app).database.dispose()


def test_corrupt_published_index_at_start_serves_the_last_good_build(
        tmp_path: Path, fake_model: str) -> None:
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp_path / "i"), "MODEL": fake_model,
        "ARTICLES_DIR": str(SAMPLE_ARTICLES)})
    build_and_publish(settings)
    newest = build_and_publish(settings).report.path
    (newest / "chunk_vectors.faiss").write_bytes(b"damaged on disk")
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                Path(settings["INDEX_DIR"]), fake_model))
    client = app.test_client()
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/search?q=refund").get_json()["results"]
    services(app).database.dispose()


def test_loading_an_index_prepares_the_language_detector(tmp_path: Path, fake_model: str,
                                                         sample_index: Path) -> None:
    # Under gunicorn the index loads in the master: a detector built there is shared by every
    # worker, instead of costing seconds in each worker's first customer's request.
    from search.language import _detector

    _detector.cache_clear()
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}", sample_index,
                                fake_model))
    assert _detector.cache_info().currsize == 1
    services(app).database.dispose()


def test_missing_published_build_at_start_serves_the_last_good_build(
        tmp_path: Path, fake_model: str, caplog) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp_path / "i"), "MODEL": fake_model,
        "ARTICLES_DIR": str(SAMPLE_ARTICLES)})
    good = build_and_publish(settings).report.path
    shutil.rmtree(build_and_publish(settings).report.path)  # the link now points at nothing
    app = create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                Path(settings["INDEX_DIR"]), fake_model))
    client = app.test_client()
    assert client.get("/api/v1/search?q=refund").get_json()["index_build"] == good.name
    assert any("SERVING AN EARLIER INDEX" in r.message and "points at nothing" in r.message
               for r in caplog.records)
    services(app).database.dispose()


def test_articles_api_serves_the_articles_the_build_was_made_from(tmp_path: Path,
                                                                    fake_model: str) -> None:
    articles, settings, app = serving_a_copy_of_the_samples(tmp_path, fake_model)
    client = app.test_client()
    before = client.get("/api/v1/articles/cancel-and-refund?lang=en").get_json()
    # A writer edits and deletes files without re-indexing yet (or this host's folder lags
    # behind the build it was shipped): customers keep seeing what search was built from.
    source = articles / "en" / "cancel-and-refund.md"
    source.write_text(source.read_text(encoding="utf-8").replace(before["title"], "Half-edited"),
                      encoding="utf-8")
    (articles / "en" / "reset-password.md").unlink()
    services(app).live_index.load_now()
    assert client.get("/api/v1/articles/cancel-and-refund?lang=en").get_json() == before
    assert client.get("/api/v1/articles/reset-password?lang=en").get_json()["lang"] == "en"
    # Once indexed, the edit is live in search and in the articles API alike.
    build_and_publish(settings)
    services(app).live_index.load_now()
    assert client.get("/api/v1/articles/cancel-and-refund?lang=en").get_json()["title"] == \
        "Half-edited"
    assert client.get("/api/v1/articles/reset-password?lang=en").get_json()["lang"] != "en"
    services(app).database.dispose()


    services(app).database.dispose()


def test_under_gunicorn_every_worker_serves_a_new_build_within_the_documented_bound(
        tmp_path: Path, fake_model: str) -> None:
    """`kb index` publishes; no request comes for a while; then every worker answers from the
    new build. The README promises KB_RELOAD_CHECK_SECONDS (2 s by default) plus the load."""
    import json
    import time
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.gunicorn import gunicorn_service

    check_seconds, load_allowance = 2.0, 2.0
    with gunicorn_service(tmp_path, fake_model, RELOAD_CHECK_SECONDS=str(check_seconds)) as service:
        def build_served(_: int) -> str:
            return json.loads(service.request("GET", "/api/v1/health")[2])["index_build"]

        with ThreadPoolExecutor(max_workers=8) as pool:  # both workers answer, and check
            old = set(pool.map(build_served, range(16)))
        articles = Path(service.settings["ARTICLES_DIR"])
        (articles / "en" / "gizmo.md").write_text("---\ntitle: The gizmo\n---\nAll about it.\n",
                                                  encoding="utf-8")
        build_and_publish(service.settings)
        time.sleep(check_seconds + load_allowance)
        with ThreadPoolExecutor(max_workers=8) as pool:
            served = list(pool.map(build_served, range(16)))
    assert len(old) == 1 and not old & set(served), f"old build {old} still served: {served}"
    assert len(set(served)) == 1
