"""The nightly retrain on the service's own logs, part of ``nightly_retrain`` (group ``training``):

* ``models/wide_deep_from_logs``: Wide&Deep (group A) on logged impressions and reactions
  (``models.ranking.retrain``). It runs after the bootstrap ranker, so its promotion gate compares
  against whatever serves;
* ``models/lora_recommender_from_logs``: the LoRA two-tower recommender (group B,
  ``models.ranking.two_tower``) on the same logs, after the Wide&Deep retrain (its offline table
  scores the champion that retrain left) and the retrieval index (its shop vectors are the index's).

With too few logged lists (a fresh deployment, ``make demo``) each records why and trains nothing."""

import dagster as dg

from orchestration.metadata import markdown_table, mlflow_run_metadata
from orchestration.resources import PostgresResource
from orchestration.retrieval.assets import QDRANT_INDEX_KEY


class LogRetrainConfig(dg.Config):
    max_epochs: int = 8
    seed: int = 0
    min_lists: int = 150  # logged lists with recommendations needed before anything is trained
    since: str = "-infinity"  # only lists logged at or after this ISO time


@dg.asset(
    key=["models", "wide_deep_from_logs"],
    deps=[dg.AssetKey(["models", "wide_deep_ranker"])],
    group_name="training",
    kinds={"mlflow", "pytorch"},
    description="Wide&Deep retrained on recommendations_log + reactions + orders, point-in-time features, "
    "inverse-propensity weights for position bias; champion only if it beats the best baseline and the "
    "champion on a holdout not used for early stopping.",
)
def wide_deep_from_logs(context: dg.AssetExecutionContext, config: LogRetrainConfig,
                        postgres: PostgresResource) -> dg.MaterializeResult:
    from models.ranking.retrain import NotEnoughLogs, retrain_from_logs
    from models.ranking.train import TrainConfig

    try:
        report = retrain_from_logs(postgres.settings, TrainConfig(max_epochs=config.max_epochs, seed=config.seed),
                                   engine=postgres.engine(), since=config.since, min_lists=config.min_lists)
    except NotEnoughLogs as exc:
        context.log.info(f"no retrain from logs: {exc}")
        return dg.MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    h = report.holdout
    return dg.MaterializeResult(metadata={
        "trained": True, "model_version": str(report.model_version), "aliases": ", ".join(report.aliases) or "none",
        "dataset_version": report.dataset_version, "mlflow_run_id": report.run_id,
        **{f"holdout_auc_{m}": float(v["auc"]) for m, v in h.items()},
    })


class LoraRetrainConfig(dg.Config):
    max_epochs: int = 3
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    max_train_lists: int = 4000  # the newest training lists; bounds a night's CPU time
    seed: int = 0
    min_lists: int = 150
    since: str = "-infinity"


@dg.asset(
    key=["models", "lora_recommender_from_logs"],
    deps=[dg.AssetKey(["models", "wide_deep_from_logs"]), QDRANT_INDEX_KEY],
    group_name="training",
    kinds={"mlflow", "pytorch"},
    description="Group B of the ranking A/B test: multilingual-e5 two-tower recommender whose query side is "
    "LoRA-adapted (peft) on the same logged lists as the Wide&Deep retrain; offline table (AUC / NDCG@10 / "
    "scoring ms) against the Wide&Deep champion and popularity; registered as naviyam-lora-recommender, "
    "@challenger when it beats popularity.",
)
def lora_recommender_from_logs(context: dg.AssetExecutionContext, config: LoraRetrainConfig,
                               postgres: PostgresResource) -> dg.MaterializeResult:
    from models.ranking.retrain import NotEnoughLogs
    from models.ranking.two_tower.fit import LoraRecConfig
    from models.ranking.two_tower.retrain import retrain_lora_from_logs

    cfg = LoraRecConfig(**config.model_dump(exclude={"min_lists", "since"}))
    try:
        report = retrain_lora_from_logs(cfg, engine=postgres.engine(), since=config.since, min_lists=config.min_lists)
    except NotEnoughLogs as exc:
        context.log.info(f"no LoRA recommender from logs: {exc}")
        return dg.MaterializeResult(metadata={"trained": False, "reason": str(exc)})
    return dg.MaterializeResult(metadata={
        "trained": True, "model_version": str(report.model_version), "aliases": ", ".join(report.aliases) or "none",
        "decision": report.decision, "train_seconds": round(report.train_seconds, 1),
        "offline_table": dg.MetadataValue.md(markdown_table(
            [{"model": name, **{k: v for k, v in m.items() if isinstance(v, (int, float))}}
             for name, m in report.table.items()])),
        **mlflow_run_metadata(report.run_id),
        **{f"holdout_auc_{m}": float(v["auc"]) for m, v in report.table.items()},
    })


defs = dg.Definitions(assets=[wide_deep_from_logs, lora_recommender_from_logs])
