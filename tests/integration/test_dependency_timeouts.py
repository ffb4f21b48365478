"""A frozen or cut PostgreSQL / Redis costs one caller its time limit, then every caller fails at
once (the shared breaker), and the breaker closes by itself when the dependency answers again."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from tcp_proxy import TcpProxy  # noqa: E402

from infra.breaker import breaker  # noqa: E402

pytestmark = pytest.mark.integration


def _timed(call):
    started = time.perf_counter()
    try:
        result = call()
    except Exception as exc:
        result = exc
    return result, time.perf_counter() - started


def _wait_closed(name: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while breaker(name).state != "closed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert breaker(name).state == "closed"


def test_postgres_freeze_and_cut_fail_fast_and_recover(settings):
    from infra.db import make_engine

    if settings.pg_uses_socket:
        pytest.skip("PostgreSQL on a Unix socket: no TCP to proxy")
    proxy = TcpProxy(settings.pg_host, settings.pg_port)
    breaker("postgres").reset()
    # an engine made earlier in the process to a server that is gone since (in a full test run: an
    # earlier test's database): the breaker must probe the server that failed, not the first one it saw
    breaker("postgres").probe = None
    make_engine(f"postgresql+psycopg://{settings.pg_user}@127.0.0.1:1/postgres", deadline_s=0.3).dispose()
    engine = make_engine(f"postgresql+psycopg://{settings.pg_user}@127.0.0.1:{proxy.port}/postgres",
                         deadline_s=0.3, pool_timeout_s=0.3)

    def one():
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar()

    try:
        assert _timed(one)[0] == 1
        proxy.freeze()
        results = [_timed(one) for _ in range(5)]
        assert all(isinstance(r, Exception) for r, _ in results)
        assert results[0][1] < 1.0, "the first caller waits only its time limit"
        assert max(t for _, t in results[1:]) < 0.05, "the next callers fail at once"
        assert breaker("postgres").state == "open"
        proxy.heal()
        _wait_closed("postgres")
        assert _timed(one)[0] == 1
        proxy.cut()
        result, took = _timed(one)
        assert isinstance(result, Exception) and took < 1.0
        proxy.heal()
        _wait_closed("postgres")
        assert _timed(one)[0] == 1
    finally:
        proxy.close()
        engine.dispose()
        breaker("postgres").reset()


def test_redis_freeze_fails_fast_and_recovers(settings):
    from urllib.parse import urlparse

    import redis

    from infra.redis_client import get_redis

    url = urlparse(settings.redis_url)
    if url.scheme != "redis":
        pytest.skip("Redis not on plain TCP")
    proxy = TcpProxy(url.hostname, url.port or 6379)
    breaker("redis").reset()
    breaker("redis").probe = None
    get_redis("redis://127.0.0.1:1/0")  # a client to a server that is gone: the probe must follow the failing one
    client = get_redis(f"redis://127.0.0.1:{proxy.port}{url.path}")
    key = settings.redis_key_prefix + "timeouts-probe"
    try:
        assert _timed(lambda: client.set(key, "1", ex=30))[0] is True
        proxy.freeze()
        results = [_timed(lambda: client.get(key)) for _ in range(5)]
        assert all(isinstance(r, redis.RedisError) for r, _ in results)
        assert results[0][1] < 1.0 and max(t for _, t in results[1:]) < 0.05
        proxy.heal()
        _wait_closed("redis")
        assert _timed(lambda: client.get(key))[0] == b"1"
    finally:
        proxy.close()
        breaker("redis").reset()
