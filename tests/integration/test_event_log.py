"""The event log against real PostgreSQL: batches, idempotency, and a database outage mid-load."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from infra.event_log import EventLog, encode_row, new_event_id

pytestmark = pytest.mark.integration


def _conv(i: int, ts: datetime) -> dict:
    return {"user_id": f"u{i % 7}", "session_id": f"s{i % 13}", "input_text": f"배고파 {i}", "response_text": "네",
            "timestamp": ts, "extracted_intent": "food_request", "intent_confidence": 0.9,
            "extracted_entities": {"budget": 5000}, "user_strategy": "normal", "conversation_turn": 1,
            "event_id": new_event_id()}


def _perf(i: int, ts: datetime) -> dict:
    return {"timestamp": ts, "operation_type": "chat", "total_time_ms": i % 50, "success": True,
            "optimization_suggestions": {"stage_ms": {"nlu": 1.0}}, "event_id": new_event_id()}


def _nlu(i: int, ts: datetime) -> dict:
    return {"input_text": f"배고파 {i}", "normalized_text": f"배고파 {i}", "predicted_intent": "food_request",
            "extracted_entities": {}, "user_id": f"u{i}", "data_source": "user_interaction", "created_at": ts}


def _counts(engine, marker_ts: datetime) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        out = {}
        for table, col in (("conversations", "event_id"), ("performance_logs", "event_id")):
            total, distinct = conn.execute(text(
                f'SELECT count(*), count(DISTINCT {col}) FROM {table} WHERE "timestamp" >= :ts'), {"ts": marker_ts}).one()
            out[table] = (total, distinct)
        total, distinct = conn.execute(text(
            "SELECT count(*), count(DISTINCT (input_text, user_id)) FROM nlu_training_data WHERE created_at >= :ts"),
            {"ts": marker_ts}).one()
        out["nlu_training_data"] = (total, distinct)
        return out


def _set_connections(settings, dbname: str, allowed: bool) -> None:
    with psycopg.connect(settings.libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(dbname), sql.SQL("true" if allowed else "false")))
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                         (dbname,))


def test_batches_are_written_and_replays_never_double(migrated_engine, tmp_path):
    log = EventLog(migrated_engine, tmp_path / "spool", flush_interval_s=0.05)
    t0 = datetime.now(timezone.utc) - timedelta(seconds=1)
    rows = [_conv(i, t0 + timedelta(milliseconds=i)) for i in range(50)]
    log.emit_many(("conversations", r) for r in rows)
    assert log.flush(10)
    # the same records again (a replay after a lost acknowledgement): no doubles
    log.spool.append([("conversations", encode_row("conversations", r))
                      for r in rows[:20]])
    log.spool.rotate()
    assert log.flush(10, require_db=True)
    assert _counts(migrated_engine, t0)["conversations"] == (50, 50)
    assert log.stats.replayed == 20
    log.close()


def test_a_bad_record_is_set_aside_not_retried_forever(migrated_engine, tmp_path):
    log = EventLog(migrated_engine, tmp_path / "spool", flush_interval_s=0.05)
    t0 = datetime.now(timezone.utc)
    good = _conv(1, t0)
    bad = dict(_conv(2, t0), intent_confidence=7.5)  # violates the CHECK (0..1)
    log.emit("conversations", good)
    log.emit("conversations", bad)
    assert log.flush(10)
    assert log.stats.rejected == 1
    assert (tmp_path / "spool" / "rejected.jsonl").read_text().count("\n") == 1
    with migrated_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM conversations WHERE event_id = :e"), {"e": good["event_id"]}).scalar() == 1
    log.close()


@pytest.mark.slow
def test_database_outage_mid_load_loses_nothing_and_doubles_nothing(migrated_engine, settings, tmp_path):
    dbname = migrated_engine.url.database
    log = EventLog(migrated_engine, tmp_path / "spool", flush_interval_s=0.05, retry_max_s=0.5)
    time.sleep(0.01)
    t0 = datetime.now(timezone.utc)  # rows of earlier tests in this module are older
    n_per_thread, threads = 300, 4
    emitted = []

    def load(k: int) -> None:
        for i in range(n_per_thread):
            j = k * n_per_thread + i
            ts = datetime.now(timezone.utc)
            log.emit("conversations", _conv(j, ts))
            log.emit("performance_logs", _perf(j, ts))
            log.emit("nlu_training_data", _nlu(j, ts))
            emitted.append(j)
            time.sleep(0.002)

    workers = [threading.Thread(target=load, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    time.sleep(0.3)
    _set_connections(settings, dbname, False)  # kill every connection and refuse new ones
    try:
        time.sleep(1.0)
        assert not log.db_up
    finally:
        _set_connections(settings, dbname, True)
    for w in workers:
        w.join()
    assert log.stats.spooled > 0, "the outage should have sent records to the spool"
    assert log.flush(60, require_db=True)
    total = n_per_thread * threads
    counts = _counts(migrated_engine, t0)
    assert counts["conversations"] == (total, total)
    assert counts["performance_logs"] == (total, total)
    assert counts["nlu_training_data"] == (total, total)
    assert not list((tmp_path / "spool").glob("seg-*.jsonl"))
    log.close()


def test_reactions_fold_into_the_recommendation_row_once(migrated_engine, tmp_path):
    """/feedback's reactions land on the logged recommendation, in order, and replay harmlessly."""

    log = EventLog(migrated_engine, tmp_path / "spool", flush_interval_s=0.05)
    shown = datetime.now(timezone.utc) - timedelta(seconds=30)
    rec_id = new_event_id()
    owner = {"user_id": "77", "session_id": "s-react"}
    recs = [{"shop_id": 11, "ranking": 1}, {"shop_id": 22, "ranking": 2}]
    # the log row and the first reaction in one batch: the insert must come first
    log.emit_many([
        ("recommendations_log", {"user_id": "77", "session_id": "s-react", "timestamp": shown,
                                 "request_intent": "food_request", "recommendations": recs,
                                 "recommendation_count": 2, "event_id": rec_id}),
        ("recommendation_reactions", {"recommendation_id": rec_id, "viewed_shop_id": 22, "selected_shop_id": None,
                                      "at": shown + timedelta(seconds=4), **owner}),
    ])
    assert log.flush(10)
    chose = {"recommendation_id": rec_id, "viewed_shop_id": 11, "selected_shop_id": 11,
             "at": shown + timedelta(seconds=9), **owner}
    # another child, or the right child about a shop that was never recommended: changes nothing
    log.emit("recommendation_reactions", {**chose, "user_id": "78", "at": shown + timedelta(seconds=5)})
    log.emit("recommendation_reactions", {**chose, "selected_shop_id": 33, "viewed_shop_id": 33,
                                          "at": shown + timedelta(seconds=6)})
    log.emit("recommendation_reactions", chose)
    # a reaction to a recommendation nobody logged changes nothing and fails nothing
    log.emit("recommendation_reactions", {"recommendation_id": new_event_id(), "viewed_shop_id": 5,
                                          "selected_shop_id": 5, "at": shown})
    assert log.flush(10)
    log.spool.append([("recommendation_reactions", encode_row("recommendation_reactions", chose))])  # a replay
    log.spool.rotate()
    assert log.flush(10, require_db=True)
    with migrated_engine.connect() as conn:
        viewed, final, decision_ms = conn.execute(text(
            "SELECT user_viewed_details, user_final_selection, time_to_decision_ms FROM recommendations_log "
            "WHERE event_id = CAST(:e AS uuid)"), {"e": rec_id}).one()
    assert viewed == [11, 22]
    assert final == 11
    assert 8_900 <= decision_ms <= 9_100
    assert log.stats.rejected == 0
    log.close()
    with pytest.raises(ValueError, match="unknown field"):
        encode_row("recommendation_reactions", {"recommendation_id": rec_id, "shop": 1})


def test_every_table_spec_matches_the_migrated_schema(migrated_engine):
    """The specs restate the columns the service writes; a column the migration renames, drops or
    retypes fails here rather than as rejected records in production."""
    from infra.event_log import TABLES

    with migrated_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ANY(:t)"), {"t": list(TABLES)}).all()
    types = {(t, c): d for t, c, d in rows}
    for table, spec in TABLES.items():
        for column in spec.columns:
            assert (table, column) in types, f"{table}.{column} is not in the schema"
        assert {types[table, c] for c in spec.ts} <= {"timestamp with time zone"}, table
        assert {types[table, c] for c in spec.json} <= {"jsonb"}, table
        assert {types[table, c] for c in spec.uuid} <= {"uuid"}, table


CHILD = """
import sys, time
from datetime import datetime, timezone
from sqlalchemy import create_engine
from infra.event_log import EventLog, new_event_id
log = EventLog(create_engine(sys.argv[1]), sys.argv[2], flush_interval_s=3600)  # nothing leaves the journal
for i in range(100000):
    eid = new_event_id()
    log.emit("conversations", {"user_id": "kill", "session_id": "k", "input_text": "x", "response_text": "y",
                               "timestamp": datetime.now(timezone.utc), "conversation_turn": i + 1, "event_id": eid})
    print(eid, flush=True)  # acknowledged: emit returned, so the record is fsynced
"""


@pytest.mark.slow
def test_records_acknowledged_before_a_sigkill_are_written_by_the_next_writer(migrated_engine, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    url = migrated_engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(tmp_path / "spool")], stdout=subprocess.PIPE,
                             text=True, env={**os.environ})
    acked = []
    while len(acked) < 200:
        line = child.stdout.readline()
        assert line, "the child died early"
        acked.append(line.strip())
    os.kill(child.pid, signal.SIGKILL)  # mid-stream: its queue and its open segment die with it
    child.wait()
    log = EventLog(migrated_engine, tmp_path / "spool", flush_interval_s=0.05)
    assert log.flush(30, require_db=True)
    with migrated_engine.connect() as conn:
        stored = conn.execute(text("SELECT event_id::text, count(*) FROM conversations WHERE user_id = 'kill' "
                                   "GROUP BY event_id")).all()
    counts = dict(stored)
    assert not set(acked) - set(counts), f"{len(set(acked) - set(counts))} acknowledged records lost"
    assert all(c == 1 for c in counts.values())
    assert log.stats.replayed >= len(acked)
    log.close()
