"""The service's guard in front of a stand-in app, against the real Redis: per-client rate limits
shared by every worker (two guards = two workers), 429 with Retry-After, lockout of an address that
keeps sending wrong keys, deep JSON refused, and an audit line per request naming the client."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration


async def _ok_app(scope, receive, send):
    body = b'{"ok": true}'
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _guard(**kw):
    from infra.redis_client import get_redis
    from serving.rate_limit import RateLimiter
    from serving.service import GuardMiddleware

    return GuardMiddleware(_ok_app, api_key="default-key", clients={"partner": f"partner-{kw.pop('tag')}"},
                           limiter=RateLimiter(get_redis), **kw)


def _post(guards, key, body=None, n=1):
    async def go():
        out = []
        for i in range(n):
            transport = httpx.ASGITransport(app=guards[i % len(guards)], client=("10.0.0.7", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                out.append(await c.post("/chat", content=json.dumps(body or {"a": 1}),
                                        headers={"X-API-Key": key, "content-type": "application/json"}))
        return out

    return asyncio.run(go())


def test_rate_limit_is_per_client_and_shared_by_workers(caplog):
    tag = uuid.uuid4().hex[:8]
    workers = [_guard(tag=tag, rate_limit=5, auth_failures=3) for _ in range(2)]
    caplog.set_level(logging.INFO, logger="naviyam.audit")
    replies = _post(workers, f"partner-{tag}", n=7)
    assert [r.status_code for r in replies] == [200] * 5 + [429] * 2
    assert 1 <= int(replies[-1].headers["retry-after"]) <= 60
    assert any(getattr(r, "client", None) == "partner" and getattr(r, "status", None) == 200 for r in caplog.records)
    # another client's budget is its own
    assert _post(workers, "default-key")[0].status_code == 200


def test_wrong_keys_lock_the_address_out_and_deep_json_is_refused():
    tag = uuid.uuid4().hex[:8]
    guard = _guard(tag=tag, rate_limit=1000, auth_failures=3)
    codes = [r.status_code for r in _post([guard], f"wrong-{tag}", n=5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    deep: dict = {}
    node = deep
    for _ in range(50):
        node["a"] = {}
        node = node["a"]
    r = _post([guard], f"partner-{tag}", body=deep)[0]
    assert r.status_code == 400 and "nested" in r.json()["error"]
