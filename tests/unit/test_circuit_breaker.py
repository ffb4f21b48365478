"""The one circuit breaker: a failure switches a dependency off for a while, once per dependency."""

from __future__ import annotations

import time

from infra.circuit_breaker import Breaker, for_dependency


def test_a_failure_skips_the_dependency_until_the_retry_time():
    b = Breaker("redis", retry_after_s=0.05)
    assert b.available()
    b.trip("cache get", ConnectionError("refused"))
    assert not b.available() and b.failures == 1
    time.sleep(0.06)
    assert b.available()
    b.trip("cache get", ConnectionError("refused"))
    b.reset()
    assert b.available() and b.failures == 2


def test_one_breaker_per_dependency_is_shared_by_its_callers():
    from infra.redis_client import get_redis
    from models.nlu.cache import RedisCache
    from models.retrieval.cache import RedisLevel

    assert for_dependency("redis") is for_dependency("redis") is not for_dependency("postgres")
    # the NLU cache and the retrieval cache over the process's own Redis learn of an outage together
    assert RedisCache().breaker is RedisLevel(get_redis).breaker is for_dependency("redis")
    # a component handed its own client keeps its own breaker
    assert RedisCache(client=object()).breaker is not for_dependency("redis")
    assert RedisLevel(lambda: object()).breaker is not for_dependency("redis")
