"""The Redis connection: one client per process, built from the settings.

Callers treat Redis as a cache level that may vanish: wrap calls in ``redis_errors`` and fall
through to the next level instead of failing the request.
"""

from __future__ import annotations

import threading

import redis

from infra.settings import get_settings

redis_errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def get_redis(url: str | None = None) -> redis.Redis:
    url = url or get_settings().redis_url
    with _lock:
        client = _clients.get(url)
        if client is None:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=0.5, socket_timeout=0.5, health_check_interval=30
            )
            _clients[url] = client
        return client


def key(*parts: object) -> str:
    """A namespaced Redis key: ``naviyam:<part>:<part>``."""
    return get_settings().redis_key_prefix + ":".join(str(p) for p in parts)


def reset_clients() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
