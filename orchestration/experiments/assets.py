"""The ranking A/B decision as a Dagster asset: read the ``ab_variant_metrics`` mart, test the
difference (``ab_test.decide``), promote the challenger in the MLflow registry only when it wins by
the margin with significance, and log the decision and every number to MLflow (experiment
``naviyam-ab``) and ``model_training_logs``.

Which experiment (``AbDecisionConfig.group_b``): ``challenger``, a Wide&Deep challenger against the
Wide&Deep champion (both in ``naviyam-wide-deep``), or ``lora_model``, group B of spec scenario 3, the
LoRA two-tower recommender against the Wide&Deep champion; its win moves ``champion`` within its own
registered model (``naviyam-lora-recommender``), which group B then serves."""

from datetime import datetime, timezone
from typing import Any

import dagster as dg

from infra.jsonable import jsonable
from infra.vocabulary import CHALLENGER, CHAMPION, LORA_VARIANT
from orchestration.experiments import ab_test
from orchestration.resources import PostgresResource

EXPERIMENT = "naviyam-ab"
PREVIOUS = "previous_champion"


class AbDecisionConfig(dg.Config):
    margin: float = ab_test.DEFAULT_MARGIN  # absolute order-rate difference the challenger must beat
    min_lists: int = ab_test.DEFAULT_MIN_LISTS  # lists per arm before anything is decided
    promote: bool = True  # False: decide and log, never move an alias
    group_b: str = CHALLENGER  # the arm judged against the champion: "challenger" or "lora_model"


GROUP_B = (CHALLENGER, LORA_VARIANT)


def group_b_model(variant: str) -> tuple[str, str]:
    """(group B's registered model, its ``model_training_logs.model_type``)."""
    if variant == LORA_VARIANT:
        from models.ranking.two_tower.retrain import MODEL_TYPE
        from models.ranking.two_tower.tower import REGISTERED_LORA

        return REGISTERED_LORA, MODEL_TYPE
    from models.ranking.scorer import REGISTERED_MODEL

    return REGISTERED_MODEL, "wide_deep"


def read_mart(engine) -> dict[str, dict[str, Any]]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM analytics.ab_variant_metrics")).mappings().all()
    return {r["variant"]: {k: (float(v) if hasattr(v, "is_finite") else v) for k, v in r.items()} for r in rows}


def apply_decision(decision: ab_test.Decision, *, engine, registered: str | None = None,
                   promote: bool = True, model_type: str = "wide_deep") -> dict[str, Any]:
    """Log the decision (MLflow run + model_training_logs row); on ``promote`` move ``champion`` to
    the challenger's version (the old champion keeps the alias ``previous_champion``)."""
    import mlflow
    from mlflow import MlflowClient

    from models.tracking import configure_mlflow, get_alias, log_training, set_alias

    if registered is None:
        registered = group_b_model(CHALLENGER)[0]
    configure_mlflow()
    champion, challenger = get_alias(registered, CHAMPION), get_alias(registered, CHALLENGER)
    versions = {CHAMPION: getattr(champion, "version", None), CHALLENGER: getattr(challenger, "version", None)}
    promoted = False
    if decision.outcome == "promote" and promote and challenger is not None:
        if champion is not None:
            set_alias(registered, PREVIOUS, str(champion.version))
        set_alias(registered, CHAMPION, str(challenger.version))
        MlflowClient().delete_registered_model_alias(registered, CHALLENGER)
        promoted = True
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    experiment_id = experiment.experiment_id if experiment else mlflow.create_experiment(EXPERIMENT)
    record = {**decision.as_dict(), "versions": versions, "promoted": promoted}
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"ab-{datetime.now():%Y%m%dT%H%M%S}") as run:
        mlflow.set_tags({"outcome": decision.outcome, "promoted": str(promoted), **{f"{k}_version": str(v)
                                                                                      for k, v in versions.items()}})
        mlflow.log_params({"margin": decision.margin, "min_lists": decision.min_lists, "primary": "order_rate",
                           "test": decision.comparisons.get("order_rate").test if decision.comparisons else "none"})
        for name, c in decision.comparisons.items():
            mlflow.log_metrics({f"{name}.{k}": float(v) for k, v in
                                {"champion": c.champion, "challenger": c.challenger, "diff": c.diff,
                                 "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value}.items()
                                if v is not None})
        for arm, row in decision.arms.items():
            mlflow.log_metrics({f"{arm}.{k}": float(v) for k, v in row.items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool)})
        mlflow.log_dict(jsonable(record), "ab_decision.json")
        run_id = run.info.run_id
    now = datetime.now(timezone.utc)
    log_training(engine, f"ab-{now:%Y%m%dT%H%M%S}-{run_id[:6]}", model_type=model_type, model_name=registered,
                 training_start_time=now, training_end_time=now, mlflow_run_id=run_id,
                 evaluation_metrics=jsonable({"ab_decision": record}),
                 final_model_path=f"models:/{registered}/{versions[CHALLENGER]}" if versions[CHALLENGER] else None,
                 deployment_status="deployed" if promoted else "completed",
                 deployment_timestamp=now if promoted else None)
    return {"run_id": run_id, "promoted": promoted, "versions": versions}


@dg.asset(
    key=["experiments", "ab_decision"],
    deps=[dg.AssetKey(["analytics", "ab_variant_metrics"])],
    group_name="experiments",
    kinds={"mlflow", "scipy"},
    description="Champion vs challenger from ab_variant_metrics: two-proportion z-test on the order rate "
    "against a stated margin, Welch t guardrail on satisfaction; promotes in the MLflow registry only on a "
    "significant win; logs to MLflow (naviyam-ab) and model_training_logs.",
)
def ab_decision(context: dg.AssetExecutionContext, config: AbDecisionConfig,
                postgres: PostgresResource) -> dg.MaterializeResult:
    engine = postgres.engine()
    if config.group_b not in GROUP_B:
        raise dg.Failure(f"group_b must be one of {GROUP_B}, not {config.group_b!r}")
    registered, model_type = group_b_model(config.group_b)
    decision = ab_test.decide(read_mart(engine), margin=config.margin, min_lists=config.min_lists,
                              challenger=config.group_b)
    applied = apply_decision(decision, engine=engine, promote=config.promote, registered=registered,
                             model_type=model_type)
    context.log.info(f"A/B: {decision.outcome} — {decision.reason}; promoted={applied['promoted']}")
    primary = decision.comparisons.get("order_rate")
    return dg.MaterializeResult(metadata={
        "outcome": decision.outcome, "reason": decision.reason, "promoted": applied["promoted"],
        "mlflow_run_id": applied["run_id"],
        **({"order_rate_diff": float(primary.diff), "order_rate_p": float(primary.p_value)}
           if primary is not None and primary.diff is not None else {}),
    })


ab_analysis_job = dg.define_asset_job(
    "ab_analysis",
    selection=dg.AssetSelection.assets(dg.AssetKey(["analytics", "ab_variant_metrics"]), ab_decision),
    description="Rebuild the A/B mart and decide champion vs challenger.",
)

defs = dg.Definitions(assets=[ab_decision], jobs=[ab_analysis_job])
