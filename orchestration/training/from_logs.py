"""The nightly retrain on the service's own logs: Wide&Deep on logged impressions and reactions
(``models.ranking.retrain``), part of ``nightly_retrain`` (group ``training``). It runs after the
bootstrap ranker, so its promotion gate compares against whatever serves; with too few logged
lists (a fresh deployment, ``make demo``) it records why and trains nothing."""

import dagster as dg

from orchestration.resources import PostgresResource


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


defs = dg.Definitions(assets=[wide_deep_from_logs])
