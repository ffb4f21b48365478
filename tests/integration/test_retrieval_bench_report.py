"""What the retrieval benchmark leaves behind besides its JSON: the figures by query type beside
the report, and an MLflow run (naviyam-retrieval) holding the report, the headline metrics and the
figures. The scores are a made-up report: the benchmark itself runs for minutes."""

from __future__ import annotations

import mlflow
import pytest

from models.retrieval.bench import Published, publish

pytestmark = pytest.mark.integration


def _quality(scale: float) -> dict:
    return {**{mode: {"recall@10": 0.4 * scale, "mrr@10": 0.7 * scale, "ndcg@10": 0.5 * scale,
                      "mrr@10_by_kind": {"dish": 0.8 * scale, "typo": 0.5 * scale},
                      "recall@10_by_kind": {"dish": 0.5 * scale, "typo": 0.3 * scale}}
                for mode, scale in (("dense", scale), ("sparse", scale * 0.8), ("hybrid", scale * 1.1))},
            "queries": 40, "queries_without_relevant": 0}


def test_the_benchmark_publishes_figures_by_query_type_and_an_mlflow_run(tmp_path):
    report = {"scale": 1.0, "data": "sample seed=1 scale=1", "quality": _quality(0.9), "quality_blind": _quality(0.7)}
    published = publish(report, tmp_path, "x1")
    pngs = published.pngs
    assert [p.name for p in pngs] == ["x1-by-query-type-dev.png", "x1-by-query-type-blind.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("naviyam-retrieval")
    run = client.get_run(published.run_id)
    assert run.data.metrics["dev_hybrid_mrr_at_10"] == pytest.approx(0.7 * 0.9 * 1.1)
    assert run.data.metrics["blind_sparse_recall_at_10"] == pytest.approx(0.4 * 0.7 * 0.8)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "report.json" in artifacts
    assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} == {
        "plots/x1-by-query-type-dev.png", "plots/x1-by-query-type-blind.png"}
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_a_latency_only_benchmark_publishes_nothing(tmp_path):
    assert publish({"scale": 1.0, "latency": {}}, tmp_path, "demo") == Published()
    assert not list(tmp_path.iterdir())


def test_an_unknown_query_set_is_refused_before_anything_runs(capsys):
    from models.retrieval.bench import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--sets", "dev,blnd", "--no-latency"])
    assert exit_info.value.code == 2
    assert "unknown query set(s) blnd" in capsys.readouterr().err
