"""The main job, end to end, as ``naviyam demo`` runs it.

Each stage is idempotent, so running the demo twice is safe: the schema migrates to head, the
workbook is generated once per seed and scale, and the ingest upserts changed rows only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from infra.settings import get_settings

Say = Callable[[str], None]


def run_demo(scale: float | None = None, regenerate: bool = False, say: Say = print) -> dict:
    from infra.db import get_engine
    from infra.ingest.load import ingest_workbook
    from infra.sample_data.generator import generate
    from infra.schema import create_database, prepare

    settings = get_settings()
    timings: dict[str, float] = {}
    summary: dict[str, object] = {}

    def timed(name: str, fn: Callable[[], object]) -> object:
        started = time.perf_counter()
        result = fn()
        timings[name] = round(time.perf_counter() - started, 2)
        return result

    say("schema: create database and migrate")
    timed("schema", lambda: (create_database(settings), prepare(get_engine(), settings)))

    scale = settings.sample_scale if scale is None else scale
    marker = settings.sample_dir / "generated.json"
    wanted = {"seed": settings.sample_seed, "scale": scale}
    if regenerate or not settings.sample_workbook.exists() or _read(marker) != wanted:
        say(f"sample data: generating (seed={settings.sample_seed}, scale={scale})")
        timed("generate", lambda: generate(seed=settings.sample_seed, scale=scale, out_dir=settings.sample_dir))
        marker.write_text(json.dumps(wanted))
    else:
        say("sample data: workbook already generated for this seed and scale")

    say("ingest: validate and load the workbook")
    report = timed("ingest", lambda: ingest_workbook(get_engine(), settings.sample_workbook, settings, progress=say))
    summary["ingest"] = report.as_dict()

    from orchestration.materialize import materialize_all

    say("assets: warehouse, checks, write-back, feature store, training (Dagster)")
    # the ingest above already loaded the workbook; the graph's own ingest asset would repeat it
    summary["assets"] = timed("assets", lambda: materialize_all(say, include_ingest=False))

    from serving.cli import demo_chats

    say("service: start the BentoML chat service and answer sample chats")
    chats = timed("chats", lambda: demo_chats(say))
    summary["chats"] = len(chats)

    from orchestration.materialize import run_batch

    # the chats above were logged; the 5-minute batch turns them into CTR, sessions and monitoring
    say("batch: the 5-minute batch over the chats' logs")
    batch = timed("batch", lambda: run_batch(say))
    summary["batch_success"] = batch.get("success")
    # the demo succeeded only if every job in it did: `naviyam demo` exits non-zero otherwise
    summary["success"] = bool(summary["assets"].get("success")) and bool(batch.get("success"))

    summary["timings_s"] = timings
    path = settings.data_dir / "logs" / "demo-summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    for line in summary_lines(summary):
        say(line)
    say(f"summary: {'ok' if summary['success'] else 'FAILED'}; every figure in {path}")
    return summary


def summary_lines(summary: dict) -> list[str]:
    """The figures a newcomer looks for, a line each (the whole summary goes to a file)."""
    ingest = summary.get("ingest") or {}
    stages = (summary.get("assets") or {}).get("stages") or {}
    lines = []
    if ingest:
        lines.append(f"ingest: {ingest.get('rows', 0):,} rows ({ingest.get('rows_per_second', 0):,} rows/s), "
                     f"{ingest.get('quarantined', 0)} quarantined")
    if stages:
        lines.append("assets: " + ", ".join(
            f"{name} {s.get('seconds', 0):.0f}s{'' if s.get('success') else ' FAILED'}" for name, s in stages.items()))
        checks = sum(s.get("checks_passed", 0) for s in stages.values())
        failed = sum(len(s.get("checks_failed") or []) for s in stages.values())
        lines.append(f"checks: {checks} passed, {failed} failed")
    lines.append(f"chats: {summary.get('chats', 0)}; batch: {'ok' if summary.get('batch_success') else 'FAILED'}")
    lines.append("time: " + ", ".join(f"{k} {v:.0f}s" for k, v in (summary.get("timings_s") or {}).items()))
    return lines


def _read(path) -> object:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
