from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from tests.conftest import SAMPLE_ARTICLES


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "ARTICLES_DIR": str(SAMPLE_ARTICLES)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_health_counts_published_articles(client: FlaskClient) -> None:
    data = client.get("/api/v1/health").get_json()
    assert data["status"] == "ok"
    assert data["articles"] == {"en": 23, "sv": 20, "ru": 20}


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
