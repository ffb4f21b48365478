"""The chat service's clock, and the simulated "as of" override.

The turn code asks one injected ``clock()`` for "now" (open now, meal slot, month end, coupon
validity, log timestamps). In production that is the wall clock. A closed-loop simulation
(``naviyam simulate``) or a test drives weeks of simulated days through the real service, so a
request may carry ``as_of``: the time the service must answer at. That override is

* refused unless ``NAVIYAM_SIMULATION_CLOCK=true`` (a typed setting, off by default: a production
  client can never move the service's clock);
* scoped to one request (a context variable set around the call, so concurrent requests on
  other threads keep the wall clock);
* recorded: the turn's ``performance_logs.optimization_suggestions.clock`` carries the simulated
  time and the wall time it was answered at (``audit()``), and every row of the turn is stamped
  with the simulated time, so simulated traffic is always distinguishable from real traffic.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

_AS_OF: ContextVar[datetime | None] = ContextVar("naviyam_as_of", default=None)


class AsOfRefused(PermissionError):
    """A request asked for a simulated time while the simulation clock is off."""


def now() -> datetime:
    """The simulated time of the current request when one is set, else the wall clock (UTC)."""
    return _AS_OF.get() or datetime.now(timezone.utc)


def overridden() -> datetime | None:
    return _AS_OF.get()


def audit() -> dict[str, str]:
    """What the logs record about the clock of this request (empty when it is the wall clock)."""
    at = _AS_OF.get()
    if at is None:
        return {}
    return {"clock": "as_of", "as_of": at.isoformat(), "wall_clock": datetime.now(timezone.utc).isoformat()}


@contextmanager
def as_of(when: datetime | None, *, enabled: bool) -> Iterator[None]:
    """Answer the enclosed request at ``when`` (None: the wall clock). Raises ``AsOfRefused`` when
    a time is asked for but the setting is off; a naive time is refused too (which zone would it be?)."""
    if when is None:
        yield
        return
    if not enabled:
        raise AsOfRefused("as_of is accepted only when NAVIYAM_SIMULATION_CLOCK=true (simulations and tests)")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("as_of must carry a time zone offset")
    token = _AS_OF.set(when.astimezone(timezone.utc))
    try:
        yield
    finally:
        _AS_OF.reset(token)
