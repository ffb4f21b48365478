"""The event log's journal folder: a live segment is never visible to another process's replayer
before it is locked, and what a killed process left half-created is cleaned up. Refused records are
written one batch per fsync, into size-rotated files of a bounded number."""

from __future__ import annotations

import builtins
import fcntl
import json
import os
import time

import pytest

from infra.event_log import spool as spool_mod
from infra.event_log.spool import OPENING_PREFIX, Spool, read_rejected, read_segment, rejected_files


def test_a_new_segment_is_locked_before_a_replayer_can_see_it(tmp_path, monkeypatch):
    s = Spool(tmp_path)
    visible_unlocked: list[str] = []
    real_open = builtins.open

    def open_then_look(path, *args, **kwargs):
        fh = real_open(path, *args, **kwargs)
        # another process's writer scans the folder at the worst moment: right after the file exists
        for seg in tmp_path.glob("seg-*.jsonl"):
            with real_open(seg, encoding="utf-8") as other:
                try:
                    fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    visible_unlocked.append(seg.name)
                except BlockingIOError:
                    pass
        return fh

    monkeypatch.setattr(spool_mod, "open", open_then_look, raising=False)
    s.append([("conversations", {"a": 1})])
    monkeypatch.undo()
    assert visible_unlocked == []
    live = s.live_path
    assert live is not None and live.name.startswith("seg-") and not list(tmp_path.glob(OPENING_PREFIX + "*"))
    with open(live, encoding="utf-8") as other:  # still locked by its owner
        with pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    s.rotate()
    with open(live, encoding="utf-8") as fh:
        assert read_segment(fh) == [("conversations", {"a": 1})]


def test_an_abandoned_opening_is_removed_and_a_young_one_kept(tmp_path):
    old = tmp_path / (OPENING_PREFIX + "seg-1-1-0001.jsonl")
    young = tmp_path / (OPENING_PREFIX + "seg-2-2-0001.jsonl")
    old.touch()
    young.touch()
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    s = Spool(tmp_path)
    assert not old.exists() and young.exists()  # young: another process may be about to lock it
    assert s.segments() == []


def _rejects(n: int, table: str = "conversations") -> list[tuple[str, dict, str]]:
    return [(table, {"i": i, "text": "x" * 100}, "CheckViolation") for i in range(n)]


def test_a_batch_of_rejects_is_one_write_and_one_fsync(tmp_path, monkeypatch):
    s = Spool(tmp_path)
    fsynced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(spool_mod.os, "fsync", lambda fd: (fsynced.append(fd), real_fsync(fd)))
    assert s.reject(_rejects(3)) == 3
    assert len(fsynced) == 2  # the file once, and the folder once for the new file's name
    fsynced.clear()
    assert s.reject(_rejects(5)) == 5 and len(fsynced) == 1
    assert s.reject([]) == 0 and len(fsynced) == 1
    lines = s.rejected_path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["r"]["i"] for line in lines] == [0, 1, 2, 0, 1, 2, 3, 4]


def test_rejects_rotate_by_size_and_keep_a_bounded_number_of_files(tmp_path):
    def batch_of(b: int) -> list[tuple[str, dict, str]]:
        return [("conversations", {"batch": b, "i": i, "text": "x" * 100}, "bad") for i in range(2)]

    per_batch = sum(len(json.dumps({"t": t, "r": r, "error": e}).encode()) + 1 for t, r, e in batch_of(10))
    s = Spool(tmp_path, rejected_max_bytes=3 * per_batch, rejected_files=2)  # a file holds three batches
    for b in range(10, 22):
        s.reject(batch_of(b))
    files = rejected_files(tmp_path)
    assert [p.name for p in files] == ["rejected.jsonl", "rejected.1.jsonl", "rejected.2.jsonl"]
    assert all(p.stat().st_size <= 3 * per_batch for p in files)
    assert not (tmp_path / "rejected.3.jsonl").exists()  # the oldest went
    newest = read_rejected(tmp_path, 100)
    batches = [r["r"]["batch"] for r in newest]
    assert batches == sorted(batches, reverse=True) and batches[0] == 21  # newest first, across files
    assert len(newest) == 18 and min(batches) == 13  # three files of three batches: 10-12 were deleted
    assert [r["r"]["i"] for r in read_rejected(tmp_path, 3)] == [1, 0, 1]
    assert read_rejected(tmp_path, 5, table="user_interactions") == []


def test_the_bounds_come_from_the_settings(tmp_path, monkeypatch):
    from infra.settings import get_settings

    monkeypatch.setattr(get_settings(), "event_log_rejected_max_mb", 0.5)
    monkeypatch.setattr(get_settings(), "event_log_rejected_files", 7)
    s = Spool(tmp_path)
    assert (s.rejected_max_bytes, s.rejected_files) == (2**19, 7)


def test_a_batch_larger_than_the_limit_still_lands_in_a_file_of_its_own(tmp_path):
    s = Spool(tmp_path, rejected_max_bytes=500, rejected_files=3)
    s.reject(_rejects(1))
    s.reject(_rejects(10))  # alone it passes the limit: rotated first, written whole
    assert [len(p.read_text().splitlines()) for p in rejected_files(tmp_path)] == [10, 1]


def test_the_writer_rejects_a_refused_batch_with_one_call(tmp_path, monkeypatch):
    """A batch PostgreSQL refuses is retried row by row; its refused rows reach the rejected file in
    one call (one fsync), and the writer counts them."""
    from sqlalchemy.exc import IntegrityError

    from infra.event_log.writer import EventLog

    log = EventLog(engine=None, spool_dir=tmp_path, start=False)
    written: list[dict] = []

    def write(batch):
        if len(batch) > 1 or batch[0][1]["bad"]:
            raise IntegrityError("INSERT", {}, Exception("check violation"))
        written.append(batch[0][1])

    calls: list[int] = []
    real_reject = log.spool.reject
    monkeypatch.setattr(log, "_write", write)
    monkeypatch.setattr(log.spool, "reject", lambda rejects: calls.append(len(rejects)) or real_reject(rejects))
    batch = [("conversations", {"i": i, "bad": i % 2 == 1}) for i in range(6)]
    assert log._write_one_by_one(batch) is True
    assert [r["i"] for r in written] == [0, 2, 4]
    assert calls == [3] and log.stats.rejected == 3
    assert [r["r"]["i"] for r in read_rejected(tmp_path, 10)] == [5, 3, 1]


def test_rejects_found_before_the_database_went_away_are_kept(tmp_path, monkeypatch):
    from sqlalchemy.exc import IntegrityError, OperationalError

    from infra.event_log.writer import EventLog

    log = EventLog(engine=None, spool_dir=tmp_path, start=False)

    def write(batch):
        i = batch[0][1]["i"]
        if i == 0:
            raise IntegrityError("INSERT", {}, Exception("check violation"))
        raise OperationalError("INSERT", {}, Exception("server closed the connection"), connection_invalidated=True)

    monkeypatch.setattr(log, "_write", write)
    assert log._write_one_by_one([("conversations", {"i": 0}), ("conversations", {"i": 1})]) is False
    assert log.stats.rejected == 1 and not log.db_up
    assert [r["r"]["i"] for r in read_rejected(tmp_path, 10)] == [0]


def test_naviyam_data_quarantine_lists_the_event_logs_rejects(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from infra import cli
    from infra.settings import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path)
    Spool(tmp_path / "spool" / "events").reject(_rejects(3) + _rejects(1, "user_interactions"))
    Spool(tmp_path / "spool" / "nlu").reject(_rejects(2, "nlu_training_data"))
    run = lambda *args: CliRunner().invoke(cli.data_app, ["quarantine", "--source", "events", *args])  # noqa: E731
    result = run("--limit", "4")
    assert result.exit_code == 0, result.output
    shown = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["spool"], r["table"], r["row"]["i"]) for r in shown] == [
        ("events", "user_interactions", 0), ("events", "conversations", 2), ("events", "conversations", 1),
        ("events", "conversations", 0)]
    assert shown[0]["error"] == "CheckViolation"
    only = [json.loads(line)["spool"] for line in run("--sheet", "nlu_training_data").output.splitlines()]
    assert only == ["nlu", "nlu"]


def test_the_writer_waits_instead_of_spinning_on_another_processes_live_segment(tmp_path):
    from infra.event_log.writer import EventLog

    other = open(tmp_path / "seg-0000000000001-99999-0001.jsonl", "a", encoding="utf-8")
    fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # another worker's live segment
    log = EventLog(engine=None, spool_dir=tmp_path, start=False, flush_interval_s=0.1)
    passes = []
    real = log._replay_segments
    log._replay_segments = lambda: passes.append(1) or real()
    log.start()
    try:
        time.sleep(1.0)
        assert len(passes) <= 15, f"{len(passes)} passes in 1 s over a segment it cannot take"
        assert log.spool.claimable() == []  # held by its live owner: not this writer's to wait for
        assert log.flush(timeout_s=1.0), "flush must not wait for another process's live segment"
    finally:
        log.close(timeout_s=2)
        other.close()
