"""``naviyam simulate ab``: two A/B experiments on simulated children, each decided by the analysis.

On its own copy of the project database (own Redis key prefix, own empty MLflow registry):

1. warm-up: ``warmup_days`` simulated days ranked by popularity with the logged exploration share;
   that is where the logs come from;
2. two rankers fitted on those logs by the nightly retrain's code (``models.ranking.retrain``):
   ``learned``, and ``placebo``, the same fit on permuted training labels (a deliberately weaker
   model: same features, no signal);
3. experiment ``weaker_challenger``: champion = learned, challenger = placebo, ``days`` simulated
   days with the registry ranker (the stable user hash of ``serving.ab`` splits the children);
   then the dbt mart ``ab_variant_metrics`` over the experiment's own lists (var ``ab_since``) and
   the Dagster asset ``experiments/ab_decision`` decide. Expected: keep the champion;
4. experiment ``better_challenger``: champion = placebo, challenger = learned, the days after.
   Expected: promote.

With ``group_b="lora"`` (spec scenario 3) the warm-up logs fit the learned Wide&Deep (group A, the
champion) and the LoRA two-tower recommender (``models.ranking.two_tower.retrain``, group B), and one
experiment, ``lora_group_b``, runs ``days`` days with ``NAVIYAM_SERVING_LORA_SHARE`` of the children in
group B. Nothing is expected of it: the analysis decides, and the report says what it decided.

This module stages the models and the days; the decision, the promotion in the registry and the
records in MLflow (``naviyam-ab``) and ``model_training_logs`` are the asset's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from infra.settings import get_settings
from infra.simulator.runner import SimulationConfig, first_day
from orchestration.simulation.compare import clone_database, environment, nightly
from orchestration.simulation.loop import run_loop

Say = Callable[[str], None]


@dataclass(frozen=True)
class Experiment:
    name: str
    champion: str  # which of the fitted models ("learned" / "placebo")
    challenger: str  # ("learned" / "placebo" / "lora")
    expected: str | None  # the outcome a working analysis must reach (None: whatever the data say)
    group_b: str = "challenger"  # the model_variant of the arm judged (serving.ab)


EXPERIMENTS = (Experiment("weaker_challenger", "learned", "placebo", "keep"),
               Experiment("better_challenger", "placebo", "learned", "promote"))
LORA_EXPERIMENTS = (Experiment("lora_group_b", "learned", "lora", None, "lora_model"),)
GROUP_B_KINDS = ("wide_deep", "lora")


def simulation_start(seed: int, children: int) -> date:
    """The first simulated day (the day after the sample data's reference time)."""
    from infra.db import get_engine
    from infra.simulator.world import load_world, read_truth

    return first_day(load_world(get_engine(), read_truth(get_settings().hidden_truth_file), children, seed))


def decide(database: str, since: datetime, min_lists: int, group_b: str = "challenger") -> dict[str, Any]:
    """Rebuild the A/B mart over the lists since ``since`` and run the decision asset on it."""
    import dagster as dg

    from infra.dbt import run_dbt
    from orchestration.experiments.assets import ab_decision
    from orchestration.resources import PostgresResource

    built = run_dbt(["build", "-s", "+ab_variant_metrics"], database=database, dbt_vars={"ab_since": since.isoformat()})
    if built.returncode != 0:
        raise RuntimeError("dbt build of ab_variant_metrics failed:\n" + built.stdout[-3000:])
    result = dg.materialize([ab_decision], resources={"postgres": PostgresResource()},
                            run_config={"ops": {"experiments__ab_decision": {"config": {"min_lists": min_lists,
                                                                                       "group_b": group_b}}}})
    meta = {k: v.value for k, v in result.asset_materializations_for_node("experiments__ab_decision")[0].metadata.items()}
    from infra.db import get_engine
    from orchestration.experiments.assets import read_mart

    return {**meta, "arms": read_mart(get_engine())}


LATENCY_SQL = """
    SELECT optimization_suggestions->>'model_variant' AS variant, count(*) AS turns,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (optimization_suggestions->'stage_ms'->>'ranking')::float)
               AS ranking_ms_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY (optimization_suggestions->'stage_ms'->>'ranking')::float)
               AS ranking_ms_p99,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY total_time_ms) AS total_ms_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY total_time_ms) AS total_ms_p99
    FROM performance_logs
    WHERE "timestamp" >= :since AND success AND optimization_suggestions->'stage_ms' ? 'ranking'
    GROUP BY 1 ORDER BY 1
"""


def ranking_latency(since: datetime) -> dict[str, dict[str, float]]:
    """Per arm, the turns that ranked since ``since``: the ranking stage's and the whole turn's ms
    (p50 / p99), as the service measured them (``performance_logs``): what group B adds per turn."""
    from sqlalchemy import text

    from infra.db import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(text(LATENCY_SQL), {"since": since}).mappings().all()
    return {r["variant"]: {k: round(float(v), 2) for k, v in r.items() if k != "variant"} for r in rows}


def fit_models(group_b: str, seed: int, max_epochs: int, say: Say, report: dict[str, Any]) -> dict[str, str]:
    """Fit the experiment's models on the warm-up logs; name → registered version."""
    from infra.db import get_engine
    from infra.vocabulary import CHAMPION
    from models.ranking.retrain import retrain_from_logs
    from models.ranking.scorer import REGISTERED_MODEL
    from models.ranking.train import TrainConfig
    from models.tracking import set_alias

    fitted = {}
    arms = [("learned", False)] + ([("placebo", True)] if group_b == "wide_deep" else [])
    for name, placebo in arms:
        r = retrain_from_logs(cfg=TrainConfig(max_epochs=max_epochs, seed=seed), engine=get_engine(),
                              promote=False, placebo=placebo)
        fitted[name] = r.model_version
        say(f"A/B: {name} ranker fitted on the warm-up logs: version {r.model_version}: {r.decision}")
        report.setdefault("models", {})[name] = {"version": r.model_version, "kind": r.model_kind,
                                                 "holdout": r.holdout, "dataset_version": r.dataset_version}
    if group_b == "lora":
        from models.ranking.two_tower.fit import LoraRecConfig
        from models.ranking.two_tower.retrain import retrain_lora_from_logs

        set_alias(REGISTERED_MODEL, CHAMPION, fitted["learned"])  # the LoRA run's offline table scores it
        r = retrain_lora_from_logs(LoraRecConfig(seed=seed), engine=get_engine(), promote=False)
        fitted["lora"] = r.model_version
        say(f"A/B: LoRA two-tower fitted on the warm-up logs in {r.train_seconds:.0f} s: version "
            f"{r.model_version}: {r.decision}")
        report.setdefault("models", {})["lora"] = {"version": r.model_version, "kind": "lora_two_tower",
                                                   "holdout": r.table, "train_seconds": round(r.train_seconds, 1),
                                                   "dataset_version": r.dataset_version}
    return fitted


def ab_runs(cfg: SimulationConfig, *, warmup_days: int = 4, days: int = 4, min_lists: int = 200,
            max_epochs: int = 6, say: Say = print, out_dir: Path | None = None, group_b: str = "wide_deep",
            lora_share: float = 0.5) -> dict[str, Any]:
    """``group_b``: "wide_deep" (the placebo / learned pair of experiments) or "lora" (spec scenario 3)."""
    from infra.vocabulary import CHALLENGER, CHAMPION
    from models.ranking.scorer import REGISTERED_MODEL
    from models.ranking.two_tower.tower import REGISTERED_LORA
    from models.tracking import init_tracking_store, set_alias

    if group_b not in GROUP_B_KINDS:
        raise ValueError(f"group_b must be one of {GROUP_B_KINDS}, not {group_b!r}")
    settings = get_settings()
    stamp = f"{datetime.now():%Y%m%dT%H%M%S}"
    out_dir = out_dir or settings.data_dir / "simulations" / f"{stamp}-ab-{group_b}-seed{cfg.seed}"
    out_dir.mkdir(parents=True, exist_ok=True)
    database = f"{settings.pg_database}_sim_ab"[:63]
    say(f"A/B: database {database} (a copy of {settings.pg_database}); files in {out_dir}")
    clone_database(settings.pg_database, database)
    env = {"NAVIYAM_PG_DATABASE": database, "NAVIYAM_REDIS_KEY_PREFIX": f"{settings.redis_key_prefix}sim-ab:",
           "NAVIYAM_SERVING_RANKER": "popularity", "NAVIYAM_SERVING_USER_FEATURES": "postgres",
           "NAVIYAM_MLFLOW_TRACKING_URI": f"sqlite:///{(out_dir / 'mlflow.db').resolve()}"}
    tz = ZoneInfo(settings.timezone)
    report: dict[str, Any] = {"seed": cfg.seed, "children": cfg.children, "warmup_days": warmup_days,
                              "days_per_experiment": days, "min_lists": min_lists, "group_b": group_b,
                              "experiments": {}}
    experiments = LORA_EXPERIMENTS if group_b == "lora" else EXPERIMENTS
    with environment(env):
        init_tracking_store()  # before the service and the retrain open it
        start = cfg.start or simulation_start(cfg.seed, cfg.children)
        say(f"A/B warm-up: {warmup_days} days from {start}, popularity ranking with the logged exploration share")
        night = nightly(say, refresh_features=True, retrain_every=None)  # features move with behaviour
        run_loop(replace(cfg, days=warmup_days, start=start), service_env=env, label="ab-warmup", say=say,
                 out_dir=out_dir / "warmup", log_mlflow=False, nightly=night)
        fitted = fit_models(group_b, cfg.seed, max_epochs, say, report)
        for k, exp in enumerate(experiments):
            day0 = start + timedelta(days=warmup_days + k * days)
            set_alias(REGISTERED_MODEL, CHAMPION, fitted[exp.champion])
            lora = exp.group_b == "lora_model"
            set_alias(REGISTERED_LORA if lora else REGISTERED_MODEL, CHALLENGER, fitted[exp.challenger])
            say(f"A/B {exp.name}: champion {exp.champion} v{fitted[exp.champion]}, group B {exp.challenger} "
                f"v{fitted[exp.challenger]}, {days} days from {day0}")
            arm_env = {**env, "NAVIYAM_SERVING_RANKER": "registry",
                       "NAVIYAM_SERVING_LORA_SHARE": str(lora_share if lora else 0.0)}
            run_loop(replace(cfg, days=days, start=day0), service_env=arm_env,
                     label=f"ab-{exp.name}", say=say, out_dir=out_dir / exp.name, log_mlflow=False, nightly=night)
            got = decide(database, datetime.combine(day0, time.min, tz), min_lists, group_b=exp.group_b)
            got["latency"] = ranking_latency(datetime.combine(day0, time.min, tz))
            say(f"A/B {exp.name}: {got['outcome']} (expected {exp.expected or 'nothing in particular'}) — "
                f"{got['reason']}")
            report["experiments"][exp.name] = {"champion": exp.champion, "challenger": exp.challenger,
                                               "expected": exp.expected, "first_day": day0.isoformat(), **got}
    report["all_as_expected"] = all(e["outcome"] == e["expected"] for e in report["experiments"].values()
                                    if e["expected"] is not None)
    (out_dir / "ab_runs.json").write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str),
                                          encoding="utf-8")
    (out_dir / "ab_runs.md").write_text(format_report(report) + "\n", encoding="utf-8")
    say("\n" + format_report(report))
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = ["| experiment | champion | challenger | arm | lists | order rate [95 % CI] | satisfaction | CTR |",
             "|---|---|---|---|---|---|---|---|"]
    for name, e in report["experiments"].items():
        for arm, row in sorted(e.get("arms", {}).items()):
            lo, hi = row.get("order_rate_ci_low"), row.get("order_rate_ci_high")
            ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
            lines.append(f"| {name} | {e['champion']} | {e['challenger']} | {arm} | {row.get('lists')} | "
                         f"{_num(row.get('order_rate'), 3)}{ci} | {_num(row.get('satisfaction_mean'), 2)} | "
                         f"{_num(row.get('ctr'), 3)} |")
    lines += ["", "| experiment | arm | ranked turns | ranking ms p50 | p99 | whole turn ms p50 | p99 |",
              "|---|---|---|---|---|---|---|"]
    for name, e in report["experiments"].items():
        for arm, m in sorted(e.get("latency", {}).items()):
            lines.append(f"| {name} | {arm} | {m['turns']:.0f} | {m['ranking_ms_p50']:.1f} | {m['ranking_ms_p99']:.1f} | "
                         f"{m['total_ms_p50']:.0f} | {m['total_ms_p99']:.0f} |")
    for name, m in report.get("models", {}).items():
        if "train_seconds" in m:
            lines.append(f"\n{name}: trained in {m['train_seconds']:.0f} s; holdout "
                         + "; ".join(f"{k} AUC {v.get('auc', float('nan')):.4f} NDCG@10 {v.get('ndcg@10', float('nan')):.4f}"
                                     + (f" ({v['score_ms_p50']:.1f} / {v['score_ms_p99']:.1f} ms per request)"
                                        if "score_ms_p50" in v else "") for k, v in m["holdout"].items()))
    lines.append("")
    for name, e in report["experiments"].items():
        lines.append(f"- **{name}**: {e['outcome']} (expected {e['expected'] or 'nothing in particular'}): "
                     f"{e['reason']}")
    return "\n".join(lines)


def _num(value: Any, digits: int) -> str:
    return "" if value is None else f"{float(value):.{digits}f}"
