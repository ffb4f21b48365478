"""Fixtures of the NLU unit tests: a small classifier trained once per session (no MLflow, no DB)."""

from __future__ import annotations

import pytest

from models.nlu.classifier import fit_classifier
from models.nlu.normalize import normalize
from models.nlu.training_data import generate


@pytest.fixture(scope="session")
def small_model():
    rows = generate(1500, seed=7)
    return fit_classifier([normalize(r["text"]) for r in rows], [r["intent"] for r in rows], seed=7)


class FakeRedis:
    """The two calls RedisCache makes, in memory (TTL recorded, not enforced)."""

    def __init__(self, fail: bool = False):
        self.data: dict[str, bytes] = {}
        self.ttl: dict[str, int] = {}
        self.fail = fail
        self.calls = 0

    def get(self, key):
        self.calls += 1
        if self.fail:
            raise ConnectionError("redis down")
        return self.data.get(key)

    def set(self, key, value, ex=None):
        self.calls += 1
        if self.fail:
            raise ConnectionError("redis down")
        self.data[key] = value.encode() if isinstance(value, str) else value
        self.ttl[key] = ex


@pytest.fixture
def fake_redis():
    return FakeRedis()
