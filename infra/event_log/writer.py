"""The event log's writer: a record is first made durable in the local journal (the spool folder),
then written to PostgreSQL.

* ``emit``/``emit_many`` queue records and, by default (``durable_ack``), return only once they are
  fsynced to the journal: a turn the service answered survives a SIGKILL of its worker a moment
  later. One journal thread appends everything queued since its last fsync in one write (group
  commit), so concurrent turns share one fsync.
* The journal's live segment is closed every ``flush_interval_s`` (or at ``batch_size`` × 4 records)
  and handed to the writer thread, which writes each closed segment to PostgreSQL (one transaction
  per ``batch_size`` records, oldest segment first) and deletes it. While PostgreSQL is unreachable
  the segments simply stay, and are written when it answers again; a segment left by a killed
  process is found by the next writer that scans the folder (each live segment is flock-held, so no
  two processes replay the same one). Replays are harmless: every table has an idempotency key.
"""

from __future__ import annotations

import fcntl
import logging
import os
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


class NotDurable(RuntimeError):
    """The journal did not confirm the records in time (the local disk is stuck): the caller must
    not acknowledge them."""


@dataclass
class WriterStats:
    emitted: int = 0
    journaled: int = 0  # records fsynced to the local journal (each acknowledged turn's records)
    journal_fsyncs: int = 0  # group commits: journaled / journal_fsyncs records share one fsync
    written: int = 0  # rows sent to the database (conflicts included)
    spooled: int = 0  # records that had to wait in the spool because PostgreSQL was unreachable
    replayed: int = 0  # records written from segments another process (or an earlier run) left
    rejected: int = 0  # records PostgreSQL refused for their content (in the spool's rejected-records files)
    batches: int = 0
    db_failures: int = 0
    last_error: str | None = None
    by_table: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class EventLog:
    def __init__(self, engine: Engine, spool_dir: Path, *, batch_size: int = 500, flush_interval_s: float = 0.2,
                 retry_min_s: float = 0.25, retry_max_s: float = 5.0, start: bool = True,
                 durable_ack: bool = True, ack_timeout_s: float = 5.0) -> None:
        self.engine = engine
        self.spool = Spool(spool_dir)
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.retry_min_s, self.retry_max_s = retry_min_s, retry_max_s
        self.durable_ack = durable_ack
        self.ack_timeout_s = ack_timeout_s
        self.stats = WriterStats()
        self._queue: deque[tuple[str, dict]] = deque()
        self._cond = threading.Condition()  # the queue, the journal's progress, the acks
        self._enqueued = 0  # sequence number of the last queued record
        self._journaled = 0  # sequence number of the last fsynced record
        self._segment_records = 0
        self._segment_opened = 0.0
        self._appending = False  # one appender at a time: a waiting emitter (the leader) or the journal thread
        self._own: set[str] = set()  # segments this log journaled (not counted as replays)
        self._held: set[str] = set()  # segments counted in ``spooled``
        self._wcond = threading.Condition()  # wakes the database writer
        self._writing = False
        self._stop = False
        self._retry_at = 0.0
        self._retry_s = retry_min_s
        self._db_up = True
        self._journal_thread: threading.Thread | None = None
        self._writer_thread: threading.Thread | None = None
        if start:
            self.start()

    # --- producer side ------------------------------------------------------------------
    def emit(self, table: str, row: Mapping[str, Any], *, wait: bool | None = None) -> None:
        """Queue one record; with ``durable_ack`` return once it is fsynced (about a millisecond)."""
        self.emit_many([(table, row)], wait=wait)

    def emit_many(self, events: Iterable[tuple[str, Mapping[str, Any]]], *, wait: bool | None = None) -> None:
        encoded = [(t, encode_row(t, r)) for t, r in events]
        if not encoded:
            return
        with self._cond:
            self._queue.extend(encoded)
            self.stats.emitted += len(encoded)
            self._enqueued += len(encoded)
            seq = self._enqueued
            self._cond.notify_all()
            if not (self.durable_ack if wait is None else wait):
                return
            deadline = time.monotonic() + self.ack_timeout_s
            while self._journaled < seq:
                if not self._appending:
                    # nobody is writing the journal: this caller does, for everyone queued so far
                    # (group commit without a thread hand-off: one fsync, no extra wake-up)
                    self._append_queued()
                    continue
                if not self._cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise NotDurable(f"event log: {len(encoded)} records not fsynced within {self.ack_timeout_s} s")

    @property
    def pending(self) -> int:
        """Records not yet in PostgreSQL: queued, or journaled and waiting for the writer."""
        with self._cond:
            queued = len(self._queue)
        return queued + (1 if self._writing else 0) + len(self.spool.segments()) + (1 if self._segment_records else 0)

    @property
    def db_up(self) -> bool:
        return self._db_up

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self._stop = False
        if self._journal_thread is None or not self._journal_thread.is_alive():
            self._journal_thread = threading.Thread(target=self._journal_loop, name="naviyam-event-journal", daemon=True)
            self._journal_thread.start()
        if self._writer_thread is None or not self._writer_thread.is_alive():
            self._writer_thread = threading.Thread(target=self._writer_loop, name="naviyam-event-log", daemon=True)
            self._writer_thread.start()

    def flush(self, timeout_s: float = 30.0, *, require_db: bool = False) -> bool:
        """Wait until every queued record is in PostgreSQL, or (without ``require_db``) durable in
        the journal while PostgreSQL is unreachable. Returns whether that happened in time."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            target = self._enqueued
            if not self._cond.wait_for(lambda: self._journaled >= target and not self._appending,
                                       max(0.0, deadline - time.monotonic())):
                return False
            self._rotate()
        while time.monotonic() < deadline:
            with self._wcond:
                self._retry_at = min(self._retry_at, time.monotonic())
                self._wcond.notify_all()
            # what is left first, then whether the writer is busy: it marks itself busy before it locks
            # a segment, so a segment this writer holds (not claimable) is never mistaken for done
            left = bool(self.spool.claimable()) or bool(self._segment_records)
            with self._wcond:
                busy = self._writing
            if not busy and not left:
                return True
            if not busy and not require_db and not self._db_up:
                return True
            time.sleep(0.02)
        return False

    def close(self, timeout_s: float = 10.0) -> None:
        self.flush(timeout_s)
        self._stop = True
        with self._cond:
            self._cond.notify_all()
        with self._wcond:
            self._wcond.notify_all()
        for t in (self._journal_thread, self._writer_thread):
            if t is not None:
                t.join(timeout_s)
        with self._cond:  # anything left (emitted during close): persist it
            rest, self._queue = list(self._queue), deque()
        if rest:
            self.spool.append(rest)
        self.spool.close()

    # --- journal thread -----------------------------------------------------------------
    def _rotate(self) -> None:
        """Close the live segment (caller holds ``_cond``) and hand it to the writer."""
        if self._segment_records:
            self.spool.rotate()
            self._segment_records = 0
            with self._wcond:
                self._wcond.notify_all()

    def _append_queued(self) -> None:
        """Append everything queued to the journal and fsync it (caller holds ``_cond``; it is
        released during the I/O, while ``_appending`` keeps every other appender out)."""
        batch = list(self._queue)
        self._queue.clear()
        last = self._enqueued
        self._appending = True
        self._cond.release()
        ok = False
        try:
            new_segment = self.spool.live_path is None
            self.spool.append(batch)  # write + fsync (and the folder's fsync for a new file)
            if new_segment:
                self._own.add(self.spool.live_path.name)
                self._segment_opened = time.monotonic()
            ok = True
        except Exception:
            log.exception("event log: journal append failed; retrying")
            time.sleep(0.05)
        finally:
            self._cond.acquire()
            self._appending = False
            if ok:
                self._journaled = last
                self._segment_records += len(batch)
                self.stats.journaled += len(batch)
                self.stats.journal_fsyncs += 1
            else:
                self._queue.extendleft(reversed(batch))
            self._cond.notify_all()

    def _journal_loop(self) -> None:
        """Journals what non-waiting emits queued, and closes the live segment on time."""
        with self._cond:
            while True:
                if not self._queue and not self._stop:
                    self._cond.wait(self.flush_interval_s / 2)
                if self._appending:  # an emitter is writing the journal: let it finish
                    self._cond.wait(0.01)
                    continue
                if self._segment_records and (time.monotonic() - self._segment_opened >= self.flush_interval_s
                                              or self._segment_records >= self.batch_size * 4):
                    self._rotate()
                if self._queue:
                    self._append_queued()
                elif self._stop:
                    self._rotate()
                    return

    # --- database writer thread ---------------------------------------------------------
    def _writer_loop(self) -> None:
        wrote = True
        while True:
            with self._wcond:
                delay = self._retry_at - time.monotonic()
                if delay > 0:
                    self._wcond.wait(max(0.01, min(delay, self.flush_interval_s)))
                elif not wrote or not self.spool.segments():
                    # nothing here to write, or only segments other live processes hold (each worker
                    # journals in the same folder): wait for a rotation of this process's own
                    # segment or the interval. Going round again at once spun a core on their locks.
                    self._wcond.wait(self.flush_interval_s)
                if self._stop:
                    return
                if time.monotonic() < self._retry_at:
                    continue
                self._writing = True
            wrote = False
            try:
                wrote = self._replay_segments() > 0
            except Exception:  # the writer must survive anything; the segments stay on disk
                log.exception("event log: unexpected error while writing")
                self._db_failed(RuntimeError("unexpected"))
            finally:
                with self._wcond:
                    self._writing = False

    def _db_ok(self) -> None:
        if not self._db_up:
            log.info("event log: PostgreSQL reachable again")
        self._db_up = True
        self._retry_s = self.retry_min_s
        self._retry_at = 0.0

    def _db_failed(self, exc: BaseException) -> None:
        if self._db_up:
            log.warning("event log: PostgreSQL unreachable (%s); keeping records under %s", type(exc).__name__,
                        self.spool.folder)
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

    def _write_one_by_one(self, batch: list[tuple[str, dict]]) -> bool:
        """Find the refused records of a batch; False when the database went away meanwhile. The
        refused ones go to the rejected-records file together (one fsync for the batch, not one per
        record), also when the database went away half way: they were refused all the same."""
        rejects: list[tuple[str, dict, str]] = []
        try:
            for table, row in batch:
                try:
                    self._write([(table, row)])
                except Exception as exc:
                    if is_connection_error(exc):
                        self._db_failed(exc)
                        return False
                    log.error("event log: %s row rejected (%s)", table, type(exc).__name__)
                    rejects.append((table, row, str(getattr(exc, "orig", exc))))
            return True
        finally:
            if rejects:
                self.stats.rejected += self.spool.reject(rejects)

    def _replay_segments(self) -> int:
        """Write every closed segment this process can lock, oldest first; returns how many it wrote."""
        written = 0
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
                try:
                    if os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
                        continue
                except FileNotFoundError:  # written and deleted by another process meanwhile
                    continue
                events = read_segment(fh)
                own = path.name in self._own
                for i in range(0, len(events), self.batch_size):
                    chunk = events[i:i + self.batch_size]
                    try:
                        self._write(chunk)
                    except Exception as exc:
                        if is_connection_error(exc):
                            if path.name not in self._held:
                                self._held.add(path.name)
                                self.stats.spooled += len(events) - i
                            self._db_failed(exc)
                            return written
                        if not self._write_one_by_one(chunk):
                            return written
                    if not own:
                        self.stats.replayed += len(chunk)
                path.unlink(missing_ok=True)
                written += 1
                self._own.discard(path.name)
                self._held.discard(path.name)
                if not self._db_up:
                    self._db_ok()
                if not own:
                    log.info("event log: replayed %d records from %s", len(events), path.name)
            finally:
                fh.close()
        return written
