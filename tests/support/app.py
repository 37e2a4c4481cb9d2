"""The settings of an app under test."""

from __future__ import annotations

from pathlib import Path

from tests.support.articles import SAMPLE_ARTICLES


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
