"""``nlu_training_data`` (spec §7): the NLU's cache of record and its training-data collector.

* ``lookup`` — the spec's cache query: exact normalized text among rows with quality_score > 0.8
  (a correction, i.e. true_intent set, wins over the model's own prediction).
* ``TrainingDataWriter`` — every new result is queued and inserted by a background thread, so the
  request never waits for PostgreSQL; a database outage drops rows with a warning, never an error.
* ``fetch_labelled`` / ``mark_used`` — what training reads back: rows with a true_intent
  (user feedback or corrections), and the bookkeeping after a training run.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

from models.nlu.cache import Breaker

log = logging.getLogger(__name__)

CACHE_MIN_QUALITY = 0.8

_LOOKUP_SQL = f"""
-- the threshold is written into the text, not bound: only then can the planner use the partial
-- index idx_nlu_cache_lookup (normalized_text) WHERE quality_score > 0.8
SELECT COALESCE(true_intent, predicted_intent) AS intent,
       COALESCE(true_entities, extracted_entities) AS entities,
       intent_confidence, (true_intent IS NOT NULL) AS corrected
FROM nlu_training_data
WHERE normalized_text = :normalized AND quality_score > {CACHE_MIN_QUALITY}
  AND COALESCE(true_intent, predicted_intent) IS NOT NULL
  -- a model's own prediction is served only to that model: a retrain must not inherit it
  AND (true_intent IS NOT NULL OR model_version = :model_version)
ORDER BY (true_intent IS NOT NULL) DESC, created_at DESC
LIMIT 1
"""

_INSERT_SQL = """
INSERT INTO nlu_training_data
    (input_text, normalized_text, predicted_intent, intent_confidence, extracted_entities,
     user_id, data_source, quality_score, model_version)
VALUES (:input_text, :normalized_text, :predicted_intent, :intent_confidence, CAST(:extracted_entities AS jsonb),
        :user_id, :data_source, :quality_score, :model_version)
"""


def lookup(engine, normalized: str, model_version: str, conn=None) -> dict | None:
    """The spec's cache query: a correction of ``normalized``, or a confident prediction of the
    same ``model_version``. ``conn``: an open (autocommit) connection to reuse, else one from the pool."""
    from sqlalchemy import text  # noqa: PLC0415

    params = {"normalized": normalized, "model_version": model_version[:20]}
    if conn is not None:
        row = conn.execute(text(_LOOKUP_SQL), params).mappings().first()
    else:
        with engine.connect() as own:
            row = own.execute(text(_LOOKUP_SQL), params).mappings().first()
    if row is None:
        return None
    entities = row["entities"]
    if isinstance(entities, str):
        entities = json.loads(entities)
    confidence = float(row["intent_confidence"]) if row["intent_confidence"] is not None else 1.0
    return {"intent": row["intent"], "entities": entities or {},
            "confidence": 1.0 if row["corrected"] else confidence}


def insert_rows(engine, rows: list[dict]) -> None:
    from sqlalchemy import text  # noqa: PLC0415

    if not rows:
        return
    params = [{**r, "extracted_entities": json.dumps(r.get("extracted_entities") or {}, ensure_ascii=False)}
              for r in rows]
    with engine.begin() as conn:
        conn.execute(text(_INSERT_SQL), params)


def result_row(input_text: str, normalized: str, intent: str, confidence: float, entities: dict,
               model_version: str, user_id: str | None = None, data_source: str = "user_interaction") -> dict:
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    return {
        "input_text": input_text[:10_000], "normalized_text": normalized, "predicted_intent": intent,
        "intent_confidence": confidence, "extracted_entities": entities, "user_id": user_id,
        "data_source": data_source, "quality_score": round(confidence, 2), "model_version": model_version[:20],
    }


class TrainingDataWriter:
    """Write-behind inserts into nlu_training_data from a daemon thread, in small batches."""

    def __init__(self, engine_factory, maxsize: int = 10_000, batch: int = 50):
        self._engine_factory = engine_factory
        self._queue: queue.Queue[dict | None] = queue.Queue(maxsize=maxsize)
        self._batch = batch
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.breaker = Breaker()
        self.written = 0
        self.dropped = 0

    def submit(self, row: dict) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 10.0) -> None:
        """Block until every queued row was written (or dropped)."""
        if self._thread is None:
            return
        done = threading.Event()
        self._queue.put({"__flush__": done})
        done.wait(timeout)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="nlu-training-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            pending: list[dict] = []
            flushes: list[threading.Event] = []
            while item is not None:
                if "__flush__" in item:
                    flushes.append(item["__flush__"])
                else:
                    pending.append(item)
                if len(pending) >= self._batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    item = None
            self._write(pending)
            for event in flushes:
                event.set()

    def _write(self, rows: list[dict]) -> None:
        if not rows:
            return
        if not self.breaker.available():
            self.dropped += len(rows)
            return
        try:
            insert_rows(self._engine_factory(), rows)
            self.written += len(rows)
        except Exception as exc:  # noqa: BLE001 - the collector must never hurt the request path
            self.breaker.trip("nlu_training_data insert", exc)
            self.dropped += len(rows)


def fetch_labelled(engine, limit: int = 100_000) -> list[dict]:
    """Ground-truth rows for training: a true_intent from feedback or a correction."""
    from sqlalchemy import text  # noqa: PLC0415

    sql = """
    SELECT id, input_text, normalized_text, true_intent, COALESCE(true_entities, extracted_entities) AS entities,
           data_source, quality_score
    FROM nlu_training_data
    WHERE true_intent IS NOT NULL
    ORDER BY id DESC
    LIMIT :limit
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql), {"limit": limit}).mappings().all()
    out = []
    for r in rows:
        entities = r["entities"]
        if isinstance(entities, str):
            entities = json.loads(entities)
        out.append({"id": r["id"], "text": r["input_text"], "intent": r["true_intent"], "entities": entities or {},
                    "data_source": r["data_source"], "quality_score": float(r["quality_score"] or 1.0)})
    return out


def mark_used(engine, ids: list[int], batch_id: str, model_version: str) -> None:
    from sqlalchemy import bindparam, text  # noqa: PLC0415

    if not ids:
        return
    stmt = text("""UPDATE nlu_training_data SET used_for_training = true, training_batch_id = :batch,
                   model_version = COALESCE(model_version, :version) WHERE id IN :ids""").bindparams(
        bindparam("ids", expanding=True))
    with engine.begin() as conn:
        conn.execute(stmt, {"batch": batch_id[:100], "version": model_version[:20], "ids": ids})


def record_correction(engine, input_text: str, normalized: str, true_intent: str, true_entities: dict | None = None,
                      user_id: str | None = None) -> Any:
    """Store a user's / operator's correction (quality 1.0, so the cache serves it at once)."""
    from sqlalchemy import text  # noqa: PLC0415

    sql = """
    INSERT INTO nlu_training_data (input_text, normalized_text, true_intent, true_entities, user_id,
        feedback_provided, correction_applied, data_source, quality_score)
    VALUES (:t, :n, :i, CAST(:e AS jsonb), :u, true, true, 'corrected', 1.0) RETURNING id
    """
    with engine.begin() as conn:
        return conn.execute(text(sql), {"t": input_text, "n": normalized, "i": true_intent,
                                        "e": json.dumps(true_entities or {}, ensure_ascii=False), "u": user_id}).scalar_one()
