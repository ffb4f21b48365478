"""Side by side on the same seeds: popularity-only ranking, the nightly-retrained Wide&Deep, and the
oracle (the child's hidden utility re-ranks the service's candidates; evaluation only).

Each arm starts from the same state: its own copy of the project database (``CREATE DATABASE …
TEMPLATE``), its own Redis key prefix, and — for the learned arm — an empty MLflow registry of its
own, so nothing learned before the simulation (in particular no model trained on simulated
impressions drawn from the hidden truth) ever serves. The learned arm starts exactly like the
popularity arm (popularity ranking plus the logged exploration share); every ``retrain_every``
nights it retrains on the logs so far (``models.ranking.retrain``), and once a model is promoted the
service serves the registry's champion. Every arm's night rebuilds the feature history over the
day's orders (``refresh_features``) and restarts the service, so features move with behaviour.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from infra.settings import get_settings, reset_settings_cache
from models.tracking import init_tracking_store
from infra.simulator.runner import SimulationConfig
from orchestration.simulation.loop import ServiceProcess, finish_series, run_loop

ARMS = ("popularity", "learned", "oracle")
Say = Callable[[str], None]


def clone_database(source: str, target: str) -> None:
    import psycopg
    from psycopg import sql

    settings = get_settings()
    with psycopg.connect(settings.libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
        # a template must have no other sessions: end this project's idle ones on it first
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                     "pg_backend_pid()", (source,))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(target), sql.Identifier(source)))


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """These settings for this process and the service it starts; restored afterwards."""
    from infra import db

    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    reset_settings_cache()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings_cache()
        db._engines.clear()  # engines of the arm's database are not the project's


def nightly(say: Say, *, refresh_features: bool, retrain_every: int | None,
            max_epochs: int = 6) -> Callable[[int, Any, Any], None] | None:
    """The arm's night after each simulated day, as the platform's nightly jobs would run it:

    * ``refresh_features``: the dbt build of the feature-history marts over the day's orders, so the
      features the service ranks with (and the retrain joins) move with what the children did;
    * ``retrain_every``: every N-th night, the retrain on the logs (the learned arm);

    then the service restarts, so the next day is answered with the new features and, once one is
    promoted, the registry's champion. None when the night does nothing."""
    if not refresh_features and retrain_every is None:
        return None
    from models.ranking.retrain import NotEnoughLogs, retrain_from_logs
    from models.ranking.train import TrainConfig

    def night(i: int, day: Any, service: Any) -> None:
        from infra.db import get_engine

        if refresh_features:
            from feature_repo.refresh import build_feature_history

            t0 = time.perf_counter()
            rows = build_feature_history()
            say(f"night {day}: feature history rebuilt in {time.perf_counter() - t0:.1f} s {rows}")
        if retrain_every is not None and (i + 1) % retrain_every == 0:
            try:
                # no challenger: this arm measures its champion, not an A/B split inside the arm
                report = retrain_from_logs(cfg=TrainConfig(max_epochs=max_epochs, seed=i), engine=get_engine(),
                                           challenger=False)
                say(f"night {day}: retrained on the logs: {report.decision}")
                if "champion" in report.aliases and isinstance(service, ServiceProcess):
                    service.env["NAVIYAM_SERVING_RANKER"] = "registry"
            except NotEnoughLogs as exc:
                say(f"night {day}: no retrain ({exc})")
        if isinstance(service, ServiceProcess):
            service.restart()

    return night


def compare(cfg: SimulationConfig, *, arms: tuple[str, ...] = ARMS, retrain_every: int = 1, say: Say = print,
            out_dir: Path | None = None, refresh_features: bool = True) -> dict[str, Any]:
    settings = get_settings()
    base = settings.pg_database
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}"
    out_dir = out_dir or settings.data_dir / "simulations" / f"{stamp}-compare-seed{cfg.seed}"
    results: dict[str, dict[str, Any]] = {}
    for arm in arms:
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r} (one of {ARMS})")
        db = f"{base}_sim_{arm}"[:63]
        say(f"arm {arm}: database {db} (a copy of {base})")
        clone_database(base, db)
        # user features straight from the arm's feature-history marts (the Feast online store is one per
        # project, not per arm): the nightly dbt build is then all it takes for them to move
        env = {"NAVIYAM_PG_DATABASE": db, "NAVIYAM_REDIS_KEY_PREFIX": f"{settings.redis_key_prefix}sim-{arm}:",
               "NAVIYAM_SERVING_RANKER": "popularity", "NAVIYAM_SERVING_USER_FEATURES": "postgres",
               "NAVIYAM_MLFLOW_TRACKING_URI": f"sqlite:///{(out_dir / arm / 'mlflow.db').resolve()}"}
        (out_dir / arm).mkdir(parents=True, exist_ok=True)
        arm_cfg = replace(cfg, policy="oracle" if arm == "oracle" else "service")
        with environment(env):
            init_tracking_store()  # before the service and the nightly retrain open it
            night = nightly(say, refresh_features=refresh_features,
                            retrain_every=retrain_every if arm == "learned" else None)
            results[arm] = run_loop(arm_cfg, service_env=env, label=arm, say=say, nightly=night,
                                    out_dir=out_dir / arm, log_mlflow=False)
    return finish_series(results, cfg, out_dir, say)
