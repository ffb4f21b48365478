"""The NLU result cache: exact normalized text → frame.

L1 is an in-process TTL LRU; L2 is Redis (5-minute TTL). Keys carry the model version, so a new
model never serves an old model's answers. Redis failures degrade to a miss (and the level is
skipped for a cool-down instead of timing out on every request); they never raise.
"""

from __future__ import annotations

import hashlib
import json
import logging

from infra.memory_cache import LRUCache

log = logging.getLogger(__name__)

TTL_SECONDS = 300


class TTLCache(LRUCache):
    """L1 of the NLU cache: the shared in-process LRU, with the NLU's 5-minute default TTL."""

    def __init__(self, maxsize: int = 10_000, ttl: float = TTL_SECONDS):
        super().__init__(maxsize=maxsize, ttl_s=ttl)


def text_key(normalized: str, model_version: str) -> str:
    digest = hashlib.sha1(normalized.encode("utf-8")).hexdigest()
    return f"{model_version}:{digest}"


class RedisCache:
    """L2: JSON frames in Redis under ``naviyam:nlu:<model_version>:<sha1>`` with a TTL."""

    def __init__(self, client=None, ttl: int = TTL_SECONDS):
        self._client = client
        self.ttl = ttl
        from infra.redis_client import cache_breaker  # noqa: PLC0415

        self.breaker = cache_breaker(shared=client is None)

    @property
    def client(self):
        if self._client is None:
            from infra.redis_client import get_redis  # noqa: PLC0415

            self._client = get_redis()
        return self._client

    def _errors(self):
        from infra.redis_client import redis_errors  # noqa: PLC0415

        return redis_errors

    def get(self, key: str) -> dict | None:
        if not self.breaker.available():
            return None
        from infra.redis_client import key as rkey  # noqa: PLC0415

        try:
            raw = self.client.get(rkey("nlu", key))
        except self._errors() as exc:
            self.breaker.trip("redis", exc)
            return None
        self.breaker.success()
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (ValueError, TypeError):
            return None

    def set(self, key: str, value: dict) -> None:
        if not self.breaker.available():
            return
        from infra.redis_client import key as rkey  # noqa: PLC0415

        try:
            self.client.set(rkey("nlu", key), json.dumps(value, ensure_ascii=False), ex=self.ttl)
        except self._errors() as exc:
            self.breaker.trip("redis", exc)
            return
        self.breaker.success()
