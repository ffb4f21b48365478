"""The closed loop as a job: start the real chat service with the simulation clock on, run simulated
days against it over HTTP, and keep the per-day table and plot in MLflow.

``run_loop`` is what ``naviyam simulate run`` and the Dagster job ``closed_loop_simulation`` call.
It starts its own service (``NAVIYAM_SIMULATION_CLOCK=true`` only in that child process, never in
the settings of the caller) unless ``url`` names a running one that was started with the clock on.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.settings import get_settings
from serving.process import LOAD_GENERATOR_RATE_LIMIT_ENV
from infra.simulator import report
from infra.simulator.client import ChatClient
from infra.simulator.runner import SimulationConfig, SimulationResult, simulate
from infra.simulator.world import CardIssuer, load_world, read_truth

EXPERIMENT = "naviyam-simulation"
Say = Callable[[str], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """The chat service this loop started (simulation clock on), restartable on the same port so the
    next simulated day is answered by the models the nightly retrain just registered."""

    def __init__(self, port: int | None, env: dict[str, str] | None, say: Say) -> None:
        self.port = port or free_port()
        # the whole population shares one API key: the per-key rate limit would throttle the world
        self.env = {"NAVIYAM_SIMULATION_CLOCK": "true", **LOAD_GENERATOR_RATE_LIMIT_ENV, **(env or {})}
        self.say = say
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = get_settings().data_dir / "logs" / f"simulation-service-{self.port}.log"
        self.proc = None

    def start(self) -> str:
        from serving.cli import start_service, wait_ready  # the entry point's own helpers

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        self.say(f"chat service: starting on :{self.port} ({', '.join(f'{k}={v}' for k, v in self.env.items())}; "
                 f"log {self.log_path})")
        self.proc = start_service(self.port, env=self.env, log_path=self.log_path)
        try:
            wait_ready(self.url, timeout=900, proc=self.proc)
        except Exception:
            self.stop()
            raise
        self.say(f"chat service: ready in {time.perf_counter() - t0:.0f} s")
        return self.url

    def stop(self) -> None:
        from serving.cli import stop_service

        if self.proc is not None:
            stop_service(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def chat_service(url: str | None = None, port: int | None = None, env: dict[str, str] | None = None,
                 say: Say = print) -> Iterator[ServiceProcess | str]:
    """A running service with the simulation clock on: ``url`` as given (a service started with
    NAVIYAM_SIMULATION_CLOCK=true), or one started here with ``env`` added, stopped on exit."""
    if url:
        yield url
        return
    service = ServiceProcess(port, env, say)
    service.start()
    try:
        yield service
    finally:
        service.stop()


def run_loop(cfg: SimulationConfig, *, url: str | None = None, port: int | None = None,
             service_env: dict[str, str] | None = None, label: str = "service", say: Say = print,
             nightly: Callable[[int, Any, Any], None] | None = None, out_dir: Path | None = None,
             log_mlflow: bool = True) -> dict[str, Any]:
    """Simulate ``cfg.days`` days; returns the per-day table, the files written and the MLflow run id."""
    from infra.db import get_engine

    settings = get_settings()
    engine = get_engine()
    truth = read_truth(settings.hidden_truth_file)
    world = load_world(engine, truth, cfg.children, cfg.seed)
    if len(world.children) < cfg.children:
        say(f"simulate: only {len(world.children)} children in the sample data (asked for {cfg.children})")
    out_dir = out_dir or settings.data_dir / "simulations" / f"{datetime.now():%Y%m%dT%H%M%S}-{label}-seed{cfg.seed}"
    with chat_service(url, port, service_env, say) as service:
        base_url = service if isinstance(service, str) else service.url
        client = ChatClient(base_url, settings.api_key.get_secret_value(), max_connections=cfg.concurrency + 2)
        night = (lambda i, day: nightly(i, day, service)) if nightly is not None else None
        try:
            result = simulate(client, world, cfg, CardIssuer(engine), say=say, nightly=night)
        finally:
            client.close()
    return finish(result, {label: result.table()}, out_dir, label=label, say=say, log_mlflow=log_mlflow)


def summarize(result: SimulationResult) -> dict[str, Any]:
    rows = result.table()
    seconds = sum(d.seconds for d in result.days)
    requests = sum(r["requests"] for r in rows)
    return {"children": result.children, "days": len(rows), "first_day": result.started.isoformat(),
            "sessions": sum(r["sessions"] for r in rows), "requests": requests,
            "seconds_per_day": round(seconds / max(1, len(rows)), 2),
            "req_per_s": round(requests / seconds, 2) if seconds else None, "last_day": rows[-1] if rows else {}}


def finish(result: SimulationResult, series: dict[str, list[dict]], out_dir: Path, *, label: str, say: Say,
           log_mlflow: bool = True, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Table (CSV + Markdown), plot (PNG), summary (JSON); all logged to one MLflow run."""
    rows = result.table()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [report.write_csv(rows, out_dir / "days.csv")]
    (out_dir / "days.md").write_text(report.format_table(rows) + "\n", encoding="utf-8")
    files.append(out_dir / "days.md")
    files.append(report.plot(series, out_dir / "days.png",
                             f"{result.children} simulated children, seed {result.config.seed}"))
    summary = {**summarize(result), **(extra or {})}
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    files.append(out_dir / "summary.json")
    say("\n" + report.format_table(rows))
    run_id = log_run(label, asdict(result.config), series, files, summary) if log_mlflow else None
    say(f"simulate: {summary['sessions']} sessions, {summary['seconds_per_day']} s per simulated day, "
        f"{summary['req_per_s']} req/s; files in {out_dir}" + (f"; MLflow run {run_id}" if run_id else ""))
    return {"table": rows, "series": series, "summary": summary, "files": [str(f) for f in files], "run_id": run_id}


def log_run(label: str, params: dict[str, Any], series: dict[str, list[dict]], files: list[Path],
            summary: dict[str, Any]) -> str:
    """One MLflow run in ``naviyam-simulation``: parameters, every day's metrics (step = day) per
    labelled series, and the table, plot and summary as artifacts."""
    import mlflow

    from models.tracking import configure_mlflow

    configure_mlflow()
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    experiment_id = experiment.experiment_id if experiment else mlflow.create_experiment(
        EXPERIMENT, artifact_location=(get_settings().mlflow_artifact_root / EXPERIMENT).resolve().as_uri()
        if not get_settings().mlflow_tracking_uri else None)
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"{label}-{datetime.now():%Y%m%dT%H%M%S}") as run:
        mlflow.log_params({k: (json.dumps(v, default=str) if isinstance(v, (dict, list)) else v)
                           for k, v in params.items()})
        for name, rows in series.items():
            for step, row in enumerate(rows, start=1):
                mlflow.log_metrics({f"{name}.{k}": float(v) for k, v in row.items()
                                    if isinstance(v, (int, float)) and not isinstance(v, bool)}, step=step)
        for f in files:
            mlflow.log_artifact(str(f))
        mlflow.log_dict(json.loads(json.dumps(summary, default=str)), "summary_full.json")
        return run.info.run_id



def finish_series(results: dict[str, dict[str, Any]], cfg: SimulationConfig, out_dir: Path, say: Say) -> dict[str, Any]:
    """The arms side by side: one table per arm, one plot with a line per arm, the day-N comparison
    (order rate of the last day, and pooled over the last three days), logged to one MLflow run."""
    series = {arm: r["table"] for arm, r in results.items()}
    lines = []
    for arm, rows in series.items():
        lines.append(f"### {arm}\n\n{report.format_table(rows)}\n")
    (out_dir / "compare.md").write_text("\n".join(lines), encoding="utf-8")
    png = report.plot(series, out_dir / "compare.png", f"popularity vs learned vs oracle, seed {cfg.seed}")

    def pooled(rows: list[dict], key: str = "order_rate", last: int = 3) -> float | None:
        tail = [r for r in rows[-last:] if r.get(key) is not None]
        n = sum(r["sessions"] for r in tail)
        return round(sum(r[key] * r["sessions"] for r in tail) / n, 4) if n else None

    final = {arm: {"last_day_order_rate": rows[-1].get("order_rate") if rows else None,
                   "last3_order_rate": pooled(rows), "last3_satisfaction": pooled(rows, "satisfaction"),
                   "last3_buyable_share": pooled(rows, "buyable_share")} for arm, rows in series.items()}
    summary: dict[str, Any] = {"arms": final, "days": cfg.days, "children": cfg.children, "seed": cfg.seed}
    pop, learned, oracle = (final.get(a, {}).get("last_day_order_rate") for a in ("popularity", "learned", "oracle"))
    if pop and learned:
        summary["learned_vs_popularity_lift_last_day"] = round(learned / pop - 1, 4)
    if learned and oracle:
        summary["learned_to_oracle_ratio_last_day"] = round(learned / oracle, 4)
    p3, l3, o3 = (final.get(a, {}).get("last3_order_rate") for a in ("popularity", "learned", "oracle"))
    if p3 and l3:
        summary["learned_vs_popularity_lift_last3"] = round(l3 / p3 - 1, 4)
    if l3 and o3:
        summary["learned_to_oracle_ratio_last3"] = round(l3 / o3, 4)
    import json

    (out_dir / "compare.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    files = [out_dir / "compare.md", png, out_dir / "compare.json"]
    for arm, r in results.items():
        files += [Path(f) for f in r["files"] if f.endswith(".csv")]
    say("\n".join(lines))
    run_id = log_run("compare", {"days": cfg.days, "children": cfg.children, "seed": cfg.seed}, series, files, summary)
    say(f"compare: {json.dumps(summary, ensure_ascii=False)}; MLflow run {run_id}; files in {out_dir}")
    return {"series": series, "summary": summary, "run_id": run_id, "out_dir": str(out_dir)}
