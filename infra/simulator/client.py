"""The simulator's side of the HTTP API: exactly the calls a client app makes, plus ``as_of``."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

#: backoff before each retry of a request the service answered 503 ("retry")
RETRY_503_S = (0.2, 1.0)


class ServiceError(RuntimeError):
    pass


class ChatClient:
    """``/chat`` and ``/feedback`` over one keep-alive connection pool (thread-safe, as httpx is)."""

    def __init__(self, url: str, api_key: str, timeout: float = 180.0, max_connections: int = 16) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(headers={"X-API-Key": api_key}, timeout=timeout,
                                 limits=httpx.Limits(max_connections=max_connections))
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict[str, Any], ok: tuple[int, ...] = (200,), retry: bool = True) -> dict[str, Any]:
        for wait in (*(RETRY_503_S if retry else ()), None):
            self.requests += 1
            try:
                r = self.http.post(self.url + path, json=body)
            except httpx.HTTPError as exc:  # connection refused, timeout: one failed session, not a crash
                raise ServiceError(f"{path}: {type(exc).__name__}: {exc}") from exc
            if r.status_code != 503 or wait is None:
                break
            self.retries += 1  # "a dependency is unavailable; retry": what an app does
            time.sleep(wait)
        if r.status_code not in ok:
            raise ServiceError(f"{path} answered {r.status_code}: {r.text[:300]}")
        return r.json()

    def chat(self, user_id: str, session_id: str, text: str, as_of: datetime, *, location: dict | None = None,
             max_results: int = 3) -> dict[str, Any]:
        body: dict[str, Any] = {"user_id": user_id, "session_id": session_id, "text": text,
                                "as_of": as_of.isoformat(), "max_results": max_results}
        if location:
            body["location"] = location
        return self._post("/chat", body)

    def feedback(self, user_id: str, session_id: str, recommendation_id: str, action: str, shop_id: int,
                 as_of: datetime, **extra: Any) -> dict[str, Any]:
        body = {"user_id": user_id, "session_id": session_id, "recommendation_id": recommendation_id,
                "action": action, "shop_id": shop_id, "as_of": as_of.isoformat(),
                **{k: v for k, v in extra.items() if v is not None}}
        # an order or a coupon use is not retried: it carries no idempotency key, and a 503 after the commit
        # would then pay twice; the session counts as failed instead
        return self._post("/feedback", body, ok=(200, 409),  # 409: the coupon was already used
                          retry=action not in ("order", "coupon_use"))
