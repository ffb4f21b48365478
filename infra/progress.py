"""Progress of long jobs: one utility for index builds, embedding, training epochs, ingest,
materialization stages and simulations.

On a terminal it draws one self-overwriting bar with rate and ETA on stderr; anywhere else (CI,
Dagster's captured logs, a pipe) it prints a plain line every ``interval`` seconds and a final
one, so a log never fills with carriage returns and a long stage is never silent.

    from infra.progress import Progress, track

    for doc in track(docs, "embed menus", unit="docs"):         # wraps an iterable
        ...
    with Progress("index build", total=n, unit="docs") as bar:  # or updated by hand
        bar.update(len(batch), collection="menus")

``sink=context.log.info`` sends the plain lines to Dagster's log instead of stderr. The mode
comes from ``NAVIYAM_PROGRESS`` (auto / bar / lines / off) unless given.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Literal, TypeVar

T = TypeVar("T")
Mode = Literal["auto", "bar", "lines", "off"]
Sink = Callable[[str], None]

_BAR_WIDTH = 24
_BAR_REDRAW_S = 0.1  # a terminal redraw more often than this only costs CPU


def _default_mode() -> Mode:
    # read directly (not through Settings) so a progress bar never costs a settings parse and
    # works in tools that run before settings are valid; the field is still declared there
    value = os.environ.get("NAVIYAM_PROGRESS", "auto").strip().lower()
    return value if value in ("auto", "bar", "lines", "off") else "auto"  # type: ignore[return-value]


def _default_interval() -> float:
    try:
        return max(0.5, float(os.environ.get("NAVIYAM_PROGRESS_INTERVAL_S", "10")))
    except ValueError:
        return 10.0


def format_duration(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``3725`` -> ``1h02m``: short enough for a bar, exact enough for an ETA."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _format_count(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


class Progress:
    """A counter towards an optional total, reported as a bar (terminal) or periodic lines.

    Thread-safe: embedding workers may call ``update`` concurrently.
    """

    def __init__(
        self,
        label: str,
        total: float | None = None,
        unit: str = "items",
        *,
        mode: Mode | None = None,
        interval: float | None = None,
        sink: Sink | None = None,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total if total is None or total > 0 else None
        self.unit = unit
        self.count = 0.0
        self.postfix: dict[str, object] = {}
        self._stream = stream if stream is not None else sys.stderr
        self._sink = sink
        self._clock = clock
        self._interval = _default_interval() if interval is None else interval
        self._lock = threading.Lock()
        self._started = clock()
        self._last_emit = self._started
        self._closed = False
        self._drawn = False
        self.mode = self._resolve(mode or _default_mode())

    def _resolve(self, mode: Mode) -> Mode:
        if mode != "auto":
            return mode
        if self._sink is not None:  # a log sink is never a terminal
            return "lines"
        isatty = getattr(self._stream, "isatty", None)
        return "bar" if isatty is not None and isatty() and os.environ.get("TERM") != "dumb" else "lines"

    # --- figures -------------------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    @property
    def rate(self) -> float | None:
        elapsed = self.elapsed
        return self.count / elapsed if elapsed > 0 and self.count > 0 else None

    @property
    def eta(self) -> float | None:
        rate = self.rate
        if self.total is None or rate is None:
            return None
        return max(0.0, (self.total - self.count) / rate)

    def describe(self) -> str:
        """The plain-line form: ``embed menus: 450/1,000 docs (45%), 120.3 docs/s, ETA 5s``."""
        done = _format_count(self.count)
        if self.total is not None:
            percent = 100.0 * min(self.count, self.total) / self.total
            head = f"{self.label}: {done}/{_format_count(self.total)} {self.unit} ({percent:.0f}%)"
        else:
            head = f"{self.label}: {done} {self.unit}"
        parts = [head]
        rate = self.rate
        if rate is not None:
            parts.append(f"{rate:,.1f} {self.unit}/s")
        if self._closed:
            parts.append(f"done in {format_duration(self.elapsed)}")
        else:
            eta = self.eta
            parts.append(f"ETA {format_duration(eta)}" if eta is not None else f"{format_duration(self.elapsed)} elapsed")
        line = ", ".join(parts)
        if self.postfix:
            line += " [" + " ".join(f"{k}={v}" for k, v in self.postfix.items()) + "]"
        return line

    def _bar(self) -> str:
        if self.total is None:
            return self.describe()
        filled = int(_BAR_WIDTH * min(self.count, self.total) / self.total)
        bar = "█" * filled + "·" * (_BAR_WIDTH - filled)
        rest = self.describe().split(": ", 1)[1]
        return f"{self.label} |{bar}| {rest}"

    # --- updates -------------------------------------------------------------------------
    def update(self, n: float = 1, **postfix: object) -> None:
        with self._lock:
            if self._closed:
                return
            self.count += n
            self.postfix.update(postfix)
            self._maybe_emit()

    def set(self, count: float, total: float | None = None, **postfix: object) -> None:
        """Set the absolute position (a stage reporter that knows ``done of total``)."""
        with self._lock:
            if self._closed:
                return
            self.count = count
            if total is not None:
                self.total = total if total > 0 else None
            self.postfix.update(postfix)
            self._maybe_emit()

    def _maybe_emit(self) -> None:
        now = self._clock()
        if self.mode == "bar":
            if now - self._last_emit >= _BAR_REDRAW_S or not self._drawn:
                self._draw()
                self._last_emit = now
        elif self.mode == "lines" and now - self._last_emit >= self._interval:
            self._emit_line(self.describe())
            self._last_emit = now

    def _draw(self, final: bool = False) -> None:
        try:
            columns = os.get_terminal_size(self._stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 120
        text = self._bar()[: max(20, columns - 1)]
        self._stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        self._stream.flush()
        self._drawn = True

    def _emit_line(self, line: str) -> None:
        if self._sink is not None:
            self._sink(line)
        else:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Print the final figures once (``done in``), whatever the mode but ``off``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.mode == "bar":
                self._draw(final=True)
            elif self.mode == "lines":
                self._emit_line(self.describe())

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.postfix["failed"] = exc_type.__name__
        self.close()


def track(
    iterable: Iterable[T],
    label: str,
    total: float | None = None,
    unit: str = "items",
    **options,
) -> Iterator[T]:
    """Yield from ``iterable``, counting one per item (``total`` defaults to ``len()``)."""
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(label, total=total, unit=unit, **options) as bar:
        for item in iterable:
            yield item
            bar.update(1)


def lightning_callback(label: str = "train", *, sink: Sink | None = None, mode: Mode | None = None,
                       unit: str = "epochs"):
    """A Lightning callback reporting epochs, or optimizer steps (``unit="steps"``, for a run bounded
    by ``max_steps``), with the latest logged metrics, through Progress.

    Lightning's own bar assumes a terminal; this one also prints plain lines in CI and Dagster.
    Imported lazily so infra does not need Lightning to load.
    """
    from pytorch_lightning.callbacks import Callback

    if unit not in ("epochs", "steps"):
        raise ValueError(f"unit must be epochs or steps, not {unit!r}")

    class _LightningProgress(Callback):
        def __init__(self) -> None:
            self.bar: Progress | None = None

        def on_train_start(self, trainer, pl_module) -> None:
            limit = trainer.max_epochs if unit == "epochs" else trainer.max_steps
            self.bar = Progress(label, total=limit if limit and limit > 0 else None, unit=unit, sink=sink, mode=mode)

        def _update(self, trainer) -> None:
            if self.bar is None:
                return
            shown = {}
            for key, value in trainer.callback_metrics.items():
                if key.startswith(("val_", "train_loss")):
                    try:
                        shown[key] = f"{float(value):.4f}"
                    except (TypeError, ValueError):
                        continue
            self.bar.update(1, **shown)

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            if unit == "epochs":
                self._update(trainer)

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if unit == "steps":
                self._update(trainer)

        def on_train_end(self, trainer, pl_module) -> None:
            if self.bar is not None:
                self.bar.close()

        def on_exception(self, trainer, pl_module, exception) -> None:
            if self.bar is not None:
                self.bar.postfix["failed"] = type(exception).__name__
                self.bar.close()

    return _LightningProgress()
