"""The training entry point end to end on tiny data: Feast training set, MLflow run and registry
aliases, model_training_logs, the champion gate, load_scorer and recommendation_features."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import mlflow
import numpy as np
import pytest
from sqlalchemy import text

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny(settings):
    import torch

    from infra.sample_data.generator import build

    torch.set_num_threads(1)
    return build(20261125, 0.03)


@pytest.fixture(scope="module")
def model_name() -> str:
    return f"naviyam-wide-deep-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def first_run(settings, migrated_engine, tiny, model_name, tmp_path_factory):
    """A first model trained from the Feast training set: it becomes champion (there is none).

    The tiny tables live in memory, not in the database dbt reads, so the views' sources get the
    reference history of those tables (what dbt builds from them:
    tests/integration/test_feature_history_parity.py)."""
    from feature_repo.config import get_feature_store
    from feature_repo.history import load_feature_history
    from feature_repo.materialize import apply_feature_store
    from models.ranking.raw_features import build_snapshots
    from models.ranking.train import TrainConfig, train_ranker

    database = migrated_engine.url.database
    load_feature_history(settings, build_snapshots(tiny.tables), database=database)
    store = get_feature_store(settings, project=f"t_{uuid.uuid4().hex[:10]}", database=database,
                              registry_path=tmp_path_factory.mktemp("feast") / "registry.db")
    apply_feature_store(store=store)
    cfg = TrainConfig(n_impressions=300, list_size=12, max_epochs=3, feature_source="feast")
    return train_ranker(settings, cfg, tables=tiny.tables, truth=tiny.truth, engine=migrated_engine,
                        registered_name=model_name, feature_store=store)


def test_first_model_is_registered_as_champion_with_a_full_mlflow_record(first_run, model_name):
    from models.tracking import configure_mlflow, get_alias

    assert first_run.aliases == ["champion"] and first_run.champion_before is None
    assert str(get_alias(model_name, "champion").version) == str(first_run.model_version)
    configure_mlflow()
    client = mlflow.MlflowClient()
    run = client.get_run(first_run.run_id)
    assert run.data.params["dataset_version"] == first_run.dataset_version
    assert {"holdout_wide_deep_auc", "holdout_logistic_wide_auc", "holdout_popularity_auc"} <= set(run.data.metrics)
    assert len(client.get_metric_history(first_run.run_id, "val_loss")) == len(first_run.history) >= 1
    assert len(client.get_metric_history(first_run.run_id, "train_loss")) == len(first_run.history)
    assert run.inputs.dataset_inputs, "the dataset is logged as a run input"
    info = mlflow.models.get_model_info(f"models:/{model_name}@champion")
    assert info.signature is not None and "category_preference_match" in info.signature.inputs.input_names()
    # figures, not only JSON; the best epoch's validation figures; descriptions a reviewer reads
    plots = {a.path for a in client.list_artifacts(first_run.run_id, "plots")}
    assert plots == {"plots/roc.png", "plots/pr.png", "plots/calibration.png"}
    best = next(h for h in first_run.history if h["epoch"] == run.data.metrics["best_epoch"])
    assert run.data.metrics["best_val_loss"] == pytest.approx(best["val_loss"])
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # not the GenAI view
    assert experiment.tags["mlflow.note.content"] and run.data.tags["mlflow.note.content"]
    assert client.get_model_version(model_name, str(first_run.model_version)).description


def test_training_is_logged_in_model_training_logs(first_run, migrated_engine, model_name):
    with migrated_engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM model_training_logs WHERE mlflow_run_id = :r"),
                           {"r": first_run.run_id}).mappings().one()
    assert row["model_type"] == "wide_deep" and row["deployment_status"] == "deployed"
    assert row["final_model_path"] == f"models:/{model_name}/{first_run.model_version}"
    assert row["hyperparameters"]["n_impressions"] == 300
    assert row["evaluation_metrics"]["holdout"]["wide_deep"]["auc"] > 0.5
    assert row["training_loss"] is not None and row["best_validation_loss"] is not None
    assert row["training_samples_count"] > 0 and row["training_end_time"] is not None


def test_a_worse_model_does_not_replace_the_champion(first_run, settings, migrated_engine, tiny, model_name):
    from models.ranking.train import TrainConfig, train_ranker
    from models.tracking import get_alias

    # same seed → same holdout; a model that barely trained cannot win on it
    cfg = TrainConfig(n_impressions=300, list_size=12, max_epochs=1, learning_rate=1e-7)
    report = train_ranker(settings, cfg, tables=tiny.tables, truth=tiny.truth, engine=migrated_engine,
                          registered_name=model_name)
    assert report.champion_before["version"] == first_run.model_version
    assert report.holdout["wide_deep"]["auc"] <= report.champion_before["auc"]
    assert report.aliases == ["challenger"]
    assert str(get_alias(model_name, "champion").version) == str(first_run.model_version)
    assert str(get_alias(model_name, "challenger").version) == str(report.model_version)
    with migrated_engine.connect() as conn:
        status = conn.execute(text("SELECT deployment_status FROM model_training_logs WHERE mlflow_run_id = :r"),
                              {"r": report.run_id}).scalar_one()
    assert status == "completed"


def test_serving_loads_the_champion_and_records_explained_recommendations(first_run, tiny, migrated_engine, model_name,
                                                                          tmp_path):
    from models.ranking.raw_features import build_snapshots
    from infra.event_log import EventLog, new_event_id
    from models.ranking.scorer import load_scorer, rank_candidates

    scorer = load_scorer("champion", name=model_name)
    assert scorer.meta["dataset_version"] == first_run.dataset_version
    assert scorer.meta["feature_importance"]
    snaps = build_snapshots(tiny.tables)
    user = snaps.user.sort_values("event_timestamp").groupby("user_id").tail(1).iloc[0].to_dict()
    shops = snaps.shop.sort_values("event_timestamp").groupby("shop_id").tail(1).head(15).reset_index(drop=True)
    shops["visit_count"] = 0.0
    with migrated_engine.begin() as conn:  # recommendation_features.shop_id references shops
        for sid in shops["shop_id"]:
            conn.execute(text("INSERT INTO shops (id, shop_name, category) VALUES (:i, :n, '분식') ON CONFLICT DO NOTHING"),
                         {"i": int(sid), "n": f"가게{sid}"})
    ranked = rank_candidates(scorer, user, shops, {"minute_of_day": 12 * 60, "strategy": "urgent"}, top_k=5)
    event, at = new_event_id(), datetime.now(timezone.utc)
    log = EventLog(migrated_engine, tmp_path / "spool", flush_interval_s=0.05)  # the table's one writer
    rows = [("recommendation_features", r.recommendation_features_row(user["user_id"], at, event)) for r in ranked]
    log.emit_many(rows)
    log.emit_many(rows)  # replay: no duplicates
    assert log.flush(10)
    log.close()
    with migrated_engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM recommendation_features WHERE recommendation_event_id = :e "
                                 "ORDER BY ranking_position"), {"e": str(event)}).mappings().all()
    assert [r["ranking_position"] for r in rows] == [1, 2, 3, 4, 5]
    for r in rows:
        total = sum(r["feature_contributions"].values())
        assert abs(total - float(r["predicted_score"])) < 2e-3
        assert 0 <= float(r["distance_penalty"]) <= 1
    scores = scorer.score(user, shops, None)
    assert scores.shape == (15,) and np.isfinite(scores).all()
