"""The embedded fallback: with the configured servers unreachable, real ones start from pip packages."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _naviyam(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.main", *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_unreachable_servers_fall_back_to_embedded_postgres_and_valkey(tmp_path):
    env = {
        **os.environ,
        "NAVIYAM_DATA_DIR": str(tmp_path),
        "NAVIYAM_PG_PORT": str(_free_port()),  # nothing listens there
        "NAVIYAM_REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0",
        "NAVIYAM_REDIS_EMBEDDED_PORT": str(_free_port()),
    }
    try:
        up = _naviyam(["services", "up"], env)
        assert up.returncode == 0, up.stderr
        endpoints = json.loads(up.stdout)
        assert endpoints["postgres_embedded"] and endpoints["redis_embedded"]
        assert str(tmp_path) in endpoints["postgres"]

        # a second process finds the same servers and migrates the database on them
        migrated = _naviyam(["db", "upgrade"], env)
        assert migrated.returncode == 0, migrated.stderr
        assert "schema at head" in migrated.stderr

        import psycopg
        import redis

        dsn = endpoints["postgres"]
        with psycopg.connect(dsn) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'shops'").fetchone()[0]
        assert version.startswith("16") and tables == 1
        assert redis.Redis.from_url(endpoints["redis"]).ping()
    finally:
        down = _naviyam(["services", "down"], env)
        assert down.returncode == 0, down.stderr


def test_fallback_disabled_fails_with_a_clear_message(tmp_path):
    env = {
        **os.environ,
        "NAVIYAM_DATA_DIR": str(tmp_path),
        "NAVIYAM_PG_PORT": str(_free_port()),
        "NAVIYAM_PG_EMBEDDED_FALLBACK": "false",
    }
    result = _naviyam(["services", "up"], env)
    assert result.returncode != 0
    assert "NAVIYAM_PG_EMBEDDED_FALLBACK is false" in result.stderr
