"""The nightly retrain on the service's own logs (the closed loop's learning step).

``retrain_from_logs``: logged impressions and reactions (``models.ranking.logged``) → point-in-time
features from the feature history (Feast's offline store, or the same join in memory over the
database's orders, which include every simulated day's orders) → a time split: the oldest 70 % of
lists train (IPS-resampled for position bias), the next 10 % early-stop, the newest 20 % are the
holdout that nothing was tuned on → Wide&Deep and the baselines on that holdout → MLflow and
``model_training_logs``.

Promotion: the new model becomes ``champion`` only if its holdout AUC beats the best baseline's
(popularity, logistic regression on the wide features) and the current champion's on the same
holdout; otherwise it is registered as ``challenger`` (the A/B arm) or not at all, and the run
records why. The hidden truth is never read.
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
from models.ranking.features import FEATURE_VERSION
from models.ranking.lightning_fit import fit_wide_deep, predict
from models.ranking.served import model_scored_only, overlay_served, skew, skew_metrics
from models.ranking.similarity import CoOrderIndex
from models.ranking.raw_features import build_snapshots
from models.ranking.scorer import CHALLENGER, CHAMPION, REGISTERED_MODEL, save_bundle
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
from models.ranking.training_set import VOCAB_COLUMNS, model_frame, naviyam_config, point_in_time_join, time_split

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
    skew_report: dict[str, Any] = {"features_source": "recomputed"}
    if served is not None:
        served_rows = model_scored_only(served(events[["user_id", "shop_id", "event_timestamp"]]), events["scored_by"])
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
                      served: Any = "feast") -> TrainReport:
    """``placebo``: fit on permuted training labels and never promote: the deliberately weaker
    challenger of ``naviyam simulate ab`` (an A/B must reject it). ``served``: "feast" (the served-feature
    view of the project's Feast store), a callable ``events -> served features``, or None."""
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
        result = fit_wide_deep(data.train, data.val, config, VOCAB_COLUMNS, max_epochs=cfg.max_epochs,
                               batch_size=cfg.batch_size, patience=cfg.patience, seed=cfg.seed,
                               epoch_callback=lambda epoch, m: run.log_metrics(m, step=epoch))
        scores = predict(result.model, result.encoder, data.test)
        holdout = {"wide_deep": evaluate(data.test, scores), **evaluate_baselines(data, cfg, config)}
        run.log_metrics({f"holdout_{m}_{k.replace('@', '_at_')}": v for m, ms in holdout.items()
                         for k, v in ms.items() if np.isfinite(v)})
        before = champion_score(data.test, registered_name)
        best_baseline = max((m for m in holdout if m != "wide_deep"), key=lambda m: holdout[m]["auc"])
        new_auc = holdout["wide_deep"]["auc"]
        beats_baseline = new_auc > holdout[best_baseline]["auc"]
        beats_champion = before is None or new_auc > before["auc"]
        why = (f"holdout AUC {new_auc:.4f} vs best baseline {best_baseline} {holdout[best_baseline]['auc']:.4f}"
               + (f" and champion v{before['version']} {before['auc']:.4f}" if before else " (no champion)"))
        with tempfile.TemporaryDirectory() as tmp:
            bundle = save_bundle(Path(tmp) / "bundle", result.model, result.encoder, data.co_index, {
                "feature_version": FEATURE_VERSION, "dataset_version": data.dataset_version,
                "holdout": holdout["wide_deep"], "run_id": run.run_id, "best_epoch": result.best_epoch,
                "source": "logs"})
            cols = _model_columns(result.encoder.config)
            model_uri = _log_model(bundle, data.test[cols].head(200).reset_index(drop=True), scores[:200])
        version = register_model(model_uri, registered_name, tags={"dataset_version": data.dataset_version,
                                                                  "source": "logs",
                                                                  "holdout_auc": round(new_auc, 5)})
        aliases: list[str] = []
        if promote and beats_baseline and beats_champion:
            set_alias(registered_name, CHAMPION, version)
            aliases.append(CHAMPION)
            decision = "champion: " + why
        elif promote and beats_baseline:
            set_alias(registered_name, CHALLENGER, version)
            aliases.append(CHALLENGER)
            decision = "challenger (does not beat the champion): " + why
        else:
            decision = "not promoted (does not beat the best baseline, which keeps the champion serving): " + why
        mlflow.set_tag("promotion", decision)
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
                           train_seconds=result.train_seconds, bundle_dir=model_uri, history=result.history)
