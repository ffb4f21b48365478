"""The event log's spool (its journal): append-only JSON-lines segments on local disk. Every record
is fsynced here before its turn is answered, and stays until it is written to PostgreSQL; segments
are written oldest first."""

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

log = logging.getLogger(__name__)

#: a segment being created: not yet a ``seg-*.jsonl`` that replayers scan
OPENING_PREFIX = ".opening-"


class Spool:
    """Append-only JSON-lines segments under one folder; one live segment per process, flock-held."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
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
        return self.folder / "rejected.jsonl"

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

    def has_data(self) -> bool:
        return self._fh is not None or any(self.segments())

    def reject(self, table: str, row: dict, error: str) -> None:
        with open(self.rejected_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"t": table, "r": row, "error": error[:500]}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def close(self) -> None:
        self.rotate()


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
