"""``nlu_training_data`` (spec §7): the NLU's cache of record and its training-data collector.

* ``lookup`` — the spec's cache query: exact normalized text among rows with quality_score > 0.8
  (a correction, i.e. true_intent set, wins over the model's own prediction).
* ``TrainingDataWriter`` — every new result is handed to the event log (``infra.event_log``, the
  table's one writer), so the request never waits for PostgreSQL and an outage spools, never drops.
* ``fetch_labelled`` / ``mark_used`` — what training reads back: rows with a true_intent
  (user feedback or corrections), and the bookkeeping after a training run.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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


def result_row(input_text: str, normalized: str, intent: str, confidence: float, entities: dict,
               model_version: str, user_id: str | None = None, data_source: str = "user_interaction") -> dict:
    confidence = round(max(0.0, min(1.0, confidence)), 3)
    return {
        "input_text": input_text[:10_000], "normalized_text": normalized, "predicted_intent": intent,
        "intent_confidence": confidence, "extracted_entities": entities, "user_id": user_id,
        "data_source": data_source, "quality_score": round(confidence, 2), "model_version": model_version[:20],
    }


class TrainingDataWriter:
    """The NLU's collector when it runs outside the chat service (``naviyam nlu parse``, tests).

    It only hands rows to the event log, the one writer of ``nlu_training_data`` (inside the
    service the pipeline emits the same rows to the service's event log and the parser runs with
    ``persist=False``): batches off the request path, a local spool while PostgreSQL is away, and
    replay, so a collected row is never dropped.
    """

    def __init__(self, engine_factory, spool_dir: Path | None = None):
        self._engine_factory = engine_factory
        self._spool_dir = spool_dir
        self._log = None
        self._lock = threading.Lock()

    def _event_log(self):
        with self._lock:
            if self._log is None:
                from infra.event_log import EventLog  # noqa: PLC0415
                from infra.settings import get_settings  # noqa: PLC0415

                spool = self._spool_dir or get_settings().data_dir / "spool" / "nlu"
                self._log = EventLog(self._engine_factory(), spool)
            return self._log

    def submit(self, row: dict) -> None:
        self._event_log().emit("nlu_training_data", {**row, "created_at": row.get("created_at") or datetime.now(timezone.utc)})

    @property
    def stats(self):
        """The event log's counters (``written``, ``spooled``, …); None before the first row."""
        return None if self._log is None else self._log.stats

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until every submitted row is written (or spooled, the database being away)."""
        return self._log is None or self._log.flush(timeout)


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
