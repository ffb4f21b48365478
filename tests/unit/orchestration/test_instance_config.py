"""The Dagster instance config the project ships: one warehouse-rebuilding run at a time."""

import shutil

from orchestration.maintenance.assets import WAREHOUSE_TAG, batch_5min_job, daily_refresh_job
from orchestration.materialize import INSTANCE_CONFIG


def test_instance_config_limits_warehouse_runs_to_one(tmp_path, monkeypatch):
    from dagster import DagsterInstance

    shutil.copyfile(INSTANCE_CONFIG, tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with DagsterInstance.get() as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    [(key, value)] = WAREHOUSE_TAG.items()
    assert {"key": key, "limit": 1} in limits
    # both jobs that rebuild the dbt tables carry the tag the limit counts
    assert batch_5min_job.tags[key] == value and daily_refresh_job.tags[key] == value
