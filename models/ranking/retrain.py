"""The nightly retrain on the service's own logs (the closed loop's learning step).

``retrain_from_logs``: logged impressions and reactions (``models.ranking.logged``) → point-in-time
features from the feature history (Feast's offline store, or the same join in memory over the
database's orders, which include every simulated day's orders) → a time split: the oldest 70 % of
lists train (IPS-resampled for position bias), the next 10 % early-stop, the newest 20 % are the
holdout that nothing was tuned on → Wide&Deep and the baselines on that holdout → MLflow and
``model_training_logs``.

Which model: two servable candidates are fitted on the same split, Wide&Deep and its wide half alone
(a logistic regression on the wide features, early-stopped the same way and saved in the same bundle
format, so the service loads either). The one with the better validation AUC is registered; it becomes
``champion`` only if it also beats popularity (the baseline) and the current champion on the
holdout, else ``challenger`` (the A/B arm) when it beats popularity, else nothing; the run records
which model and why (MLflow tag ``promotion``, ``model_training_logs``). The hidden truth is never read.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.ranking import logged
from models.ranking.candidates import choose, fit_servable, promotion
from models.ranking.features import FEATURE_VERSION
from models.ranking.served import model_scored_only, overlay_served, skew, skew_metrics
from models.ranking.similarity import CoOrderIndex
from models.ranking.raw_features import build_snapshots
from models.ranking.scorer import CHAMPION, REGISTERED_MODEL, save_bundle
from models.ranking.train import (
    EXPERIMENT,
    RAW_TABLES,
    PreparedData,
    TrainConfig,
    TrainReport,
    _json_safe,
    _log_model,
    _model_columns,
    champion_score,
    evaluate,
    evaluate_baselines,
)
from models.ranking.training_set import model_frame, naviyam_config, point_in_time_join, time_split

log = logging.getLogger(__name__)
MIN_LISTS = 150


class NotEnoughLogs(RuntimeError):
    pass


def check_labels(parts: dict[str, pd.DataFrame], min_each: int = 1) -> None:
    """Raise ``NotEnoughLogs`` unless every part of the split has ``min_each`` positive and negative
    rows: impressions nobody reacted to (a benchmark's, an evaluation's) teach nothing, and neither
    a model nor a baseline can be fitted or judged on one class. (How much data is enough is the
    caller's ``min_lists``; this only refuses what cannot be fitted at all.)"""
    for part, rows in parts.items():
        positives = int(rows["label"].sum())
        if positives < min_each or len(rows) - positives < min_each:
            raise NotEnoughLogs(f"the {part} part of the logs has {positives} positive and "
                                f"{len(rows) - positives} negative rows (need {min_each} of each)")


def prepare_logged(engine, cfg: TrainConfig, *, since: Any = "-infinity", historical=None, served=None,
                   min_lists: int = MIN_LISTS, placebo: bool = False,
                   ) -> tuple[PreparedData, logged.LoggedImpressions, dict[str, Any]]:
    """(the split training data, the logged impressions, the served-vs-recomputed skew report).
    ``served``: ``events -> served features`` (``feature_repo.reads.served_features``); where a row
    has them they replace the recomputed stored features, so the model learns from what it was
    shown with. None: recomputed features only (the report says so)."""
    imps = logged.load(engine, since)
    if imps.lists < min_lists:
        raise NotEnoughLogs(f"{imps.lists} logged lists with recommendations (need {min_lists})")
    tables = {t: pd.read_sql_table(t, engine) for t in RAW_TABLES}
    snaps = build_snapshots(tables)
    events = imps.rows
    joined = historical(events) if historical is not None else point_in_time_join(events, snaps)
    times = events.groupby("impression_id")["event_timestamp"].first().sort_values()
    cutoff = times.iloc[int(len(times) * 0.7)]
    co = CoOrderIndex.fit(snaps.visits[snaps.visits["ts"] < cutoff])
    frame = model_frame(joined, co, label="ordered")
    frame["ips_weight"] = joined["ips_weight"].to_numpy()
    # the request as the child said it: the LoRA two-tower reads it (models.ranking.two_tower)
    frame["req_text"] = joined["request_text"].to_numpy()
    skew_report: dict[str, Any] = {"features_source": "recomputed"}
    if served is not None:
        served_rows = model_scored_only(served(events[["user_id", "shop_id", "event_timestamp"]]), events["scored_by"],
                                        events["strategy"])
        skew_report = {"features_source": "served where logged", **skew(frame, served_rows)}
        frame = overlay_served(frame, served_rows)
    train, val, test, bounds = time_split(frame)
    check_labels({"training": train})  # a one-class holdout only leaves its AUC undefined
    train = logged.ips_resample(train, train["ips_weight"].to_numpy(), seed=cfg.seed)
    if placebo:  # the labels permuted across the training rows: same data, no signal (a model an A/B must reject)
        train["label"] = np.random.default_rng(cfg.seed).permutation(train["label"].to_numpy())
    h = hashlib.sha256(pd.util.hash_pandas_object(
        events[["impression_id", "shop_id", "viewed", "ordered"]], index=False).values.tobytes())
    version = ("placebo-" if placebo else "logs-") + h.hexdigest()[:12]
    return PreparedData(train, val, test, bounds, co, snaps, version, events), imps, skew_report


def feast_served_reader(settings: Any = None):
    """``events -> served features`` through the project's Feast store (its served-feature view)."""
    from feature_repo.config import get_feature_store
    from feature_repo.reads import served_features

    store = get_feature_store(settings)
    return lambda events: served_features(store, events)


def retrain_from_logs(settings: Any = None, cfg: TrainConfig = TrainConfig(max_epochs=8), *, engine,
                      since: Any = "-infinity", historical=None, registered_name: str = REGISTERED_MODEL,
                      promote: bool = True, min_lists: int = MIN_LISTS, placebo: bool = False,
                      served: Any = "feast", challenger: bool = True) -> TrainReport:
    """``placebo``: fit on permuted training labels and never promote: the deliberately weaker
    challenger of ``naviyam simulate ab`` (an A/B must reject it). ``served``: "feast" (the served-feature
    view of the project's Feast store), a callable ``events -> served features``, or None. ``challenger``:
    whether a model that beats popularity but not the champion becomes the A/B challenger."""
    import mlflow

    from models.tracking import register_model, set_alias, start_run

    reader = feast_served_reader(settings) if served == "feast" else served
    data, imps, skew_report = prepare_logged(engine, cfg, since=since, historical=historical, served=reader,
                                             min_lists=min_lists, placebo=placebo)
    promote = promote and not placebo
    config = naviyam_config(learning_rate=cfg.learning_rate, embedding_dim=cfg.embedding_dim, hidden=cfg.hidden,
                            dropout=cfg.dropout)
    params = {**asdict(cfg), "source": "logs", "placebo": placebo, "features_source": skew_report["features_source"],
              "dataset_version": data.dataset_version, **data.bounds,
              "lists": imps.lists, "train_rows": len(data.train), "val_rows": len(data.val),
              "test_rows": len(data.test), "propensity_source": imps.propensity_source,
              "propensity": {str(k): round(v, 4) for k, v in imps.propensity.items()}}
    with start_run(EXPERIMENT, model_type="wide_deep", params=params, model_name=registered_name, engine=engine,
                   tags={"dataset_version": data.dataset_version, "source": "logs"}) as run:
        run.log_metrics(skew_metrics(skew_report))
        mlflow.log_dict(_json_safe(skew_report), "feature_skew.json")
        log.info("served vs recomputed features: %s", {k: v for k, v in skew_report.items() if k != "features"})
        fits, scores, val_auc = fit_servable(data.train, data.val, data.test, config, max_epochs=cfg.max_epochs,
                                    batch_size=cfg.batch_size, patience=cfg.patience, seed=cfg.seed,
                                    log_metrics=lambda m, epoch: run.log_metrics(m, step=epoch))
        holdout = {**{kind: evaluate(data.test, s) for kind, s in scores.items()},
                   **evaluate_baselines(data, cfg, config)}
        run.log_metrics({f"holdout_{m}_{k.replace('@', '_at_')}": v for m, ms in holdout.items()
                         for k, v in ms.items() if np.isfinite(v)})
        before = champion_score(data.test, registered_name)
        kind, why, beats_champion = choose(val_auc, holdout, before)
        result = fits[kind]
        with tempfile.TemporaryDirectory() as tmp:
            bundle = save_bundle(Path(tmp) / "bundle", result.model, result.encoder, data.co_index, {
                "feature_version": FEATURE_VERSION, "dataset_version": data.dataset_version,
                "holdout": holdout[kind], "run_id": run.run_id, "best_epoch": result.best_epoch,
                "source": "logs", "model_kind": kind})
            cols = _model_columns(result.encoder.config)
            model_uri = _log_model(bundle, data.test[cols].head(200).reset_index(drop=True), scores[kind][:200])
        version = register_model(model_uri, registered_name, tags={"dataset_version": data.dataset_version,
                                                                  "source": "logs", "model_kind": kind,
                                                                  "holdout_auc": round(holdout[kind]["auc"], 5)})
        alias, decision = promotion(kind, holdout, why, beats_champion, allowed=promote, challenger=challenger)
        if placebo:
            decision += " (placebo: permuted training labels)"
        aliases = [alias] if alias else []
        if alias:
            set_alias(registered_name, alias, version)
        mlflow.set_tags({"model_kind": kind, "promotion": decision})
        log.info("retrain from logs: %s", decision)
        last = result.history[-1] if result.history else {}
        run.log_training(
            epochs=len(result.history), current_epoch=len(result.history), learning_rate=cfg.learning_rate,
            batch_size=cfg.batch_size, training_loss=last.get("train_loss"), validation_loss=last.get("val_loss"),
            best_validation_loss=result.best_val_loss, training_samples_count=len(data.train),
            validation_samples_count=len(data.val),
            class_balance={"positive": int(data.train["label"].sum()), "negative": int((1 - data.train["label"]).sum())},
            evaluation_metrics=_json_safe({"holdout": holdout, "champion_before": before, "aliases": aliases,
                                           "decision": decision, "propensity": imps.propensity,
                                           "feature_skew": {k: v for k, v in skew_report.items() if k != "features"}}),
            final_model_path=f"models:/{registered_name}/{version}", deployment_status="completed")
        if CHAMPION in aliases:
            run.mark_deployed()
        return TrainReport(run_id=run.run_id, model_version=version, aliases=aliases,
                           dataset_version=data.dataset_version, holdout=holdout, champion_before=before,
                           train_seconds=sum(f.train_seconds for f in fits.values()), bundle_dir=model_uri,
                           history=result.history, model_kind=kind, decision=decision)

