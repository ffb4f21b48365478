"""The simulated clock: off by default, per request, recorded."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from serving import clock


def test_as_of_is_refused_unless_enabled_and_must_carry_a_zone():
    at = datetime(2026, 11, 26, 12, 30, tzinfo=timezone(timedelta(hours=9)))
    with pytest.raises(clock.AsOfRefused):
        with clock.as_of(at, enabled=False):
            pass
    with pytest.raises(ValueError):
        with clock.as_of(datetime(2026, 11, 26, 12, 30), enabled=True):
            pass
    with clock.as_of(None, enabled=False):  # no override asked: the wall clock, setting irrelevant
        assert clock.overridden() is None and clock.audit() == {}


def test_override_is_scoped_to_the_request_and_audited():
    at = datetime(2026, 11, 26, 12, 30, tzinfo=timezone(timedelta(hours=9)))
    seen_elsewhere: list[datetime] = []
    with clock.as_of(at, enabled=True):
        assert clock.now() == at and clock.now().tzinfo == timezone.utc
        t = threading.Thread(target=lambda: seen_elsewhere.append(clock.now()))
        t.start()
        t.join()
        audit = clock.audit()
        assert audit["clock"] == "as_of" and audit["as_of"].startswith("2026-11-26T03:30")
    assert abs((seen_elsewhere[0] - datetime.now(timezone.utc)).total_seconds()) < 60  # other threads: wall clock
    assert clock.overridden() is None


def test_the_setting_is_off_by_default(monkeypatch):
    from infra.settings import Settings

    monkeypatch.delenv("NAVIYAM_SIMULATION_CLOCK", raising=False)
    assert Settings(_env_file=None).simulation_clock is False
