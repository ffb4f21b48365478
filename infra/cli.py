"""The platform's own commands: ``naviyam config``, ``services``, ``db`` and ``data``.

The root ``naviyam`` command (``orchestration/main.py``) mounts these beside every component's
commands. Every command configures logging and makes sure PostgreSQL and Redis answer (starting
the embedded ones when the configured ones don't) before it does its work (``bootstrap``). Heavy
imports happen inside the commands, so ``naviyam --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.jsonable import jsonable
from infra.settings import get_settings

services_app = typer.Typer(help="PostgreSQL and Redis: check them, or start the embedded ones.", no_args_is_help=True)
db_app = typer.Typer(help="Schema migrations and monthly partitions.", no_args_is_help=True)
data_app = typer.Typer(help="Sample data: generate the workbook, ingest it, inspect the quarantine.", no_args_is_help=True)

log = logging.getLogger("naviyam")


def bootstrap(need_redis: bool = True):
    from infra.logs import configure_logging
    from infra.services import ServiceUnavailable, ensure_services

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        return ensure_services(need_redis=need_redis)
    except ServiceUnavailable as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


def step(message: str) -> None:
    typer.secho(f"==> {message}", fg=typer.colors.CYAN, err=True)


# ---- config --------------------------------------------------------------------------------


def config(markdown: Annotated[bool, typer.Option(help="Print the defaults as the README's settings table.")] = False) -> None:
    """Show every setting: its environment variable, value (secrets masked) and meaning."""
    from infra.settings import PROJECT_ROOT, Settings

    def shown(value: object) -> str:
        if "Secret" in type(value).__name__:
            return "***"
        return str(value).replace(str(PROJECT_ROOT), "<project>")

    settings = get_settings()
    if markdown:
        typer.echo("| variable | default | meaning |\n|---|---|---|")
    for name, field in Settings.model_fields.items():
        env = f"NAVIYAM_{name.upper()}"
        if markdown:
            typer.echo(f"| `{env}` | `{shown(field.default)}` | {field.description or ''} |")
        else:
            typer.echo(f"{env:<34} {shown(getattr(settings, name)):<45} {field.description or ''}")


# ---- services ------------------------------------------------------------------------------


@services_app.command("up")
def services_up() -> None:
    """Make PostgreSQL and Redis reachable (embedded fallbacks when needed) and print them."""
    endpoints = bootstrap()
    typer.echo(json.dumps(vars(endpoints), indent=2))


@services_app.command("down")
def services_down() -> None:
    """Stop the embedded PostgreSQL and Valkey that `services up` started under the data folder."""
    from infra.services import stop_embedded_services

    typer.echo(json.dumps({"stopped": stop_embedded_services()}))


@services_app.command("status")
def services_status() -> None:
    """Say whether the configured PostgreSQL and Redis answer, without starting anything."""
    from infra.services import postgres_reachable, redis_reachable

    settings = get_settings()
    status = {
        "postgres": f"{settings.pg_host}:{settings.pg_port}",
        "postgres_up": postgres_reachable(settings),
        "redis": settings.redis_url,
        "redis_up": redis_reachable(settings.redis_url),
    }
    typer.echo(json.dumps(status, indent=2))
    if not (status["postgres_up"] and status["redis_up"]):
        raise typer.Exit(1)


# ---- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database if missing, migrate it to the newest schema, prepare partitions."""
    bootstrap(need_redis=False)
    from infra.db import get_engine
    from infra.schema import create_database, prepare

    settings = get_settings()
    if create_database(settings):
        step(f"created database {settings.pg_database}")
    created = prepare(get_engine(), settings)
    step(f"schema at head; {len(created)} new monthly partitions")


@db_app.command("rotate-card-key")
def rotate_card_key(
    new_key_env: Annotated[str, typer.Option(help="Environment variable that holds the new key.")] = "NAVIYAM_NEW_CARD_HASH_KEY",
) -> None:
    """Rehash every stored meal-card hash under a new key, from the stored hashes alone (no card numbers)."""
    import os

    from infra.card_keys import rotate
    from infra.db import get_engine

    settings = get_settings()
    new_key = os.environ.get(new_key_env, "")
    if len(new_key) < 32:
        raise typer.BadParameter(f"{new_key_env} must hold the new key (32 characters or more)")
    earlier = [k.get_secret_value() for k in settings.card_hash_earlier_keys]
    try:
        done = rotate(get_engine(), settings.card_hash_key.get_secret_value(), earlier, new_key)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps({"rehashed_rows": done.rows, "chain": done.new_fingerprint}))
    typer.echo("now set NAVIYAM_CARD_HASH_KEY to the new key and append the old one to NAVIYAM_CARD_HASH_EARLIER_KEYS")


@db_app.command("partitions")
def db_partitions(
    months_back: Annotated[int, typer.Option(help="Months before today to keep prepared.")] = 13,
    months_ahead: Annotated[int, typer.Option(help="Months after today to create ahead.")] = 3,
) -> None:
    """Create the monthly partitions of the log tables around today (the maintenance routine)."""
    bootstrap(need_redis=False)
    from datetime import datetime

    from infra.db import get_engine
    from infra.partitions import ensure_partitions

    settings = get_settings()
    created = ensure_partitions(get_engine(), datetime.now(settings.tz).date(), months_back, months_ahead)
    typer.echo(json.dumps({"created": created}, ensure_ascii=False))


# ---- data ----------------------------------------------------------------------------------


@data_app.command("generate")
def data_generate(
    scale: Annotated[Optional[float], typer.Option(help="Size multiplier: 1 ≈ 2.5k shops, 10 is benchmark size.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed; the same seed gives the same data.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: <data_dir>/sample).")] = None,
) -> None:
    """Generate sample_data.xlsx and the hidden-truth file (deterministic for a seed)."""
    from infra.logs import configure_logging
    from infra.sample_data.generator import generate

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    started = time.perf_counter()
    summary = generate(
        seed=settings.sample_seed if seed is None else seed,
        scale=settings.sample_scale if scale is None else scale,
        out_dir=out or settings.sample_dir,
    )
    step(f"generated in {time.perf_counter() - started:.1f}s")
    typer.echo(json.dumps(jsonable(summary), ensure_ascii=False, indent=2, default=str))


@data_app.command("ingest")
def data_ingest(
    file: Annotated[Optional[Path], typer.Argument(help="Workbook to load (default: <data_dir>/sample/sample_data.xlsx).")] = None,
) -> None:
    """Validate and load the workbook: good rows upserted, bad rows quarantined with reasons."""
    bootstrap(need_redis=False)
    from infra.db import get_engine
    from infra.ingest.load import IngestError, ingest_workbook

    try:
        report = ingest_workbook(get_engine(), file, progress=step)
    except IngestError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    step(f"{report.rows} rows in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s), {report.quarantined} quarantined")
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))


class QuarantineSource(str, Enum):
    ingest = "ingest"
    live = "live"
    events = "events"


@data_app.command("quarantine")
def data_quarantine(
    limit: Annotated[int, typer.Option(help="How many rows to show.")] = 20,
    sheet: Annotated[Optional[str], typer.Option(help="Only this sheet (ingest) or table (live, events).")] = None,
    source: Annotated[QuarantineSource, typer.Option(
        help="ingest: workbook rows the ingest refused. live: live-table rows the warehouse batch left out "
             "(as of its last run). events: records PostgreSQL refused from the event log (the spools' "
             "rejected-records files).")] = QuarantineSource.ingest,
) -> None:
    """Show quarantined rows and why they were refused (newest first)."""
    if source is QuarantineSource.events:
        _show_rejected_events(limit, sheet)
        return
    bootstrap(need_redis=False)
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from infra.db import get_engine
    from infra.dbt import LIVE_QUARANTINE

    if source is QuarantineSource.live:
        query = (f"SELECT source_table, row_id, occurred_at, reasons, source_row FROM {LIVE_QUARANTINE} "
                 + ("WHERE source_table = :sheet " if sheet else "") + "ORDER BY occurred_at DESC LIMIT :limit")
    else:
        query = (
            "SELECT sheet, row_number, reasons, source_row FROM ingest_quarantine "
            + ("WHERE sheet = :sheet " if sheet else "")
            + "ORDER BY id DESC LIMIT :limit"
        )
    try:
        with get_engine().connect() as conn:
            rows = conn.execute(text(query), {"sheet": sheet, "limit": limit}).mappings().all()
    except ProgrammingError as exc:
        if source is not QuarantineSource.live:
            raise
        typer.secho(f"error: no {LIVE_QUARANTINE} yet; the warehouse builds it (naviyam assets materialize)",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    for row in rows:
        typer.echo(json.dumps(jsonable(dict(row)), ensure_ascii=False))


def _show_rejected_events(limit: int, table: str | None) -> None:
    """The event log's refused records, newest first, from every spool folder (events, nlu)."""
    from infra.event_log.spool import read_rejected

    spools = get_settings().data_dir / "spool"
    shown = 0
    for folder in sorted(p for p in spools.glob("*") if p.is_dir()):
        for record in read_rejected(folder, limit - shown, table):
            typer.echo(json.dumps({"spool": folder.name, "table": record.get("t"), "error": record.get("error"),
                                   "row": record.get("r")}, ensure_ascii=False))
            shown += 1
        if shown >= limit:
            return
