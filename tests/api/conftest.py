"""The app under test, on SQLite and on PostgreSQL, with the sample index and the fake model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import create_app
from kb.services import services
from tests.support.app import app_config


@pytest.fixture
def app(tmp_path: Path, database_url: str, sample_index: Path, fake_model: str) -> Iterator[Flask]:
    app = create_app(app_config(tmp_path, database_url, sample_index, fake_model))
    yield app
    services(app).database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
