"""``naviyam assets``: materialize, list, and run the scheduled jobs once."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from infra.cli import bootstrap

app = typer.Typer(help="Dagster assets: warehouse, checks, write-back, batch and retention.", no_args_is_help=True)


def _say(message: str) -> None:
    typer.secho(f"==> {message}", fg=typer.colors.CYAN, err=True)


@app.callback()
def _services() -> None:
    """Every command needs PostgreSQL (the embedded fallback starts when the configured one is down)."""
    bootstrap(need_redis=False)


@app.command("materialize")
def materialize(
    group: Annotated[Optional[list[str]], typer.Option("--group", "-g", help="Only these asset groups (repeatable); default all.")] = None,
    as_of: Annotated[Optional[str], typer.Option(help="Compute the warehouse as of this ISO timestamp (default now).")] = None,
    scale: Annotated[Optional[float], typer.Option(help="Sample-data scale for the sample_workbook asset.")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Rebuild incremental dbt models from the whole history.")] = False,
    ingest: Annotated[bool, typer.Option(help="Include schema, sample workbook and ingest.")] = True,
) -> None:
    """Materialize every asset (or the given groups) stage by stage with progress."""
    from orchestration.materialize import materialize_all

    summary = materialize_all(_say, groups=group, as_of=as_of, scale=scale, full_refresh=full_refresh,
                              include_ingest=ingest)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    if not summary["success"]:
        raise typer.Exit(1)


@app.command("list")
def list_assets() -> None:
    """List the assets by group, the checks, the jobs and the schedules."""
    from infra.dbt import prepare_manifest

    prepare_manifest()
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    by_group: dict[str, list[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        label = key.to_user_string() + ("" if node.is_materializable else "  (external)")
        by_group.setdefault(node.group_name or "default", []).append(label)
    for group_name in sorted(by_group):
        typer.echo(f"{group_name}:")
        for label in sorted(by_group[group_name]):
            typer.echo(f"  {label}")
    typer.echo(f"checks: {len(list(graph.asset_check_keys))}")
    typer.echo("jobs: " + ", ".join(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")))
    for schedule in defs.schedules:
        typer.echo(f"schedule {schedule.name}: {schedule.cron_schedule} ({schedule.execution_timezone})")


@app.command("batch")
def batch() -> None:
    """Run the 5-minute batch once (spec §13.3)."""
    from orchestration.materialize import run_batch

    report = run_batch(_say)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if not report["success"]:
        raise typer.Exit(1)


@app.command("retention")
def retention() -> None:
    """Create partitions ahead and apply the retention policy once (the daily job)."""
    from orchestration.materialize import run_retention

    report = run_retention(_say)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if not report["success"]:
        raise typer.Exit(1)


@app.command("parse")
def parse() -> None:
    """Re-parse the dbt project into dbt_project/target/manifest.json."""
    from infra.dbt import prepare_manifest

    _say(f"manifest at {prepare_manifest(force=True)}")


if __name__ == "__main__":
    app()
