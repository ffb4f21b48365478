"""The one circuit breaker: opens on a failure, lets no caller through while open, and closes
through its background probe (or, without one, through a single half-open caller)."""

from __future__ import annotations

import time

from infra.breaker import BreakerOpen, CircuitBreaker


def test_opens_refuses_and_closes_through_one_probe_caller():
    b = CircuitBreaker("t", cooldown_s=0.1)
    assert b.allow()
    b.failure()
    assert b.state == "open" and not b.allow()
    try:
        b.check()
        raise AssertionError("an open breaker must refuse")
    except BreakerOpen:
        pass
    time.sleep(0.12)
    assert b.allow(), "after the cooldown one caller probes"
    assert not b.allow(), "and only one"
    b.success()
    assert b.state == "closed" and b.allow()


def test_background_probe_closes_it_without_a_caller_paying():
    b = CircuitBreaker("t2", cooldown_s=0.05)
    answers = iter([False, False, True])
    b.probe = lambda: next(answers)
    b.failure()
    assert not b.allow()
    deadline = time.monotonic() + 2
    while b.state != "closed" and time.monotonic() < deadline:
        assert not b.allow() or b.state == "closed", "callers never probe when a prober exists"
        time.sleep(0.01)
    assert b.state == "closed" and b.opened == 1


def test_a_cache_level_skips_a_failed_dependency_until_the_cooldown():
    b = CircuitBreaker("redis", cooldown_s=0.05)
    assert b.available()
    b.trip("cache get", ConnectionError("refused"))
    assert not b.available() and b.failures == 1
    time.sleep(0.06)
    assert b.available(), "without a probe, the next call after the cooldown tries again"
    b.success()
    assert b.state == "closed" and b.failures == 1


def test_one_breaker_per_dependency_is_shared_by_its_callers():
    from infra.breaker import breaker
    from infra.redis_client import get_redis
    from models.nlu.cache import RedisCache
    from models.retrieval.cache import RedisLevel

    assert breaker("redis") is breaker("redis") is not breaker("postgres")
    # the connection layer, the NLU cache and the retrieval cache over the process's own Redis learn
    # of an outage together
    assert RedisCache().breaker is RedisLevel(get_redis).breaker is breaker("redis")
    # a component handed its own client keeps its own breaker
    assert RedisCache(client=object()).breaker is not breaker("redis")
    assert RedisLevel(lambda: object()).breaker is not breaker("redis")
