"""Materialize the graph from the command line, with progress, outside ``dagster dev``.

``materialize_all(say)`` is what ``naviyam demo`` and ``naviyam assets materialize`` call: it
prepares the dbt manifest, then runs the graph in stages (ingest -> warehouse + checks ->
write-back -> maintenance), saying what each stage did. Runs are recorded in the Dagster
instance under $DAGSTER_HOME when it is set (so ``dagster dev`` shows them), else in an
ephemeral one.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Say = Callable[[str], None]

# The stages of a full materialization, in order: (name, asset groups).
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest", ("ingest",)),
    ("warehouse", ("warehouse_staging", "warehouse_intermediate", "marts_core", "features", "analytics", "monitoring")),
    ("write-back", ("operational",)),
    ("maintenance", ("maintenance",)),
    ("feature-store", ("feature_store",)),
    ("retrieval-index", ("retrieval_index",)),
    ("training", ("training",)),
)


@dataclass
class StageReport:
    name: str
    seconds: float = 0.0
    success: bool = True
    materialized: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    log: str | None = None  # where the run's full console output went (dbt's lines, step logs)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "name"}


INSTANCE_CONFIG = Path(__file__).with_name("dagster.yaml")


def _instance():
    from dagster import DagsterInstance

    home = os.environ.get("DAGSTER_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        config = Path(home) / "dagster.yaml"
        if not config.exists():  # the project's instance config: run queue limits, no telemetry
            shutil.copyfile(INSTANCE_CONFIG, config)
        return DagsterInstance.get()
    return DagsterInstance.ephemeral()



def _run_config(op_names: set[str], as_of: str | None, scale: float | None, full_refresh: bool) -> dict:
    from infra.settings import get_settings

    level = get_settings().assets_log_level.upper()
    config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": level}}}}
    ops: dict[str, Any] = {}
    if "warehouse_dbt_assets" in op_names and (as_of or full_refresh):
        ops["warehouse_dbt_assets"] = {"config": {"as_of": as_of, "full_refresh": full_refresh}}
    if "sample_workbook" in op_names and scale is not None:
        ops["sample_workbook"] = {"config": {"scale": scale}}
    if ops:
        config["ops"] = ops
    return config


def execute(
    defs,
    keys: Iterable,
    *,
    instance=None,
    as_of: str | None = None,
    scale: float | None = None,
    full_refresh: bool = False,
    name: str = "run",
    job_name: str | None = None,
) -> StageReport:
    """Materialize ``keys`` (with their checks) in process; never raises for a failed step."""
    from dagster import AssetCheckSeverity

    keys = list(keys)
    report = StageReport(name)
    job = defs.resolve_job_def(job_name) if job_name else defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    op_names = {graph.get(k).assets_def.node_def.name for k in keys if graph.get(k).assets_def.is_executable}
    started = time.perf_counter()
    try:
        with _quiet(name) as log_path:
            report.log = log_path
            result = job.execute_in_process(
                run_config=_run_config(op_names, as_of, scale, full_refresh),
                instance=instance or _instance(),
                asset_selection=None if job_name else keys,
                raise_on_error=False,
            )
        report.success = result.success
        report.materialized = len(result.get_asset_materialization_events())
        for evaluation in result.get_asset_check_evaluations():
            label = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            if evaluation.passed:
                report.checks_passed += 1
            elif evaluation.severity == AssetCheckSeverity.WARN:
                report.warnings.append(label)
            else:
                report.checks_failed.append(label)
        if not result.success:
            failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            report.error = "; ".join(
                f"{e.step_key}: {e.event_specific_data.error.message.strip()[:300]}" for e in failures
            ) or "run failed"
    except Exception as exc:  # a definition or config error: report it, don't lose the summary
        report.success = False
        report.error = f"{type(exc).__name__}: {exc}"
    report.seconds = round(time.perf_counter() - started, 2)
    return report


@contextmanager
def _quiet(name: str):
    """Send what a run prints (dagster-dbt re-prints every dbt line, ~300 per build) and Dagster's
    own INFO records to ``data/logs/assets-<name>.log``, so the terminal shows the stages and their
    figures. ``NAVIYAM_ASSETS_LOG_LEVEL=INFO`` (or DEBUG) keeps everything on the terminal."""
    import logging
    import sys
    from contextlib import redirect_stdout

    from infra.settings import get_settings

    settings = get_settings()
    level = settings.assets_log_level.upper()
    if level in ("DEBUG", "INFO"):
        yield None
        return
    path = settings.data_dir / "logs" / f"assets-{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    dagster_logger = logging.getLogger("dagster")
    before = dagster_logger.level
    dagster_logger.setLevel(level)
    with open(path, "a", encoding="utf-8") as fh, redirect_stdout(fh):
        fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {name}\n")
        try:
            yield str(path)
        finally:
            dagster_logger.setLevel(before)
            sys.stdout.flush()


def _keys_for_groups(defs, groups: Sequence[str]) -> list:
    from dagster import AssetSelection

    graph = defs.resolve_asset_graph()
    selected = AssetSelection.groups(*groups).resolve(graph)
    return [k for k in selected if graph.get(k).is_materializable]


def _say_stage(say: Say, report: StageReport) -> None:
    status = "ok" if report.success else "FAILED"
    say(
        f"{report.name}: {status} in {report.seconds:.1f}s - {report.materialized} assets, "
        f"{report.checks_passed} checks passed, {len(report.checks_failed)} failed, {len(report.warnings)} warnings"
    )
    for label in report.warnings:
        say(f"  warning: {label}")
    for label in report.checks_failed:
        say(f"  check failed: {label}")
    if report.error:
        say(f"  error: {report.error}" + (f" (full log: {report.log})" if report.log else ""))


def materialize_all(
    say: Say = print,
    *,
    database: str | None = None,
    groups: Sequence[str] | None = None,
    as_of: str | None = None,
    scale: float | None = None,
    full_refresh: bool = False,
    stop_on_failure: bool = True,
    include_ingest: bool = True,
) -> dict:
    """Materialize every asset (or those of ``groups``) stage by stage; returns a summary dict.

    ``include_ingest=False`` skips the schema / workbook / ingest stage, for callers that have
    just done it themselves (``naviyam demo`` runs orchestration.demo first).
    """
    from infra.dbt import prepare_manifest

    started = time.perf_counter()
    say("assets: preparing the dbt manifest")
    prepare_manifest()
    from orchestration.definitions import build_defs

    defs = build_defs(database)
    instance = _instance()
    summary: dict[str, Any] = {"stages": {}, "success": True}
    for name, stage_groups in STAGES:
        if name == "ingest" and not include_ingest:
            continue
        wanted = [g for g in stage_groups if groups is None or g in groups]
        if not wanted:
            continue
        keys = _keys_for_groups(defs, wanted)
        say(f"assets: {name} ({len(keys)} assets)")
        report = execute(defs, keys, instance=instance, as_of=as_of, scale=scale, full_refresh=full_refresh, name=name)
        _say_stage(say, report)
        summary["stages"][name] = report.as_dict()
        if not report.success:
            summary["success"] = False
            if stop_on_failure:
                say("assets: stopping after the failed stage")
                break
    summary["seconds"] = round(time.perf_counter() - started, 2)
    say(f"assets: done in {summary['seconds']:.1f}s ({'ok' if summary['success'] else 'FAILED'})")
    return summary


def run_job(job_name: str, say: Say = print, *, database: str | None = None) -> dict:
    """Run one of the scheduled jobs once (batch_5min, daily_maintenance, daily_refresh)."""
    from infra.dbt import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import build_defs

    defs = build_defs(database)
    say(f"assets: running job {job_name}")
    report = execute(defs, [], name=job_name, job_name=job_name)
    _say_stage(say, report)
    return report.as_dict()


def run_batch(say: Say = print, *, database: str | None = None) -> dict:
    return run_job("batch_5min", say, database=database)


def run_retention(say: Say = print, *, database: str | None = None) -> dict:
    return run_job("daily_maintenance", say, database=database)
