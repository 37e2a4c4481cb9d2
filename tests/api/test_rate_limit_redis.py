"""Rate limits shared by several workers through Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

from kb import create_app
from kb.services import services
from tests.support.app import app_config
from tests.support.databases import redis_or_skip, REDIS_URL


def test_two_workers_share_one_limit(tmp_path: Path, sample_index: Path, fake_model: str) -> None:
    redis_or_skip()
    prefix = f"kb-test-{uuid.uuid4().hex[:8]}"
    apps = [create_app(app_config(tmp_path / str(n), f"sqlite:///{tmp_path / f'{n}.sqlite3'}",
                                  sample_index, fake_model, RATE_LIMIT_SEARCH="3/minute",
                                  RATELIMIT_STORAGE_URL=REDIS_URL, REDIS_KEY_PREFIX=prefix))
            for n in range(2)]
    first, second = (app.test_client() for app in apps)
    codes = [first.get("/api/v1/search?q=refund").status_code for _ in range(2)]
    codes += [second.get("/api/v1/search?q=refund").status_code for _ in range(2)]
    assert codes == [200, 200, 200, 429]
    for app in apps:
        services(app).database.dispose()
