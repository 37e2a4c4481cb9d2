"""Search answers shared through Redis by every worker and host, behind each worker's own cache.

Keys carry the index's content identity (see `SearchEngine`), so a new build is never answered
from an older one's entries; the TTL only bounds memory. Redis is an optimisation here: when it
cannot be reached the service searches without it, says so once in the log, and tries again a
little later rather than adding a timeout to every request.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import redis

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.25  # Redis answers in well under a millisecond on a working network
RETRY_AFTER_SECONDS = 10.0


class RedisSearchCache:
    """The engine's shared cache level (`search.engine.SharedCache`) in Redis."""

    def __init__(self, url: str, prefix: str, ttl_seconds: int):
        self.prefix = f"{prefix}:search:"
        self.ttl_seconds = ttl_seconds
        self._client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS,
                                            socket_timeout=TIMEOUT_SECONDS)
        self._lock = threading.Lock()
        self._down_until = 0.0

    def get(self, key: str) -> Mapping[str, Any] | None:
        if self._resting():
            return None
        try:
            raw = self._client.get(self.prefix + key)
        except redis.RedisError as exc:
            self._went_down(exc)
            return None
        self._came_back()
        if raw is None:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        if self._resting():
            return
        try:
            self._client.set(self.prefix + key, json.dumps(value, ensure_ascii=False),
                             ex=self.ttl_seconds)
        except redis.RedisError as exc:
            self._went_down(exc)
            return
        self._came_back()

    def _resting(self) -> bool:
        return time.monotonic() < self._down_until

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
        if first:
            log.warning("shared search cache unreachable (%s: %s); searching without it and "
                        "trying again every %.0f s", type(exc).__name__, exc, RETRY_AFTER_SECONDS)

    def _came_back(self) -> None:
        if self._down_until == 0.0:
            return
        with self._lock:
            self._down_until = 0.0
        log.info("shared search cache reachable again")
