"""The PostgreSQL and Redis servers the tests talk to: where they are, and skipping without them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_URL = os.environ.get("KB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_or_skip() -> None:
    """Skip PostgreSQL tests when no server runs here; under CI a missing server is a failure."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        message = (f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}); "
                   "these tests ran on SQLite only. Set KB_TEST_POSTGRES_URL to run them.")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


REDIS_URL = os.environ.get("KB_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def redis_or_skip() -> None:
    """Skip Redis tests when no server runs here; under CI a missing server is a failure."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        message = (f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}); what is shared "
                   "through Redis is untested. Set KB_TEST_REDIS_URL to run these tests.")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def postgres_schema(prefix: str = "kb_test") -> Iterator[str]:
    """A fresh, empty schema on the test server, dropped afterwards; yields its name."""
    import sqlalchemy

    postgres_or_skip()
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_url(schema: str) -> str:
    """The test server's URL with `schema` as the only search path."""
    return f"{PG_URL}?options=-csearch_path%3D{schema}"
