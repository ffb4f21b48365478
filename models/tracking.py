"""Experiment tracking for every model Naviyam trains: MLflow runs plus the spec's
``model_training_logs`` table (naviyam_db_guide_v2.md §7).

Generic on purpose (the NLU classifier, its LoRA adapter and the ranking model all use it)::

    with start_run("nlu-intent", model_type="intent_classifier", params={"C": 8}) as run:
        ...train...
        run.log_metrics({"train_loss": 0.3}, step=10)
        run.log_training(training_samples_count=6000, evaluation_metrics={"accuracy": 0.93})

``start_run`` opens an MLflow run (tracking URI and artifact root from the settings, directories
created) and inserts a ``model_training_logs`` row with ``deployment_status='training'``; on exit
the row is completed (or marked ``failed`` with the run when the block raises). The database is
optional: when it cannot be reached the MLflow run still happens and a warning is logged.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from infra.jsonable import jsonable
from infra.settings import get_settings

log = logging.getLogger(__name__)

# columns of model_training_logs that log_training() may set (spec §7 + hyperparameters, mlflow_run_id)
TRAINING_LOG_COLUMNS: frozenset[str] = frozenset({
    "model_type", "training_start_time", "training_end_time", "model_name", "lora_rank", "lora_alpha",
    "lora_dropout", "learning_rate", "batch_size", "epochs", "current_epoch", "current_step", "total_steps",
    "training_loss", "validation_loss", "best_validation_loss", "training_samples_count",
    "validation_samples_count", "data_quality_score", "class_balance", "final_model_path", "checkpoint_paths",
    "evaluation_metrics", "deployment_status", "deployment_timestamp", "gpu_hours", "peak_memory_gb",
    "hyperparameters", "mlflow_run_id",
})
JSON_COLUMNS: frozenset[str] = frozenset({"class_balance", "checkpoint_paths", "evaluation_metrics", "hyperparameters"})


def configure_mlflow() -> str:
    """Point MLflow at the project's tracking store; create its directories. Returns the URI."""
    import mlflow  # noqa: PLC0415

    from infra.logs import quiet_library_handlers  # noqa: PLC0415

    quiet_library_handlers("mlflow")
    settings = get_settings()
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    settings.mlflow_artifact_root.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def init_tracking_store() -> str:
    """Create and migrate the tracking store now, from this one process. Two processes opening a new
    SQLite store at once (a simulation's chat service and its nightly retrain) both run its schema
    migrations, and one fails with "table _alembic_tmp_latest_metrics already exists"."""
    import mlflow  # noqa: PLC0415

    uri = configure_mlflow()
    mlflow.MlflowClient().search_experiments(max_results=1)
    return uri


#: MLflow 3 opens an experiment without this tag in its GenAI view (an empty Traces page)
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
#: what the UI shows as an experiment's, run's or model's description
NOTE_TAG = "mlflow.note.content"
EXPERIMENT_DESCRIPTIONS = {
    "naviyam-nlu": "Intent classifier of the chat NLU (char n-gram logistic regression, and the LoRA adapter on "
                   "multilingual-e5-small). Trained on the project's Korean grammar and corrected "
                   "nlu_training_data rows; scored on a holdout and the dev set.",
    "naviyam-retrieval": "Retrieval evaluations (`naviyam retrieval bench`, and the retrieval_quality asset over "
                         "the served index): recall@10, MRR@10 and nDCG@10 of "
                         "dense, sparse and hybrid search on the dev and blind query sets, with figures by query "
                         "type. Nothing is trained or registered here.",
    "naviyam-ranking": "Ranker (Lightning Wide&Deep and its wide half) over the spec's engineered features: the "
                       "bootstrap on lists built from the orders, the nightly retrain on the service's logged "
                       "lists and reactions, point-in-time features; the validation winner is promoted only past "
                       "popularity and the champion.",
}


def _experiment_id(name: str) -> str:
    import mlflow  # noqa: PLC0415

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is not None:
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:  # made before the kind was set
            mlflow.MlflowClient().set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        return experiment.experiment_id
    settings = get_settings()
    tags = {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
    if name in EXPERIMENT_DESCRIPTIONS:
        tags[NOTE_TAG] = EXPERIMENT_DESCRIPTIONS[name]
    if settings.mlflow_tracking_uri:  # a tracking server: its own artifact store, not a folder here
        return mlflow.create_experiment(name, tags=tags)
    location = (settings.mlflow_artifact_root / name).resolve().as_uri()
    return mlflow.create_experiment(name, artifact_location=location, tags=tags)


def insert_training_log(engine, session_id: str, fields: dict) -> int | None:
    """Insert one model_training_logs row; returns its id (None when the database is unavailable)."""
    from sqlalchemy import text  # noqa: PLC0415

    unknown = set(fields) - TRAINING_LOG_COLUMNS
    if unknown:
        raise ValueError(f"not columns of model_training_logs: {sorted(unknown)}")
    columns = ["training_session_id", *fields]
    values = [f"CAST(:{c} AS jsonb)" if c in JSON_COLUMNS else f":{c}" for c in columns]
    params = {"training_session_id": session_id}
    params.update({c: json.dumps(jsonable(v), ensure_ascii=False) if c in JSON_COLUMNS and v is not None
                   else jsonable(v) for c, v in fields.items()})
    sql = f"INSERT INTO model_training_logs ({', '.join(columns)}) VALUES ({', '.join(values)}) RETURNING id"
    with engine.begin() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def update_training_log(engine, row_id: int, fields: dict) -> None:
    from sqlalchemy import text  # noqa: PLC0415

    if not fields:
        return
    unknown = set(fields) - TRAINING_LOG_COLUMNS
    if unknown:
        raise ValueError(f"not columns of model_training_logs: {sorted(unknown)}")
    sets = [f"{c} = CAST(:{c} AS jsonb)" if c in JSON_COLUMNS else f"{c} = :{c}" for c in fields]
    params = {c: json.dumps(jsonable(v), ensure_ascii=False) if c in JSON_COLUMNS and v is not None
              else jsonable(v) for c, v in fields.items()}
    params["_id"] = row_id
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE model_training_logs SET {', '.join(sets)} WHERE id = :_id"), params)


@dataclass
class TrainingRun:
    """An open MLflow run and its model_training_logs row."""

    experiment: str
    model_type: str
    params: dict
    session_id: str
    run_id: str
    started_at: datetime
    engine: Any = None
    log_row_id: int | None = None
    fields: dict = field(default_factory=dict)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        import mlflow  # noqa: PLC0415

        clean = {k: float(v) for k, v in metrics.items() if v is not None}
        mlflow.log_metrics(clean, step=step)

    def log_artifact(self, path: Path | str, artifact_path: str | None = None) -> None:
        import mlflow  # noqa: PLC0415

        path = Path(path)
        if path.is_dir():
            mlflow.log_artifacts(str(path), artifact_path=artifact_path or path.name)
        else:
            mlflow.log_artifact(str(path), artifact_path=artifact_path)

    def log_dict(self, data: dict, artifact_file: str) -> None:
        import mlflow  # noqa: PLC0415

        mlflow.log_dict(jsonable(data), artifact_file)

    def log_figures(self, figures: dict[str, Any], folder: str = "plots") -> list[str]:
        """Log matplotlib figures (``{"roc.png": fig}``) as artifacts under ``folder``; closes them.
        A plotting failure never fails training. Returns the artifact paths logged."""
        import mlflow  # noqa: PLC0415

        logged = []
        for name, fig in figures.items():
            try:
                mlflow.log_figure(fig, f"{folder}/{name}")
                logged.append(f"{folder}/{name}")
            except Exception as exc:  # noqa: BLE001
                log.warning("could not log figure %s: %s", name, exc)
            finally:
                import matplotlib.pyplot as plt  # noqa: PLC0415

                plt.close(fig)
        return logged

    def describe(self, text: str) -> None:
        """The run's description in the MLflow UI."""
        import mlflow  # noqa: PLC0415

        mlflow.set_tag(NOTE_TAG, text)

    def mark_deployed(self, serving: tuple[str, ...] | None = None) -> None:
        """This run's model now serves (its registry alias moved to it): its row says ``deployed``,
        and earlier rows of the model types that served the same slot go back to ``completed``."""
        self.log_training(deployment_status="deployed", deployment_timestamp=datetime.now(timezone.utc))
        if self.engine is None or self.log_row_id is None:
            return
        from sqlalchemy import text  # noqa: PLC0415

        try:
            with self.engine.begin() as conn:
                conn.execute(text(
                    "UPDATE model_training_logs SET deployment_status = 'completed' WHERE deployment_status = 'deployed'"
                    " AND model_type = ANY(:types) AND id <> :me"),
                    {"types": list(serving or (self.model_type,)), "me": self.log_row_id})
        except Exception as exc:  # noqa: BLE001 - tracking must never fail training
            log.warning("model_training_logs retire failed: %s", exc)

    def log_training(self, **fields: Any) -> None:
        """Record columns of this run's model_training_logs row (kept and written on exit too)."""
        self.fields.update(fields)
        if self.engine is not None and self.log_row_id is not None:
            try:
                update_training_log(self.engine, self.log_row_id, fields)
            except Exception as exc:  # noqa: BLE001 - tracking must never fail training
                log.warning("model_training_logs update failed: %s", exc)


def _default_engine():
    try:
        from infra.db import get_engine  # noqa: PLC0415

        return get_engine()
    except Exception as exc:  # noqa: BLE001
        log.warning("no database for model_training_logs: %s", exc)
        return None


@contextmanager
def start_run(experiment: str, model_type: str, params: dict | None = None, *, model_name: str | None = None,
              run_name: str | None = None, engine: Any = "default", tags: dict | None = None,
              description: str | None = None) -> Iterator[TrainingRun]:
    """Open an MLflow run + a model_training_logs row; complete or fail both on exit."""
    import mlflow  # noqa: PLC0415

    configure_mlflow()
    params = dict(params or {})
    started = datetime.now(timezone.utc)
    session_id = f"{model_type}-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    if engine == "default":
        engine = _default_engine()
    with mlflow.start_run(experiment_id=_experiment_id(experiment), run_name=run_name or session_id) as active:
        mlflow.set_tags({"model_type": model_type, "training_session_id": session_id, **(tags or {}),
                         NOTE_TAG: description or f"{model_type} training run {session_id}"
                                                  + (f" ({model_name})" if model_name else "")})
        if params:
            mlflow.log_params({k: (json.dumps(jsonable(v)) if isinstance(v, dict | list) else v)
                               for k, v in params.items()})
        run = TrainingRun(experiment, model_type, params, session_id, active.info.run_id, started, engine)
        if engine is not None:
            try:
                run.log_row_id = insert_training_log(engine, session_id, {
                    "model_type": model_type, "model_name": model_name, "training_start_time": started,
                    "deployment_status": "training", "hyperparameters": params, "mlflow_run_id": run.run_id,
                })
            except Exception as exc:  # noqa: BLE001
                log.warning("model_training_logs insert failed (%s); MLflow only", exc)
                run.engine = None
        t0 = time.perf_counter()
        try:
            yield run
        except BaseException:
            run.log_training(training_end_time=datetime.now(timezone.utc), deployment_status="failed")
            raise
        else:
            final = {"training_end_time": datetime.now(timezone.utc)}
            if "deployment_status" not in run.fields or run.fields["deployment_status"] == "training":
                final["deployment_status"] = "completed"
            run.log_training(**final)
            mlflow.log_metric("wall_seconds", time.perf_counter() - t0)


def log_training(engine, session_id: str, **fields: Any) -> int | None:
    """Write a standalone model_training_logs row (for jobs that track outside ``start_run``)."""
    try:
        return insert_training_log(engine, session_id, fields)
    except Exception as exc:  # noqa: BLE001
        log.warning("model_training_logs insert failed: %s", exc)
        return None


MODEL_DESCRIPTIONS = {
    "naviyam-wide-deep": "Wide&Deep ranker of the chat service. @champion serves; @challenger is the A/B variant "
                         "(a stable hash of the user id picks the arm).",
    "naviyam-nlu-intent": "Intent classifier of the chat NLU; @champion is what serving loads.",
    "naviyam-lora-recommender": "Group B of the ranking A/B test: multilingual-e5 two-tower recommender, query side "
                                "adapted with LoRA on the service's logs. @challenger is group B; the A/B decision "
                                "gives @champion.",
}


def register_model(model_uri: str, name: str, *, alias: str | None = None, tags: dict | None = None,
                   description: str | None = None) -> str:
    """Register ``model_uri`` under ``name`` (MLflow registry); set ``alias`` on the new version.
    ``description`` describes the version; the model's own description comes from MODEL_DESCRIPTIONS."""
    import mlflow  # noqa: PLC0415
    from mlflow import MlflowClient  # noqa: PLC0415

    configure_mlflow()
    clean = {k: str(v) for k, v in (tags or {}).items()}
    # MLflow prints "Successfully registered model…" / "Created version…" straight to stderr; the
    # same news goes through the project's log instead, as one line
    with contextlib.redirect_stderr(io.StringIO()):
        version = mlflow.register_model(model_uri, name, tags=clean)
    log.info("registered %s version %s", name, version.version)
    describe_model(name, version.version, description or ", ".join(f"{k}={v}" for k, v in clean.items()))
    if alias:
        MlflowClient().set_registered_model_alias(name, alias, version.version)
    return str(version.version)


def describe_model(name: str, version: str | int, description: str | None) -> None:
    """Descriptions on the registered model (once) and on one version; never fails registration."""
    from mlflow import MlflowClient  # noqa: PLC0415

    client = MlflowClient()
    try:
        if name in MODEL_DESCRIPTIONS and not client.get_registered_model(name).description:
            client.update_registered_model(name, description=MODEL_DESCRIPTIONS[name])
        if description:
            client.update_model_version(name, str(version), description=description)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not describe %s v%s: %s", name, version, exc)


def set_alias(name: str, alias: str, version: str) -> None:
    from mlflow import MlflowClient  # noqa: PLC0415

    configure_mlflow()
    MlflowClient().set_registered_model_alias(name, alias, version)


def get_alias(name: str, alias: str):
    """The model version behind ``alias`` (None when the model or alias does not exist)."""
    from mlflow import MlflowClient  # noqa: PLC0415

    configure_mlflow()
    try:
        return MlflowClient().get_model_version_by_alias(name, alias)
    except Exception:  # noqa: BLE001 - RestException when absent
        return None


def run_url(run_id: str) -> str | None:
    """The run's page in the MLflow UI (``settings.mlflow_ui_url``), or None when it cannot be found."""
    import mlflow  # noqa: PLC0415

    configure_mlflow()
    try:
        experiment_id = mlflow.get_run(run_id).info.experiment_id
    except Exception:  # noqa: BLE001
        return None
    return f"{get_settings().mlflow_ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def run_figures(run_id: str, folder: str = "plots") -> dict[str, bytes]:
    """The PNGs a run logged under ``folder`` (for Dagster metadata); empty when there are none."""
    import mlflow  # noqa: PLC0415

    configure_mlflow()
    out: dict[str, bytes] = {}
    try:
        client = mlflow.MlflowClient()
        for item in client.list_artifacts(run_id, folder):
            if item.path.endswith(".png"):
                local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=item.path)
                out[Path(item.path).name] = Path(local).read_bytes()
    except Exception as exc:  # noqa: BLE001 - metadata is a nicety, never a failure
        log.warning("cannot read the figures of run %s: %s", run_id, exc)
    return out
