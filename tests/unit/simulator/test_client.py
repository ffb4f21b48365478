"""The simulator's HTTP client retries what the service says to retry (503), like an app would."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from infra.simulator import client as client_module
from infra.simulator.client import ChatClient, ServiceError

AT = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def client_answering(statuses: list[int], monkeypatch) -> tuple[ChatClient, list[int]]:
    monkeypatch.setattr(client_module, "RETRY_503_S", (0.0, 0.0))
    seen: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses[min(len(seen), len(statuses) - 1)]
        seen.append(status)
        return httpx.Response(status, json={"ok": status == 200, "error": "retry" if status == 503 else None})

    c = ChatClient("http://sim.test", "key")
    c.http = httpx.Client(transport=httpx.MockTransport(handler), headers={"X-API-Key": "key"})
    return c, seen


def test_a_503_is_retried_and_then_answered(monkeypatch):
    c, seen = client_answering([503, 200], monkeypatch)
    assert c.feedback("1", "s", "r", "detail_view", 3, AT)["ok"] is True
    assert seen == [503, 200] and c.retries == 1 and c.requests == 2


def test_an_order_is_never_retried(monkeypatch):
    """No idempotency key: a 503 after the commit would pay twice."""
    c, seen = client_answering([503, 200], monkeypatch)
    with pytest.raises(ServiceError, match="503"):
        c.feedback("1", "s", "r", "order", 3, AT, menu_id=7, order_amount=5000)
    assert seen == [503] and c.retries == 0


def test_retries_are_bounded_and_other_errors_are_not_retried(monkeypatch):
    c, seen = client_answering([503], monkeypatch)
    with pytest.raises(ServiceError, match="503"):
        c.chat("1", "s", "배고파", AT)
    assert len(seen) == len(client_module.RETRY_503_S) + 1
    c, seen = client_answering([500], monkeypatch)
    with pytest.raises(ServiceError, match="500"):
        c.chat("1", "s", "배고파", AT)
    assert seen == [500]
