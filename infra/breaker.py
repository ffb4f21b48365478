"""The circuit breaker: one per dependency (``postgres``, ``redis``), shared by every caller in the process.

A dependency that hangs costs each caller its whole timeout; the breaker makes that cost one
caller's: after ``threshold`` consecutive failures it opens, and every call fails at once
(``BreakerOpen``) instead of waiting. With a ``probe`` (a callable that checks the dependency on a
fresh connection) a background thread tries it every ``cooldown_s`` and closes the breaker when it
answers, so no request ever pays for finding out; without one, after ``cooldown_s`` one caller at a
time is let through as the probe (half-open).

The database and Redis layers (``infra.db``, ``infra.redis_client``) consult and feed the breakers
themselves, so code above them sees only a fast error it already handles as "unavailable". Cache
levels (the NLU and retrieval caches) ask ``available()`` and treat "no" as a miss; over the
process's own Redis they share ``breaker("redis")``, so every level learns of an outage together.
A component handed a private client (a test, a private server) makes its own ``CircuitBreaker``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


#: how long a cache level skips a private dependency (one with no probe) after a failure
CACHE_COOLDOWN_S = 5.0


class BreakerOpen(ConnectionError):
    """Refused without trying: the dependency failed just now. A ``ConnectionError``, so callers that
    treat an unreachable dependency as a cache miss or a spool reason need no new ``except``."""


class CircuitBreaker:
    def __init__(self, name: str, *, threshold: int = 1, cooldown_s: float = 1.0) -> None:
        self.name = name
        self.probe: Callable[[], bool] | None = None
        self._prober: threading.Thread | None = None
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._lock = threading.Lock()  # guards counters only; never held across I/O
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self.opened = 0  # times it opened (status, tests)
        self.failures = 0  # failures seen in all (status, tests)

    @property
    def state(self) -> str:
        with self._lock:
            if self._failures < self.threshold:
                return "closed"
            return "open" if time.monotonic() < self._open_until else "half-open"

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time may."""
        with self._lock:
            if self._failures < self.threshold:
                return True
            if time.monotonic() < self._open_until or self._probing or self.probe is not None:
                return False
            self._probing = True
            return True

    def available(self) -> bool:
        """May a call be tried now? Unlike ``allow`` it claims no probe slot: for callers to whom a
        refused call is only a cache miss, and who report back through ``trip``/``success``."""
        if not self._failures:  # unlocked read: the common case costs nothing
            return True
        with self._lock:
            if self._failures < self.threshold:
                return True
            return self.probe is None and time.monotonic() >= self._open_until

    def check(self) -> None:
        if not self.allow():
            raise BreakerOpen(f"{self.name} unavailable (circuit open)")

    def success(self) -> None:
        if not self._failures and not self._probing:  # unlocked read: nothing to undo
            return
        with self._lock:
            self._failures = 0
            self._probing = False

    def trip(self, what: str, exc: BaseException) -> None:
        """``what`` (an operation on the dependency) failed with ``exc``: a failure, logged once per
        outage rather than once per refused call."""
        if self.state == "closed":
            log.warning("%s unavailable (%s: %s); skipping %s for %.0f s", what, type(exc).__name__, exc,
                        self.name, self.cooldown_s)
        self.failure()

    def failure(self) -> None:
        start = False
        with self._lock:
            self._failures += 1
            self.failures += 1
            self._probing = False
            if self._failures >= self.threshold:
                if self._failures == self.threshold:
                    self.opened += 1
                self._open_until = time.monotonic() + self.cooldown_s
                if self.probe is not None and (self._prober is None or not self._prober.is_alive()):
                    self._prober = threading.Thread(target=self._probe_loop, name=f"breaker-{self.name}", daemon=True)
                    start = True
        if start:
            self._prober.start()

    def _probe_loop(self) -> None:
        while True:
            with self._lock:
                wait = self._open_until - time.monotonic()
                if self._failures < self.threshold:
                    return
            if wait > 0:
                time.sleep(wait)
            try:
                ok = bool(self.probe())
            except Exception:
                ok = False
            if ok:
                self.success()
                return
            with self._lock:
                self._open_until = time.monotonic() + self.cooldown_s

    def reset(self) -> None:
        with self._lock:
            self._failures, self._open_until, self._probing = 0, 0.0, False

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "opened": self.opened, "failures": self.failures}


_breakers: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker(name: str) -> CircuitBreaker:
    """The process-wide breaker of one dependency."""
    with _registry_lock:
        b = _breakers.get(name)
        if b is None:
            b = _breakers[name] = CircuitBreaker(name)
        return b


def all_breakers() -> dict[str, CircuitBreaker]:
    with _registry_lock:
        return dict(_breakers)
