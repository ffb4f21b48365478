"""The closed-loop simulation as Dagster jobs (what ``naviyam simulate run`` and ``naviyam simulate ab``
run, from the UI)."""

import dagster as dg

from orchestration.resources import PostgresResource


class SimulationRunConfig(dg.Config):
    days: int = 14
    children: int = 300
    seed: int = 7
    policy: str = "service"  # or "oracle" (the hidden utility re-ranks the service's candidates)
    concurrency: int = 4
    url: str | None = None  # a running service with NAVIYAM_SIMULATION_CLOCK=true; default: start one
    label: str = "service"


@dg.op(description="Simulated children use the real chat service over HTTP for `days` simulated days; the "
                   "per-day table and plot go to MLflow (naviyam-simulation).")
def simulate_days(context: dg.OpExecutionContext, config: SimulationRunConfig, postgres: PostgresResource) -> dict:
    from infra.simulator.runner import SimulationConfig
    from orchestration.simulation.loop import run_loop

    if config.policy not in ("service", "oracle"):
        raise dg.Failure(f"policy must be service or oracle, not {config.policy!r}")
    cfg = SimulationConfig(days=config.days, children=config.children, seed=config.seed, policy=config.policy,  # type: ignore[arg-type]
                           concurrency=config.concurrency)
    out = run_loop(cfg, url=config.url, label=config.label, say=context.log.info)
    context.add_output_metadata({"summary": dg.MetadataValue.json(out["summary"]),
                                 "mlflow_run_id": str(out["run_id"])})
    return out["summary"]


@dg.job(description="Closed loop: simulated children use the real service for days (see infra/simulator).")
def closed_loop_simulation():
    simulate_days()


class AbSimulationConfig(dg.Config):
    children: int = 300
    warmup_days: int = 4
    days: int = 4  # per experiment
    seed: int = 7
    min_lists: int = 200
    concurrency: int = 4
    group_b: str = "wide_deep"  # or "lora": the LoRA two-tower recommender as group B (spec scenario 3)
    lora_share: float = 0.5


@dg.op(description="Two A/B experiments on simulated children (a placebo challenger, then the learned ranker "
                   "challenging the placebo), each decided by ab_variant_metrics + experiments/ab_decision.")
def simulate_ab_experiments(context: dg.OpExecutionContext, config: AbSimulationConfig,
                            postgres: PostgresResource) -> dict:
    from infra.simulator.runner import SimulationConfig
    from orchestration.simulation.ab_runs import ab_runs

    cfg = SimulationConfig(children=config.children, seed=config.seed, concurrency=config.concurrency)
    out = ab_runs(cfg, warmup_days=config.warmup_days, days=config.days, min_lists=config.min_lists,
                  say=context.log.info, group_b=config.group_b, lora_share=config.lora_share)
    outcomes = {name: {"expected": e["expected"], "outcome": e["outcome"], "reason": e["reason"]}
                for name, e in out["experiments"].items()}
    context.add_output_metadata({"outcomes": dg.MetadataValue.json(outcomes),
                                 "all_as_expected": out["all_as_expected"]})
    if not out["all_as_expected"]:
        raise dg.Failure(f"an A/B decision was not the expected one: {outcomes}")
    return outcomes


@dg.job(description="Spec scenario 3 on simulated children: a weaker challenger is rejected, a better one promoted.")
def ab_experiments_simulation():
    simulate_ab_experiments()


defs = dg.Definitions(jobs=[closed_loop_simulation, ab_experiments_simulation])
