"""The event log's journal folder: a live segment is never visible to another process's replayer
before it is locked, and what a killed process left half-created is cleaned up."""

from __future__ import annotations

import builtins
import fcntl
import os
import time

import pytest

from infra.event_log import spool as spool_mod
from infra.event_log.spool import OPENING_PREFIX, Spool, read_segment


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
