"""The L1 level of every cache hierarchy (spec §10): a thread-safe in-process LRU with per-entry TTL.

The NLU cache, the query-embedding and search-result caches and the chat context all put this
in front of Redis and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any


class LRUCache:
    """A thread-safe LRU with an optional per-entry TTL."""

    def __init__(self, maxsize: int = 10_000, ttl_s: float | None = None) -> None:
        self.maxsize = maxsize
        self.ttl_s = ttl_s
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires and expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl_s: float | None = None) -> None:
        ttl = ttl_s if ttl_s is not None else self.ttl_s
        expires = time.monotonic() + ttl if ttl else 0.0
        with self._lock:
            self._data[key] = (expires, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
