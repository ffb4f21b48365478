"""Per-client rate limits that hold across worker processes: one Redis counter per client and
minute (``INCR`` + ``EXPIRE``), so N workers share one budget. Over the limit the caller gets how
many seconds remain in the minute (the ``Retry-After``). Without Redis the limiter lets requests
through (the service stays up; the breaker makes the check cost nothing while Redis is away)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

WINDOW_S = 60


class RateLimiter:
    def __init__(self, redis_factory: Callable, *, clock: Callable[[], float] = time.time) -> None:
        self.redis_factory = redis_factory
        self.clock = clock

    def hit(self, kind: str, who: str, limit: int) -> int | None:
        """Count one request of ``who``; None when within ``limit`` per minute, else the seconds to wait."""
        from infra.redis_client import key, redis_errors

        now = self.clock()
        window = int(now // WINDOW_S)
        k = key("rl", kind, who, window)
        try:
            pipe = self.redis_factory().pipeline(transaction=False)
            pipe.incr(k)
            pipe.expire(k, WINDOW_S + 5)
            count = int(pipe.execute()[0])
        except redis_errors as exc:
            log.debug("rate limit not checked (%s)", type(exc).__name__)
            return None
        if count <= limit:
            return None
        return max(1, int((window + 1) * WINDOW_S - now + 0.999))
