"""The event log writer: every turn's records reach PostgreSQL off the request path, in batches,
without loss and without doubles.

* ``emit(table, row)`` only appends to an in-memory queue; it never blocks on the database.
* A writer thread drains the queue every ``flush_interval_s`` (or at ``batch_size`` rows) and
  writes each batch in one transaction with ``INSERT … ON CONFLICT DO NOTHING`` on the tables'
  idempotency keys (``event_id`` + ``"timestamp"`` on the partitioned log tables,
  ``(session_id, conversation_turn)``, ``(recommendation_event_id, shop_id)``).
* When PostgreSQL is unreachable, batches go to an append-only spool (``data_dir/spool/events``,
  one JSON line per record, fsynced) and are replayed, oldest first, as soon as it answers again;
  new batches queue behind the spool so order is kept. A replayed record that had in fact reached
  the database (the commit's acknowledgement was lost) is skipped by the idempotency key.
* A record the database refuses for its content (a CHECK violation) is not retried forever: it goes
  to ``rejected.jsonl`` beside the spool with the error, and the rest of its batch is written.

Rows are JSON-native (ISO timestamps, JSON-encoded documents) so the live path and the replay path
are the same code. ``nlu_training_data`` has no idempotency column in the schema; its key is
(created_at, user_id, input_text), checked with ``WHERE NOT EXISTS`` (one writer thread per process).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy.exc as sa_exc
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[str, ...]
    conflict: str | None  # ON CONFLICT target; None: NOT EXISTS key below
    ts: frozenset[str] = frozenset()
    json: frozenset[str] = frozenset()
    uuid: frozenset[str] = frozenset()
    not_exists_key: tuple[str, ...] = ()
    casts: tuple[tuple[str, str], ...] = ()  # explicit types where PostgreSQL cannot infer them

    def placeholder(self, col: str) -> str:
        for name, sqltype in self.casts:
            if name == col:
                return f"CAST(:{col} AS {sqltype})"
        if col in self.ts:
            return f"CAST(:{col} AS timestamptz)"
        if col in self.json:
            return f"CAST(:{col} AS jsonb)"
        if col in self.uuid:
            return f"CAST(:{col} AS uuid)"
        return f":{col}"


def _q(col: str) -> str:
    return '"timestamp"' if col == "timestamp" else col


TABLES: dict[str, TableSpec] = {
    "conversations": TableSpec(
        columns=("user_id", "session_id", "conversation_id", "input_text", "response_text", "timestamp",
                 "extracted_intent", "intent_confidence", "extracted_entities", "user_strategy",
                 "conversation_turn", "previous_intent", "processing_time_ms", "nlu_time_ms",
                 "response_time_ms", "response_quality_score", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"extracted_entities"}), uuid=frozenset({"event_id"})),
    "conversation_contexts": TableSpec(
        columns=("session_id", "user_id", "conversation_turn", "context_data", "user_state",
                 "extracted_patterns", "context_type", "importance_score", "timestamp", "expires_at"),
        conflict="(session_id, conversation_turn)", ts=frozenset({"timestamp", "expires_at"}),
        json=frozenset({"context_data", "user_state", "extracted_patterns"})),
    "user_interactions": TableSpec(
        columns=("user_id", "session_id", "timestamp", "interaction_type", "intent", "entities",
                 "user_selection", "food_preference_extracted", "budget_pattern_extracted",
                 "companion_pattern_extracted", "coupon_usage", "satisfaction_score",
                 "interaction_sequence_pattern", "decision_confidence", "exploration_score", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"entities", "user_selection", "coupon_usage"}), uuid=frozenset({"event_id"})),
    "recommendations_log": TableSpec(
        columns=("user_id", "session_id", "timestamp", "request_intent", "request_entities", "recommendations",
                 "recommendation_count", "recommendation_method", "confidence_score",
                 "total_discount_available", "diversity_score", "personalization_score", "relevance_score",
                 "novelty_score", "model_variant", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"request_entities", "recommendations"}), uuid=frozenset({"event_id"})),
    "recommendation_features": TableSpec(
        columns=("user_id", "shop_id", "timestamp", "collaborative_score", "content_score", "contextual_score",
                 "popularity_score", "category_preference_match", "budget_compatibility", "distance_penalty",
                 "time_preference_match", "visited_before", "similar_user_liked", "user_avg_budget_normalized",
                 "user_favorite_count_normalized", "shop_rating_normalized", "shop_review_count_normalized",
                 "distance_normalized", "user_category_interaction", "budget_time_interaction",
                 "location_category_interaction", "predicted_score", "ranking_position",
                 "feature_contributions", "recommendation_event_id"),
        conflict="(recommendation_event_id, shop_id)", ts=frozenset({"timestamp"}),
        json=frozenset({"feature_contributions"}), uuid=frozenset({"recommendation_event_id"})),
    "nlu_training_data": TableSpec(
        columns=("input_text", "normalized_text", "predicted_intent", "intent_confidence", "extracted_entities",
                 "user_id", "data_source", "quality_score", "created_at", "model_version"),
        conflict=None, ts=frozenset({"created_at"}), json=frozenset({"extracted_entities"}),
        not_exists_key=("created_at", "user_id", "input_text"),
        casts=(("input_text", "text"), ("normalized_text", "text"), ("predicted_intent", "varchar"),
               ("intent_confidence", "numeric"), ("user_id", "varchar"), ("data_source", "varchar"),
               ("quality_score", "numeric"), ("model_version", "varchar"))),
    "performance_logs": TableSpec(
        columns=("timestamp", "operation_type", "processing_time_ms", "nlu_time_ms", "rag_time_ms",
                 "recommendation_time_ms", "response_generation_time_ms", "total_time_ms", "memory_usage_mb",
                 "cpu_usage_percent", "cache_hit_rate", "confidence_score", "success", "error_type",
                 "error_message", "user_id", "session_id", "request_complexity", "bottleneck_component",
                 "optimization_suggestions", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"optimization_suggestions"}), uuid=frozenset({"event_id"})),
}


#: Changes a later record makes to an earlier one, applied after the batch's inserts (so a log row
#: and a reaction to it in the same batch meet in order). Each is idempotent, so a replayed spool
#: segment applies it again harmlessly. A reaction to a recommendation nobody logged updates nothing
#: (its user_interactions row is still the record).
UPDATES: dict[str, tuple[tuple[str, ...], str]] = {
    # /feedback → the recommendation's log row: which shops the child opened, which one they chose,
    # and how long that took (what the warehouse's click-through and conversion rates count)
    "recommendation_reactions": (
        ("recommendation_id", "viewed_shop_id", "selected_shop_id", "at"),
        """
        UPDATE recommendations_log SET
            user_viewed_details = CASE WHEN CAST(:viewed_shop_id AS int) IS NULL THEN user_viewed_details
                ELSE (SELECT jsonb_agg(DISTINCT v ORDER BY v) FROM jsonb_array_elements(
                          COALESCE(user_viewed_details, '[]'::jsonb) || to_jsonb(CAST(:viewed_shop_id AS int))) AS v)
                END,
            user_final_selection = COALESCE(CAST(:selected_shop_id AS int), user_final_selection),
            time_to_decision_ms = CASE
                WHEN CAST(:selected_shop_id AS int) IS NOT NULL AND time_to_decision_ms IS NULL
                THEN GREATEST(0, ROUND(EXTRACT(EPOCH FROM (CAST(:at AS timestamptz) - "timestamp")) * 1000))::int
                ELSE time_to_decision_ms END
        WHERE event_id = CAST(:recommendation_id AS uuid)
          AND "timestamp" <= CAST(:at AS timestamptz) AND "timestamp" > CAST(:at AS timestamptz) - interval '7 days'
        """,
    ),
}


def insert_sql(table: str) -> str:
    spec = TABLES[table]
    cols = ", ".join(_q(c) for c in spec.columns)
    values = ", ".join(spec.placeholder(c) for c in spec.columns)
    if spec.conflict:
        return f"INSERT INTO {table} ({cols}) VALUES ({values}) ON CONFLICT {spec.conflict} DO NOTHING"
    key = " AND ".join(
        f"{_q(k)} = {spec.placeholder(k)}" if k in spec.ts else f"{_q(k)} IS NOT DISTINCT FROM {spec.placeholder(k)}"
        for k in spec.not_exists_key
    )
    return f"INSERT INTO {table} ({cols}) SELECT {values} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {key})"


_SQL = {t: text(insert_sql(t)) for t in TABLES} | {t: text(sql) for t, (_, sql) in UPDATES.items()}
RECORD_KINDS = frozenset(TABLES) | frozenset(UPDATES)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def encode_row(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as JSON-native parameters: every column present, documents JSON-encoded."""
    if table in UPDATES:
        params = UPDATES[table][0]
        unknown = set(row) - set(params)
        if unknown:
            raise ValueError(f"{table}: unknown field(s) {sorted(unknown)}")
        return {p: _jsonable(row.get(p)) for p in params}
    spec = TABLES[table]
    unknown = set(row) - set(spec.columns)
    if unknown:
        raise ValueError(f"{table}: unknown column(s) {sorted(unknown)}")
    out: dict[str, Any] = {}
    for c in spec.columns:
        v = row.get(c)
        if c in spec.json and v is not None and not isinstance(v, str):
            v = json.dumps(v, ensure_ascii=False, default=_jsonable)
        out[c] = _jsonable(v)
    return out


def new_event_id() -> str:
    return str(uuid.uuid4())


def is_connection_error(exc: BaseException) -> bool:
    """True when the database could not be reached (retry later); False for a bad record."""
    if isinstance(exc, (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.ProgrammingError)):
        return False
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        import psycopg

        return isinstance(exc.orig, (psycopg.OperationalError, psycopg.InterfaceError))
    return isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError, sa_exc.InterfaceError,
                            ConnectionError, OSError))


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


class Spool:
    """Append-only JSON-lines segments under one folder; one live segment per process, flock-held."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO | None = None
        self._path: Path | None = None
        self._seq = 0

    @property
    def rejected_path(self) -> Path:
        return self.folder / "rejected.jsonl"

    def append(self, events: Iterable[tuple[str, dict]]) -> int:
        if self._fh is None:
            self._seq += 1
            self._path = self.folder / f"seg-{int(time.time() * 1000):013d}-{os.getpid()}-{self._seq:04d}.jsonl"
            self._fh = open(self._path, "a", encoding="utf-8")
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh = self._fh
        n = 0
        for table, row in events:
            fh.write(json.dumps({"t": table, "r": row}, ensure_ascii=False) + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
        return n

    def rotate(self) -> None:
        """Close the live segment so it can be replayed (releases its lock)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._path = None

    def segments(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("seg-*.jsonl") if p != self._path)

    def has_data(self) -> bool:
        return self._fh is not None or any(self.segments())

    def reject(self, table: str, row: dict, error: str) -> None:
        with open(self.rejected_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"t": table, "r": row, "error": error[:500]}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def close(self) -> None:
        self.rotate()


def read_segment(fh) -> list[tuple[str, dict]]:
    events = []
    for line in fh:
        line = line.strip()
        if not line:
            continue
        try:
            d = json.loads(line)
        except ValueError:  # a line torn by a crash mid-write: its records never were acknowledged
            log.warning("spool: skipping a torn line")
            continue
        if d.get("t") in RECORD_KINDS:
            events.append((d["t"], d["r"]))
    return events


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
            # a fixed order: parents before children, updates after the rows they change; no
            # deadlocks between writers
            for table in (*TABLES, *UPDATES):
                rows = by_table.get(table)
                if rows:
                    conn.execute(_SQL[table], rows)
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
