"""Property-based fuzzing of the API from its own OpenAPI document: no 5xx, one error shape."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from kb import create_app  # noqa: E402
from tests.support.app import app_config

pytestmark = pytest.mark.slow


def _app():  # type: ignore[no-untyped-def]
    import tempfile

    from kb.searcher import build_and_publish, use_model
    from kb.settings import load_settings
    from tests.support.articles import SAMPLE_ARTICLES
    from tests.support.fakes import FakeEmbedder

    use_model("fake", FakeEmbedder("fake"))
    tmp = Path(tempfile.mkdtemp(prefix="kb-fuzz-"))
    configured = load_settings(environ={}, overrides={
        "INSTANCE_PATH": str(tmp / "shared"), "MODEL": "fake", "ARTICLES_DIR": str(SAMPLE_ARTICLES)})
    build_and_publish(configured)
    return create_app(app_config(tmp, f"sqlite:///{tmp / 'fuzz.sqlite3'}",
                                 Path(configured["INDEX_DIR"]), "fake",
                                 RATE_LIMIT_SEARCH="100000/minute",
                                 RATE_LIMIT_WRITE="100000/minute", RATE_LIMIT_EVENTS="100000/minute"))


APP = _app()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "40"))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_keeps_the_error_shape(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
    if response.status_code >= 400:
        body = response.json()
        assert set(body["error"]) == {"code", "message", "details"}, body
