"""The settings of an app under test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.articles import SAMPLE_ARTICLES


def app_config(tmp_path: Path, database_url: str, index_dir: Path, model: str,
               **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
        "ARTICLES_DIR": str(SAMPLE_ARTICLES), "DATABASE_URL": database_url,
        "INDEX_DIR": str(index_dir), "CACHE_DIR": str(tmp_path / "cache"), "MODEL": model,
        "ADMIN_TOKEN": "s3cret-token", "CORS_ORIGINS": ["https://shop.example"],
        "RATE_LIMIT_SEARCH": "1000/minute", "RATE_LIMIT_WRITE": "1000/minute", "RATE_LIMIT_EVENTS": "1000/minute",
        "OUTBOX_INTERVAL": 0.0, "WEBHOOK_URL": "", "RELOAD_CHECK_SECONDS": 0.0,
    }
    config.update(overrides)
    return config


def rows(app: Any, model: type, *where: object) -> list[Any]:
    """The stored rows of `model` matching `where`, once the events still queued are written
    (searches and widget and site events are written in batches)."""
    from sqlalchemy import select

    from kb.services import services

    services(app).event_log.flush()
    with services(app).database.session() as session:
        return list(session.scalars(select(model).where(*where)))  # type: ignore[arg-type]
