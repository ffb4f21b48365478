"""``naviyam simulate``: simulated children using the real chat service for days.

    naviyam simulate run --days 14 --children 300 --seed 7
    naviyam simulate run --days 2 --children 20 --url http://127.0.0.1:3110   # a service started with
                                                                              # NAVIYAM_SIMULATION_CLOCK=true
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Annotated, Optional

import typer

from infra.cli import bootstrap

app = typer.Typer(help="Closed loop: simulated children use the real service; the platform learns from the logs.",
                  no_args_is_help=True)


def _say(message: str) -> None:
    typer.secho(message, fg=typer.colors.CYAN, err=True)


@app.callback()
def _services() -> None:
    bootstrap()
    # a SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so the chat service this run started is stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


@app.command("run")
def run(
    days: Annotated[int, typer.Option(min=1, help="Simulated days.")] = 14,
    children: Annotated[int, typer.Option(min=1, help="Simulated children (school-age sample users first).")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of every message and reaction.")] = 7,
    policy: Annotated[str, typer.Option(help="service: the service's ranking; oracle: its candidates re-ranked "
                                             "by the hidden utility (evaluation only).")] = "service",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Children simulated in parallel.")] = 4,
    url: Annotated[Optional[str], typer.Option(help="A running service with the simulation clock on; "
                                                    "default: start one.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port for the service started here (default: a free one).")] = None,
    ranker: Annotated[Optional[str], typer.Option(help="NAVIYAM_SERVING_RANKER for the started service "
                                                       "(registry or popularity).")] = None,
    label: Annotated[str, typer.Option(help="Name of this run in the table, plot and MLflow.")] = "service",
    max_error_share: Annotated[float, typer.Option(help="Stop when more than this share of a day's sessions "
                                                        "fail.")] = 0.2,
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="Do not log the run to MLflow.")] = False,
) -> None:
    """Run simulated days against the real service; print the per-day table; log table and plot to MLflow."""
    from infra.simulator.runner import SimulationConfig
    from orchestration.simulation.loop import run_loop

    if policy not in ("service", "oracle"):
        raise typer.BadParameter("policy must be service or oracle")
    cfg = SimulationConfig(days=days, children=children, seed=seed, policy=policy, concurrency=concurrency,  # type: ignore[arg-type]
                           max_error_share=max_error_share)
    env = {"NAVIYAM_SERVING_RANKER": ranker} if ranker else None
    out = run_loop(cfg, url=url, port=port, service_env=env, label=label, say=_say, log_mlflow=not no_mlflow)
    typer.echo(json.dumps(out["summary"], ensure_ascii=False, indent=2))


@app.command("compare")
def compare_arms(
    days: Annotated[int, typer.Option(min=1, help="Simulated days per arm.")] = 14,
    children: Annotated[int, typer.Option(min=1, help="Simulated children.")] = 300,
    seed: Annotated[int, typer.Option(help="The same seed for every arm.")] = 7,
    arms: Annotated[str, typer.Option(help="Comma-separated arms: popularity, learned, oracle.")] = "popularity,learned,oracle",
    retrain_every: Annotated[int, typer.Option(min=1, help="Learned arm: retrain on the logs every N nights.")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Children simulated in parallel.")] = 4,
    refresh_features: Annotated[bool, typer.Option(help="Rebuild the feature history every simulated night "
                                                        "(dbt, about 10 s a night per arm).")] = True,
) -> None:
    """Popularity vs nightly-retrained Wide&Deep vs oracle on the same seeds, each arm on its own copy
    of the database; prints the per-day tables and the day-N comparison; logs table and plot to MLflow."""
    from infra.simulator.runner import SimulationConfig
    from orchestration.simulation.compare import compare

    cfg = SimulationConfig(days=days, children=children, seed=seed, concurrency=concurrency)
    out = compare(cfg, arms=tuple(a.strip() for a in arms.split(",") if a.strip()), retrain_every=retrain_every,
                  say=_say, refresh_features=refresh_features)
    typer.echo(json.dumps(out["summary"], ensure_ascii=False, indent=2))


@app.command("ab")
def ab(
    children: Annotated[int, typer.Option(min=1, help="Simulated children (split between the arms by the stable "
                                                      "user hash).")] = 300,
    warmup_days: Annotated[int, typer.Option(min=1, help="Days of popularity ranking whose logs train both "
                                                         "models.")] = 4,
    days: Annotated[int, typer.Option(min=1, help="Simulated days per experiment.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of every message and reaction.")] = 7,
    min_lists: Annotated[int, typer.Option(min=1, help="Lists per arm before the analysis decides anything.")] = 200,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Children simulated in parallel.")] = 4,
    group_b: Annotated[str, typer.Option(help="wide_deep: a placebo and the learned Wide&Deep challenge each other "
                                              "(two experiments, each with an expected outcome); lora: spec scenario "
                                              "3, the LoRA two-tower recommender as group B against the learned "
                                              "Wide&Deep (one experiment, decided by the data).")] = "wide_deep",
    lora_share: Annotated[float, typer.Option(min=0.01, max=0.99, help="Share of children in group B "
                                                                       "(with --group-b lora).")] = 0.5,
) -> None:
    """A/B experiments decided by the analysis (dbt mart ab_variant_metrics + asset experiments/ab_decision).
    --group-b wide_deep: a deliberately weaker challenger (a placebo fitted on permuted labels) against the ranker
    learned from the logs, then the learned ranker challenging the placebo. --group-b lora: the LoRA two-tower
    recommender fitted on the same warm-up logs as group B. Prints each decision and the per-arm table."""
    from infra.simulator.runner import SimulationConfig
    from orchestration.simulation.ab_runs import GROUP_B_KINDS, ab_runs

    if group_b not in GROUP_B_KINDS:
        raise typer.BadParameter(f"one of {', '.join(GROUP_B_KINDS)}", param_hint="--group-b")
    cfg = SimulationConfig(children=children, seed=seed, concurrency=concurrency)
    out = ab_runs(cfg, warmup_days=warmup_days, days=days, min_lists=min_lists, say=_say, group_b=group_b,
                  lora_share=lora_share)
    typer.echo(json.dumps({name: {k: e.get(k) for k in ("expected", "outcome", "promoted", "reason")}
                           for name, e in out["experiments"].items()} | {"all_as_expected": out["all_as_expected"]},
                          ensure_ascii=False, indent=2, default=str))
    if not out["all_as_expected"]:
        raise typer.Exit(1)
