"""The Redis connection: one client per process, built from the settings.

Callers treat Redis as a cache level that may vanish: wrap calls in ``redis_errors`` and fall
through to the next level instead of failing the request. Every connection has connect and socket
timeouts, no retries (a retry doubles the wait on a frozen server) and feeds the process-wide
``redis`` circuit breaker (``infra.breaker``): once a call times out, the next ones fail at once
until a background probe sees Redis answer again.
"""

from __future__ import annotations

import functools
import threading

import redis
from redis.backoff import NoBackoff
from redis.connection import Connection
from redis.retry import Retry

from infra.breaker import CACHE_COOLDOWN_S, CircuitBreaker, breaker
from infra.settings import get_settings

redis_errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)

#: a cache answers in well under a millisecond; half a second of silence means it is gone
SOCKET_TIMEOUT_S = 0.5

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


class BreakerConnection(Connection):
    """A Redis connection that refuses at once while the breaker is open and trips it on a
    timeout or a lost connection."""

    def _guarded(self, call, *args, **kwargs):
        b = breaker("redis")
        if not b.allow():
            raise redis.ConnectionError("Redis unavailable (circuit open)")
        try:
            result = call(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            # the probe checks the server that failed (not the first client the process made)
            b.probe = functools.partial(_probe, host=self.host, port=self.port, db=self.db,
                                        username=self.username, password=self.password)
            b.failure()
            raise
        b.success()
        return result

    def connect(self):
        return self._guarded(super().connect)

    def send_packed_command(self, command, check_health=True):
        return self._guarded(super().send_packed_command, command, check_health)

    def read_response(self, *args, **kwargs):
        return self._guarded(super().read_response, *args, **kwargs)


def _probe(**where) -> bool:
    client = redis.Redis(**where, socket_connect_timeout=SOCKET_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S,
                         retry=Retry(NoBackoff(), 0))
    try:
        return bool(client.ping())
    finally:
        client.close()


def get_redis(url: str | None = None) -> redis.Redis:
    url = url or get_settings().redis_url
    with _lock:
        client = _clients.get(url)
        if client is None:
            kwargs = dict(socket_connect_timeout=SOCKET_TIMEOUT_S, socket_timeout=SOCKET_TIMEOUT_S,
                          health_check_interval=30, retry=Retry(NoBackoff(), 0))
            if url.startswith("redis://"):  # TLS and Unix-socket URLs keep redis-py's own connection class
                kwargs["connection_class"] = BreakerConnection
            client = redis.Redis.from_url(url, **kwargs)
            _clients[url] = client
            if url.startswith("redis://") and breaker("redis").probe is None:
                where = client.connection_pool.connection_kwargs
                breaker("redis").probe = functools.partial(_probe, **{k: where.get(k) for k in (
                    "host", "port", "db", "username", "password")})
        return client


def cache_breaker(shared: bool, cooldown_s: float = CACHE_COOLDOWN_S) -> CircuitBreaker:
    """The breaker a cache level over Redis consults: over the process's own client (``shared``) the
    one its connections feed, so every level learns of an outage together; over a client it was
    handed (a test, a private server) a private one."""
    return breaker("redis") if shared else CircuitBreaker("redis", cooldown_s=cooldown_s)


def key(*parts: object) -> str:
    """A namespaced Redis key: ``naviyam:<part>:<part>``."""
    return get_settings().redis_key_prefix + ":".join(str(p) for p in parts)


def reset_clients() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
