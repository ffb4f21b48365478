"""The database session: one engine per process and URL, built from the settings.

Every engine has a connect timeout, TCP keepalives and a pool checkout timeout, so a dead server
is noticed. A server that stops answering without closing anything (a frozen host, a stalled
network) is only noticed by a client-side time limit: engines made with ``deadline_s`` (the chat
service's) run each round trip under that limit, close the connection when it passes, and feed the
process-wide ``postgres`` circuit breaker, so the next callers fail at once instead of each waiting
(``infra.breaker``). Batch jobs keep unlimited statements: a long dbt-sized query is legitimate there.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from infra.breaker import breaker
from infra.settings import get_settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
_process_deadline_s: float | None = None

#: libpq keepalives: a peer that vanished (no RST) is dropped after about 5 + 2×2 s of silence
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2}
CONNECT_TIMEOUT_S = 2  # libpq's minimum


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection whose every round trip must finish within its engine's ``deadline_s``
    (or, without one, the process's ``use_request_deadlines``); with neither it is a plain one."""

    deadline_s: float | None = None
    conninfo: str = ""  # where the breaker's probe looks once this connection has failed

    def _limit(self) -> float | None:
        return self.deadline_s if self.deadline_s is not None else _process_deadline_s

    def wait(self, gen, interval: float = 0.1, timeout: float | None = None):  # type: ignore[override]
        limit = self._limit()
        if limit is None or timeout is not None:
            return super().wait(gen, interval=interval, timeout=timeout)
        b = breaker("postgres")
        if not b.allow():
            gen.close()
            raise pg_errors.OperationalError("PostgreSQL unavailable (circuit open)")
        try:
            result = super().wait(gen, interval=interval, timeout=limit)
        except pg_errors.OperationalError as exc:
            if not isinstance(exc, pg_errors._WaitTimeout) and not connection_lost(exc):
                raise  # the server answered with an error (a lock or statement timeout): it is alive
            # a timed-out or dropped connection is unusable; closing it makes the pool discard it
            self.pgconn.finish()
            if not isinstance(exc, pg_errors._WaitTimeout):
                # one dropped connection (a pooled one the server closed, a terminated backend) is the
                # pool's to replace, not an outage: if the server is really gone, the reconnect fails
                # and trips the breaker there (do_connect)
                raise
            _failed(b, self.conninfo)
            raise pg_errors.OperationalError(f"PostgreSQL did not answer within {limit} s") from None
        b.success()
        return result


def connection_lost(exc: BaseException) -> bool:
    """An error that leaves the connection unusable, not one the server reported on a live one: no
    SQLSTATE (the client lost the connection), a connection exception (08) or an operator
    intervention (57: shutdown, a terminated backend). A lock timeout (55P03) or a cancelled
    statement is the server answering."""
    state = getattr(exc, "sqlstate", None)
    return state is None or state[:2] in ("08", "57")


def _probe_postgres(conninfo: str) -> bool:
    with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_S, **KEEPALIVES) as conn:
        conn.execute("SELECT 1", prepare=False)
    return True


def _failed(b, conninfo: str) -> None:
    """Feed the breaker a failure of the server at ``conninfo``; its probe then checks that server
    (not whichever engine the process happened to make first: that one may be gone)."""
    if conninfo:
        b.probe = functools.partial(_probe_postgres, conninfo)
    b.failure()


def make_engine(url: str | None = None, *, deadline_s: float | None = None, pool_size: int = 5,
                max_overflow: int = 10, pool_timeout_s: float = 5.0) -> Engine:
    """A new engine. With ``deadline_s`` (or once ``use_request_deadlines`` is on), each round trip
    is time-limited and feeds the ``postgres`` breaker."""
    settings = get_settings()
    url = url or settings.sqlalchemy_url()
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_S, **KEEPALIVES,
                    # sessions speak local time, so ::date and date_trunc mean the Korean day
                    "options": f"-c timezone={settings.timezone}"}
    engine = create_engine(url, pool_pre_ping=True,  # a restarted server must not hand out dead connections
                           pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout_s,
                           connect_args=connect_args)
    b = breaker("postgres")
    conninfo = engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg://", "postgresql://")

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, conn_rec, cargs, cparams):
        limited = deadline_s is not None or _process_deadline_s is not None
        if limited and not b.allow():
            raise pg_errors.OperationalError("PostgreSQL unavailable (circuit open)")
        try:
            conn = DeadlineConnection.connect(*cargs, **cparams)
        except pg_errors.OperationalError:
            if limited:
                _failed(b, conninfo)
            raise
        conn.deadline_s, conn.conninfo = deadline_s, conninfo
        return conn

    return engine


def read_connection(engine: Engine):
    """A pooled connection for reads that need no transaction (one statement, or several that need
    no common snapshot): in autocommit, so no BEGIN before and no ROLLBACK after, two round trips
    fewer (a one-row read on the chat path: 1.6 → 0.6 ms here). Writes keep ``engine.begin()``."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def use_request_deadlines(deadline_s: float | None) -> None:
    """Time-limit every round trip of this process's engines that have no limit of their own (the
    chat service calls it once it has loaded what it needs: a bulk load at start may take longer)."""
    global _process_deadline_s
    _process_deadline_s = deadline_s


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured project database)."""
    url = url or get_settings().sqlalchemy_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def get_engine_or_none(url: str | None = None) -> Engine | None:
    """The process-wide engine, or ``None`` where the settings give none (a training run that can
    also work without the database: it then skips what it would have read or logged there)."""
    try:
        return get_engine(url)
    except Exception:  # noqa: BLE001 - no database configured is a legitimate state here
        return None


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error."""
    session = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
