"""The circuit breaker every optional dependency call goes through (the NLU and retrieval cache
levels, the NLU's database lookup).

After a failure the dependency is skipped for ``retry_after_s``: a dead Redis or PostgreSQL costs
one connection timeout, not one per request, and the caller treats "skipped" as a miss. One
``Breaker`` per dependency: ``for_dependency("redis")`` is the process-wide breaker of the
process's own Redis client, so the NLU cache and the retrieval caches learn of an outage
together; a component given its own client (tests, a private server) makes its own ``Breaker``.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

#: how long a failed dependency is skipped before the next call tries it again
RETRY_AFTER_S = 5.0


class Breaker:
    def __init__(self, name: str = "", retry_after_s: float = RETRY_AFTER_S) -> None:
        self.name = name
        self.retry_after_s = retry_after_s
        self.failures = 0
        self._open_until = 0.0

    def available(self) -> bool:
        """False while the dependency is being skipped after a failure."""
        return time.monotonic() >= self._open_until

    def trip(self, what: str, exc: BaseException) -> None:
        """``what`` (an operation on the dependency) failed with ``exc``: skip it for a while."""
        self.failures += 1
        if self.available():  # log the outage once, not once per skipped call
            log.warning("%s unavailable (%s: %s); skipping %s for %.0f s", what, type(exc).__name__, exc,
                        self.name or "it", self.retry_after_s)
        self._open_until = time.monotonic() + self.retry_after_s

    def reset(self) -> None:
        self._open_until = 0.0


_SHARED: dict[str, Breaker] = {}
_LOCK = threading.Lock()


def for_dependency(name: str) -> Breaker:
    """The one breaker of a dependency of this process (``"redis"``, ``"postgres"``)."""
    with _LOCK:
        if name not in _SHARED:
            _SHARED[name] = Breaker(name)
        return _SHARED[name]
