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


class Spool:
    """Append-only JSON-lines segments under one folder; one live segment per process, flock-held."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._fh: TextIO | None = None
        self._path: Path | None = None
        self._seq = 0

    @property
    def live_path(self) -> Path | None:
        """The segment this process is appending to (flock-held; no one else writes it out)."""
        return self._path

    @property
    def rejected_path(self) -> Path:
        return self.folder / "rejected.jsonl"

    def append(self, events: Iterable[tuple[str, dict]]) -> int:
        if self._fh is None:
            self._seq += 1
            self._path = self.folder / f"seg-{int(time.time() * 1000):013d}-{os.getpid()}-{self._seq:04d}.jsonl"
            self._fh = open(self._path, "a", encoding="utf-8")
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            _fsync_folder(self.folder)  # the new file's name must survive a crash too
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
