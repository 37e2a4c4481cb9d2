from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from kb.services import services
from tests.support.app import app_config


@pytest.fixture
def app(tmp_path: Path, sample_index: Path, fake_model: str) -> Flask:
    """The app on SQLite: what the factory does is the same on any database."""
    return create_app(app_config(tmp_path, f"sqlite:///{tmp_path / 'kb.sqlite3'}", sample_index,
                                 fake_model))


def test_root_points_to_the_api(client: FlaskClient) -> None:
    data = client.get("/").get_json()
    assert data["openapi"] == "/api/v1/openapi.json"


def test_unknown_url_answers_in_the_json_error_shape(client: FlaskClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.is_json
    assert set(response.get_json()["error"]) == {"code", "message", "details"}


def test_unexpected_error_is_json_without_a_stack_trace(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_server_error"


def test_services_are_built_once_and_can_be_given(app: Flask, tmp_path: Path,
                                                   sample_index: Path, fake_model: str) -> None:
    built = services(app)
    assert built.live_index.current() is not None and built.database.reachable()
    # Another app over the same services: nothing is built again, every view uses them.
    again = create_app(app_config(tmp_path / "other", "sqlite:///unused.sqlite3", sample_index,
                                  fake_model), ready=built)
    assert services(again) is built
    assert not (tmp_path / "other" / "instance" / "kb.sqlite3").exists()
    health = again.test_client().get("/api/v1/health").get_json()
    assert health["index_build"] == built.live_index.current().build_name


@pytest.mark.parametrize("name", ["kb-widget.js", "kb-widget.css"])
def test_widget_files_are_served_compressed_to_browsers_that_accept_it(client: FlaskClient,
                                                                       name: str) -> None:
    import gzip

    from kb.catalog import WIDGET_DIR

    original = (WIDGET_DIR / name).read_bytes()
    packed = client.get(f"/widget/{name}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == original
    assert len(packed.data) < len(original) / 2
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert packed.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in packed.headers["Cache-Control"]
    again = client.get(f"/widget/{name}", headers={"Accept-Encoding": "gzip",
                                                   "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    plain = client.get(f"/widget/{name}")
    assert "Content-Encoding" not in plain.headers and plain.data == original
    assert plain.headers["ETag"] != packed.headers["ETag"]
    assert "Accept-Encoding" in plain.headers["Vary"]
