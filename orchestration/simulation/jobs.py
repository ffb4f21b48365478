"""The closed-loop simulation as a Dagster job (what ``naviyam simulate run`` runs, from the UI)."""

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


defs = dg.Definitions(jobs=[closed_loop_simulation])
