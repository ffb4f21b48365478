"""The retrieval_quality asset grades the index the service reads, on the dev and blind query sets,
against the generated sample's hidden truth, and shows the result in the Dagster UI: headline
figures, markdown tables by mode and by query type, the figures inline and the MLflow run. Without
hidden truth (a production catalogue) it materializes nothing and says why."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def own_data_dir(tmp_path, monkeypatch, settings):
    """Settings whose data folder (sample, Qdrant shard) is this test's own."""
    from infra.settings import get_settings, reset_settings_cache

    monkeypatch.setenv("NAVIYAM_DATA_DIR", str(tmp_path))
    reset_settings_cache()
    yield get_settings()
    monkeypatch.undo()
    reset_settings_cache()


def _materialize(database: str):
    import dagster as dg

    from orchestration.resources import PostgresResource
    from orchestration.retrieval.assets import retrieval_quality

    result = dg.materialize([retrieval_quality], resources={"postgres": PostgresResource(database=database)})
    assert result.success
    return result.asset_materializations_for_node("retrieval__retrieval_quality")


def test_the_served_index_is_graded_on_every_query_set(migrated_engine, own_data_dir):
    from infra.sample_data.generator import generate
    from models.retrieval.index import build_index
    from models.retrieval.sample import load_from_files
    from models.retrieval.store import make_store

    generate(seed=7, scale=0.05, out_dir=own_data_dir.sample_dir)
    catalog = load_from_files(own_data_dir.sample_workbook, own_data_dir.hidden_truth_file)
    store = make_store(own_data_dir)
    try:
        build_index(migrated_engine, store=store, shops=catalog.shops, menus=catalog.menus,
                    write_embedding_columns=False)
    finally:
        store.close()

    [materialization] = _materialize(migrated_engine.url.database)
    meta = {k: v.value for k, v in materialization.metadata.items()}
    for query_set in ("dev", "meaning", "blind"):
        for metric in ("mrr_at_10", "recall_at_10", "ndcg_at_10"):
            assert 0.0 <= meta[f"{query_set}_hybrid_{metric}"] <= 1.0
        assert meta[f"{query_set}_hybrid_mrr_at_10"] > 0.2  # a real index finds real dishes
    assert meta["queries"] > 20
    assert "| blind | hybrid |" in meta["modes"] and "| dense |" in meta["modes"]
    assert "query type" in meta["by_query_type"]
    assert meta["plots"].count("data:image/png;base64,") == 3  # by query type: dev, meaning and blind
    assert meta["mlflow_run_id"]
    report = own_data_dir.data_dir / "bench" / "retrieval" / "report-index.json"
    assert report.exists()


def test_without_hidden_truth_nothing_is_materialized(migrated_engine, own_data_dir):
    assert not own_data_dir.hidden_truth_file.exists()
    assert _materialize(migrated_engine.url.database) == []
