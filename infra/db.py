"""The database session: one engine per process and URL, built from the settings."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from infra.settings import get_settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: the configured project database)."""
    url = url or get_settings().sqlalchemy_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(
                url,
                pool_pre_ping=True,  # a restarted server must not hand out dead connections
                pool_size=5,
                max_overflow=10,
                # sessions speak local time, so ::date and date_trunc mean the Korean day
                connect_args={"options": f"-c timezone={get_settings().timezone}"},
            )
            _engines[url] = engine
        return engine


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
