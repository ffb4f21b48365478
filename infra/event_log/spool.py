"""The event log's spool (its journal): append-only JSON-lines segments on local disk. Every record
is fsynced here before its turn is answered, and stays until it is written to PostgreSQL; segments
are written oldest first.

Records PostgreSQL refuses for their content go to ``rejected.jsonl`` beside the segments, with the
error: one write and one fsync per refused batch, rotated by size to ``rejected.1.jsonl`` … (newest
first) and the oldest deleted, so a stream of bad records cannot fill the disk."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from infra.event_log.tables import RECORD_KINDS
from infra.settings import get_settings

log = logging.getLogger(__name__)

#: a segment being created: not yet a ``seg-*.jsonl`` that replayers scan
OPENING_PREFIX = ".opening-"
#: records PostgreSQL refused, and the lock every writer of the folder takes to append or rotate it
REJECTED = "rejected.jsonl"
REJECTED_LOCK = ".rejected.lock"


class Spool:
    """Append-only JSON-lines segments under one folder; one live segment per process, flock-held."""

    def __init__(self, folder: Path, *, rejected_max_bytes: int | None = None, rejected_files: int | None = None) -> None:
        settings = get_settings()  # NAVIYAM_EVENT_LOG_REJECTED_*, unless the caller says
        self.folder = Path(folder)
        self.rejected_max_bytes = rejected_max_bytes or int(settings.event_log_rejected_max_mb * 2**20)
        self.rejected_files = rejected_files or settings.event_log_rejected_files
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO | None = None
        self._path: Path | None = None
        self._seq = 0
        self._remove_abandoned_openings()

    @property
    def live_path(self) -> Path | None:
        """The segment this process is appending to (flock-held; no one else writes it out)."""
        return self._path

    @property
    def rejected_path(self) -> Path:
        return self.folder / REJECTED

    def append(self, events: Iterable[tuple[str, dict]]) -> int:
        if self._fh is None:
            self._open_segment()
        fh = self._fh
        n = 0
        for table, row in events:
            fh.write(json.dumps({"t": table, "r": row}, ensure_ascii=False) + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
        return n

    def _open_segment(self) -> None:
        """A new live segment, locked before any other process can see it: it is created and
        flocked under a name replayers do not scan, then renamed into place. (Opening it under its
        final name left a moment in which another process's writer could lock it first, write out
        the empty file and delete it, while this one went on appending to the deleted file.)"""
        self._seq += 1
        name = f"seg-{int(time.time() * 1000):013d}-{os.getpid()}-{self._seq:04d}.jsonl"
        opening = self.folder / (OPENING_PREFIX + name)
        fh = open(opening, "a", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new private file: never contended
            os.rename(opening, self.folder / name)
            _fsync_folder(self.folder)  # the new file's name must survive a crash too
        except BaseException:
            fh.close()
            opening.unlink(missing_ok=True)
            raise
        self._fh, self._path = fh, self.folder / name

    def _remove_abandoned_openings(self) -> None:
        """Files a killed process left between creating and naming a segment (empty: nothing is
        appended before the rename); a live process's one is flock-held and stays, and a young one
        may be one another process is about to lock."""
        for path in self.folder.glob(OPENING_PREFIX + "*"):
            try:
                if time.time() - path.stat().st_mtime < 60:
                    continue
                with open(path, "a", encoding="utf-8") as fh:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    path.unlink(missing_ok=True)
            except (BlockingIOError, FileNotFoundError):
                continue

    def rotate(self) -> None:
        """Close the live segment so it can be replayed (releases its lock)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._path = None

    def segments(self) -> list[Path]:
        return sorted(p for p in self.folder.glob("seg-*.jsonl") if p != self._path)

    def claimable(self) -> list[Path]:
        """The segments no live process holds (closed ones, and those a killed process left): what a
        writer here can write out now."""
        out = []
        for path in self.segments():
            try:
                with open(path, "rb") as fh:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except (BlockingIOError, FileNotFoundError):
                continue
            out.append(path)
        return out

    def has_data(self) -> bool:
        return self._fh is not None or any(self.segments())

    def reject(self, rejects: Iterable[tuple[str, dict, str]]) -> int:
        """Append refused records ``(table, row, error)`` to ``rejected.jsonl`` in one write and one
        fsync (they are durable before their segment is deleted), rotating the file first when they
        would take it past ``rejected_max_bytes``. Returns how many were written."""
        lines = [json.dumps({"t": table, "r": row, "error": error[:500]}, ensure_ascii=False) + "\n"
                 for table, row, error in rejects]
        if not lines:
            return 0
        payload = "".join(lines).encode("utf-8")
        # every process writing into this folder (a service's workers) appends and rotates under one lock
        with open(self.folder / REJECTED_LOCK, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                size = self.rejected_path.stat().st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(payload) > self.rejected_max_bytes:
                self._rotate_rejected()
                size = 0
            fd = os.open(self.rejected_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            if not size:  # a new file: its name must survive a crash too
                _fsync_folder(self.folder)
        return len(lines)

    def _rotate_rejected(self) -> None:
        """rejected.jsonl → rejected.1.jsonl → … → rejected.<rejected_files>.jsonl; older ones go."""
        for n, path in _rotated_rejects(self.folder):
            if n >= self.rejected_files:
                path.unlink(missing_ok=True)
        for n in range(self.rejected_files - 1, 0, -1):
            older = self.folder / f"rejected.{n}.jsonl"
            if older.exists():
                os.replace(older, self.folder / f"rejected.{n + 1}.jsonl")
        os.replace(self.rejected_path, self.folder / "rejected.1.jsonl")
        _fsync_folder(self.folder)  # the renames must survive a crash, or a rotated file is overwritten

    def close(self) -> None:
        self.rotate()


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rotated_rejects(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for path in folder.glob("rejected.*.jsonl"):
        number = path.name[len("rejected."):-len(".jsonl")]
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def rejected_files(folder: Path) -> list[Path]:
    """A spool folder's rejected-records files, newest first (rejected.jsonl, rejected.1.jsonl, …)."""
    folder = Path(folder)
    live = folder / REJECTED
    return ([live] if live.exists() else []) + [path for _, path in _rotated_rejects(folder)]


def read_rejected(folder: Path, limit: int, table: str | None = None) -> list[dict]:
    """The newest ``limit`` refused records of a spool folder (of ``table`` only, when given), newest first."""
    found: list[dict] = []
    if limit <= 0:
        return found
    for path in rejected_files(folder):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:  # rotated away meanwhile
            continue
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except ValueError:  # torn by a crash mid-write
                continue
            if table is None or record.get("t") == table:
                found.append(record)
                if len(found) >= limit:
                    return found
    return found


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
