import io
import threading

from infra.progress import Progress, format_duration, track


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_mode_prints_periodically_with_rate_and_eta():
    clock, out = FakeClock(), io.StringIO()
    bar = Progress("embed menus", total=1000, unit="docs", stream=out, interval=10, clock=clock)
    assert bar.mode == "lines"  # a StringIO is not a terminal: CI and Dagster get plain lines
    for _ in range(4):
        clock.now += 4
        bar.update(100)
    bar.close()
    lines = out.getvalue().splitlines()
    # one periodic line after 12 s (not one per update), then the final one
    assert lines[0] == "embed menus: 300/1,000 docs (30%), 25.0 docs/s, ETA 28s"
    assert lines[-1] == "embed menus: 400/1,000 docs (40%), 25.0 docs/s, done in 16s"
    assert len(lines) == 2
    assert "\r" not in out.getvalue()


def test_bar_mode_on_a_terminal_overwrites_one_line():
    clock, term = FakeClock(), FakeTerminal()
    with Progress("index build", total=10, unit="docs", stream=term, clock=clock) as bar:
        assert bar.mode == "bar"
        for _ in range(10):
            clock.now += 1
            bar.update(1, collection="menus")
    text = term.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # a single line, finished once
    last = text.rsplit("\r\x1b[2K", 1)[1]
    assert last.startswith("index build |" + "█" * 24 + "|")
    assert "10/10 docs (100%), 1.0 docs/s, done in 10s [collection=menus]" in last


def test_sink_receives_lines_and_unknown_total_shows_elapsed():
    clock, lines = FakeClock(), []
    bar = Progress("simulate", unit="turns", sink=lines.append, interval=1, clock=clock)
    clock.now += 2
    bar.update(5)
    bar.close()
    assert lines == ["simulate: 5 turns, 2.5 turns/s, 2s elapsed", "simulate: 5 turns, 2.5 turns/s, done in 2s"]


def test_failure_is_reported_and_off_mode_is_silent():
    lines: list[str] = []
    try:
        with Progress("train", total=3, unit="epochs", sink=lines.append) as bar:
            bar.update(1)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert lines[-1].endswith("[failed=RuntimeError]")

    out = io.StringIO()
    with Progress("quiet", total=3, stream=out, mode="off") as bar:
        bar.update(3)
    assert out.getvalue() == ""


def test_track_counts_items_and_is_thread_safe(monkeypatch):
    monkeypatch.setenv("NAVIYAM_PROGRESS", "lines")
    out = io.StringIO()
    assert list(track(range(7), "ingest", unit="rows", stream=out)) == list(range(7))
    assert out.getvalue().startswith("ingest: 7/7 rows (100%)")

    bar = Progress("parallel", total=4000, stream=io.StringIO(), mode="lines", interval=1e9)
    threads = [threading.Thread(target=lambda: [bar.update(1) for _ in range(1000)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert bar.count == 4000


def test_durations_are_short():
    assert format_duration(5) == "5s"
    assert format_duration(75) == "1m15s"
    assert format_duration(3725) == "1h02m"


def test_lightning_callback_counts_steps_for_a_step_bounded_run():
    import pytest
    import torch
    import pytorch_lightning as pl

    from infra.progress import lightning_callback

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Linear(2, 1)

        def training_step(self, batch, _):
            loss = self.w(batch[0]).pow(2).mean()
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(40, 2)), batch_size=4)
    lines: list[str] = []
    trainer = pl.Trainer(max_steps=7, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[lightning_callback("fit", sink=lines.append,
                                                                                   mode="lines", unit="steps")])
    trainer.fit(Tiny(), data)
    assert lines and "7/7 steps" in lines[-1] and "train_loss" in lines[-1]
    with pytest.raises(ValueError):
        lightning_callback("fit", unit="batches")
