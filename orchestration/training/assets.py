"""Model training assets: the NLU intent classifier and the Wide&Deep ranker, tracked in MLflow,
mirrored in model_training_logs, registered; a ranker becomes `champion` only if it beats the
current one on the holdout (otherwise `challenger`, the A/B variant)."""

import dagster as dg

from infra.settings import get_settings

from orchestration.maintenance.assets import daily_refresh_job
from orchestration.metadata import markdown_table, mlflow_run_metadata
from orchestration.resources import PostgresResource


class RankerTrainingConfig(dg.Config):
    n_impressions: int = 5_000  # training lists built from orders; the benchmark uses 20,000
    max_epochs: int = 8
    seed: int = 0
    feature_source: str = "feast"  # point-in-time features from Feast's offline store; "memory" skips Feast


@dg.asset(
    key=["models", "nlu_intent_classifier"],
    # what it learns from besides its own grammar: the corrected rows the service collects
    deps=[dg.AssetKey(["raw", "nlu_training_data"])],
    group_name="training",
    kinds={"mlflow", "sklearn"},
    description="Char n-gram intent classifier trained on the project's Korean grammar plus "
    "corrected nlu_training_data rows; registered as naviyam-nlu-intent.",
)
def nlu_intent_classifier(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    from models.nlu.train import train_intent_classifier

    _, summary = train_intent_classifier(engine=postgres.engine())
    context.log.info(f"nlu classifier {summary['version']}: {summary['metrics']}")
    return dg.MaterializeResult(metadata={
        "version": summary["version"], **_floats(summary["metrics"]),
        "metrics": dg.MetadataValue.md(markdown_table(
            [{"metric": k, "value": v} for k, v in summary["metrics"].items() if isinstance(v, (int, float))])),
        **mlflow_run_metadata(summary.get("mlflow_run_id")),
    })


@dg.asset(
    key=["models", "wide_deep_ranker"],
    deps=[dg.AssetKey(["feature_store", "online_features"])],
    group_name="training",
    kinds={"mlflow", "pytorch"},
    description="Bootstrap ranker: Wide&Deep and its wide half (Lightning) trained on point-in-time features of "
    "lists built from the orders; the validation winner is registered as naviyam-wide-deep and becomes champion "
    "only past popularity and the champion.",
)
def wide_deep_ranker(
    context: dg.AssetExecutionContext, config: RankerTrainingConfig, postgres: PostgresResource
) -> dg.MaterializeResult:
    from models.ranking.train import TrainConfig, train_ranker

    report = train_ranker(
        postgres.settings,
        TrainConfig(
            n_impressions=config.n_impressions,
            max_epochs=config.max_epochs,
            seed=config.seed,
            feature_source=config.feature_source,
        ),
        engine=postgres.engine(),
    )
    context.log.info(f"wide&deep version {report.model_version} aliases {report.aliases}: {report.holdout}")
    return dg.MaterializeResult(
        metadata={
            **{f"holdout_{k}": v for k, v in _floats(report.holdout.get("wide_deep", {})).items()},
            "model_version": str(report.model_version),
            "aliases": ", ".join(report.aliases) or "none",
            "dataset_version": report.dataset_version,
            "holdout": dg.MetadataValue.md(markdown_table(
                [{"model": name, **{k: v for k, v in m.items() if isinstance(v, (int, float))}}
                 for name, m in report.holdout.items()])),
            **mlflow_run_metadata(report.run_id),
        }
    )


def _floats(metrics: dict) -> dict:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}


nightly_retrain_job = dg.define_asset_job(
    "nightly_retrain",
    selection=dg.AssetSelection.groups("training", "retrieval_index"),
    description="Retrain the NLU classifier and the Wide&Deep ranker on the refreshed features and "
    "refresh the Qdrant index (only changed shops and menus are re-embedded), then grade it (retrieval_quality).",
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_refresh_job],
    request_job=nightly_retrain_job,
    default_status=(dg.DefaultSensorStatus.RUNNING if get_settings().dagster_schedules_running
                    else dg.DefaultSensorStatus.STOPPED),  # NAVIYAM_DAGSTER_SCHEDULES, as the schedules
    description="Each night, once daily_refresh has rebuilt the warehouse and the feature store, "
    "retrain the models and refresh the index over what it built.",
)
def retrain_after_daily_refresh(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    # one retrain per successful refresh, even if the sensor sees the same run twice
    return dg.RunRequest(run_key=context.dagster_run.run_id)


defs = dg.Definitions(
    assets=[nlu_intent_classifier, wide_deep_ranker],
    jobs=[nightly_retrain_job],
    sensors=[retrain_after_daily_refresh],
)
