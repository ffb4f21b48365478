"""The event log's writer: ``emit`` queues a record without touching the database; one thread per
process drains the queue in batches, one transaction each, and spools a batch when PostgreSQL is
unreachable (replaying the spool before anything newer, so order is kept)."""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from infra.event_log.spool import Spool, read_segment
from infra.event_log.statements import STATEMENTS, WRITE_ORDER, is_connection_error
from infra.event_log.tables import encode_row

log = logging.getLogger(__name__)


@dataclass
class WriterStats:
    emitted: int = 0
    written: int = 0  # rows sent to the database (conflicts included)
    spooled: int = 0
    replayed: int = 0
    rejected: int = 0
    batches: int = 0
    db_failures: int = 0
    last_error: str | None = None
    by_table: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class EventLog:
    def __init__(self, engine: Engine, spool_dir: Path, *, batch_size: int = 500, flush_interval_s: float = 0.2,
                 retry_min_s: float = 0.25, retry_max_s: float = 5.0, start: bool = True) -> None:
        self.engine = engine
        self.spool = Spool(spool_dir)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_min_s, self.retry_max_s = retry_min_s, retry_max_s
        self.stats = WriterStats()
        self._queue: deque[tuple[str, dict]] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._retry_at = 0.0
        self._retry_s = retry_min_s
        self._db_up = True
        self._thread: threading.Thread | None = None
        if start:
            self.start()

    # --- producer side ------------------------------------------------------------------
    def emit(self, table: str, row: Mapping[str, Any]) -> None:
        """Queue one record (never blocks on I/O)."""
        encoded = encode_row(table, row)
        with self._cond:
            self._queue.append((table, encoded))
            self.stats.emitted += 1
            if len(self._queue) >= self.batch_size:
                self._cond.notify()

    def emit_many(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> None:
        encoded = [(t, encode_row(t, r)) for t, r in events]
        with self._cond:
            self._queue.extend(encoded)
            self.stats.emitted += len(encoded)
            if len(self._queue) >= self.batch_size:
                self._cond.notify()

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (1 if self._busy else 0)

    @property
    def db_up(self) -> bool:
        return self._db_up

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="naviyam-event-log", daemon=True)
            self._thread.start()

    def flush(self, timeout_s: float = 30.0, *, require_db: bool = False) -> bool:
        """Wait until every queued record is written or spooled (and, with ``require_db``, the spool
        is replayed). Returns whether that happened within the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._cond:
                idle = not self._queue and not self._busy
                if not idle or (require_db and self.spool.has_data()):
                    self._retry_at = min(self._retry_at, time.monotonic())
                    self._cond.notify()
            if idle and not (require_db and self.spool.has_data()):
                return True
            time.sleep(0.02)
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        self.flush(timeout_s)
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout_s)
        # anything left (the database still down): persist it
        with self._cond:
            rest, self._queue = list(self._queue), deque()
        if rest:
            self.stats.spooled += self.spool.append(rest)
        self.spool.close()

    # --- writer thread ------------------------------------------------------------------
    def _run(self) -> None:
        self._try_replay()  # leftovers of an earlier process
        while True:
            with self._cond:
                if not self._queue and not self._stop:
                    self._cond.wait(self.flush_interval_s)
                if self._stop and not self._queue:
                    return
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), self.batch_size * 4))]
                self._busy = bool(batch)
            try:
                self._handle(batch)
            except Exception:  # the writer must survive anything; nothing may be dropped
                log.exception("event log: unexpected error; spooling the batch")
                try:
                    self.stats.spooled += self.spool.append(batch)
                except Exception:
                    log.exception("event log: spool append failed")
            finally:
                with self._cond:
                    self._busy = False

    def _handle(self, batch: list[tuple[str, dict]]) -> None:
        if self.spool.has_data() and not self._try_replay():
            if batch:
                self.stats.spooled += self.spool.append(batch)
            return
        if not batch:
            return
        if time.monotonic() < self._retry_at:
            self.stats.spooled += self.spool.append(batch)
            return
        try:
            self._write(batch)
            self._db_ok()
        except Exception as exc:
            if is_connection_error(exc):
                self._db_failed(exc)
                self.stats.spooled += self.spool.append(batch)
            else:
                self._write_one_by_one(batch)

    def _db_ok(self) -> None:
        if not self._db_up:
            log.info("event log: PostgreSQL reachable again")
        self._db_up = True
        self._retry_s = self.retry_min_s
        self._retry_at = 0.0

    def _db_failed(self, exc: BaseException) -> None:
        if self._db_up:
            log.warning("event log: PostgreSQL unreachable (%s); spooling under %s", type(exc).__name__, self.spool.folder)
        self._db_up = False
        self.stats.db_failures += 1
        self.stats.last_error = type(exc).__name__
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(self.retry_max_s, self._retry_s * 2)

    def _write(self, batch: list[tuple[str, dict]]) -> None:
        by_table: dict[str, list[dict]] = {}
        for table, row in batch:
            by_table.setdefault(table, []).append(row)
        with self.engine.begin() as conn:
            for table in WRITE_ORDER:
                rows = by_table.get(table)
                if rows:
                    conn.execute(STATEMENTS[table], rows)
        self.stats.written += len(batch)
        self.stats.batches += 1
        for table, rows in by_table.items():
            self.stats.by_table[table] = self.stats.by_table.get(table, 0) + len(rows)

    def _write_one_by_one(self, batch: list[tuple[str, dict]]) -> None:
        for i, (table, row) in enumerate(batch):
            try:
                self._write([(table, row)])
            except Exception as exc:
                if is_connection_error(exc):
                    self._db_failed(exc)
                    self.stats.spooled += self.spool.append(batch[i:])
                    return
                log.error("event log: %s row rejected (%s)", table, type(exc).__name__)
                self.spool.reject(table, row, str(getattr(exc, "orig", exc)))
                self.stats.rejected += 1

    def _try_replay(self) -> bool:
        """Replay every spool segment this process can lock; True when the spool is now empty."""
        if time.monotonic() < self._retry_at:
            return False
        self.spool.rotate()
        for path in self.spool.segments():
            try:
                fh = open(path, encoding="utf-8")
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # another live process's segment
                    continue
                events = read_segment(fh)
                for i in range(0, len(events), self.batch_size):
                    chunk = events[i:i + self.batch_size]
                    try:
                        self._write(chunk)
                    except Exception as exc:
                        if is_connection_error(exc):
                            self._db_failed(exc)
                            return False
                        self._write_one_by_one(chunk)
                        if not self._db_up:
                            return False
                    self.stats.replayed += len(chunk)
                path.unlink(missing_ok=True)
                self._db_ok()
                log.info("event log: replayed %d records from %s", len(events), path.name)
            finally:
                fh.close()
        return not any(self.spool.segments())
