"""Shared fixtures: real PostgreSQL and Redis, isolated per test session and per test module.

Every session gets its own data folder and Redis key prefix; every test module that asks for
``migrated_engine`` gets a freshly created, fully migrated database that is dropped afterwards.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION = uuid.uuid4().hex[:8]
# Set before anything imports the settings, so every cached object sees the test values.
os.environ.setdefault("NAVIYAM_DATA_DIR", tempfile.mkdtemp(prefix=f"naviyam-test-{_SESSION}-"))
os.environ["NAVIYAM_REDIS_KEY_PREFIX"] = f"naviyam-test-{_SESSION}:"
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

from infra.settings import Settings, get_settings  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    from infra.services import ensure_services

    ensure_services()
    return get_settings()


@pytest.fixture(scope="session")
def data_dir(settings: Settings) -> Path:
    return settings.data_dir


def _fresh_database(settings: Settings, label: str):
    from infra.db import get_engine
    from infra.schema import create_database, drop_database, prepare

    name = f"naviyam_test_{_SESSION}_{label}_{uuid.uuid4().hex[:6]}"
    create_database(settings, name)
    engine = get_engine(settings.sqlalchemy_url(name))
    prepare(engine, settings)
    return name, engine


@pytest.fixture(scope="module")
def migrated_engine(settings: Settings, request: pytest.FixtureRequest) -> Iterator:
    """A SQLAlchemy Engine on a new database with the full schema, dropped after the module."""
    from infra.schema import drop_database

    label = request.module.__name__.rsplit(".", 1)[-1][:20]
    name, engine = _fresh_database(settings, label)
    yield engine
    engine.dispose()
    drop_database(settings, name)


@pytest.fixture()
def fresh_engine(settings: Settings) -> Iterator:
    """Like ``migrated_engine`` but for one test, for tests that change the schema or need emptiness."""
    from infra.schema import drop_database

    name, engine = _fresh_database(settings, "fn")
    yield engine
    engine.dispose()
    drop_database(settings, name)


@pytest.fixture()
def redis_client(settings: Settings):
    """The real Redis, with this session's keys removed after the test."""
    from infra.redis_client import get_redis

    client = get_redis()
    yield client
    for key in client.scan_iter(match=settings.redis_key_prefix + "*", count=500):
        client.delete(key)
