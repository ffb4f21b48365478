"""dbt models and seeds as assets; dbt tests run inside ``dbt build`` and report as asset checks.

Asset keys say where a thing lives: ``raw/<table>`` for the operational tables in ``public``
(dbt sources), ``staging/...``, ``intermediate/...``, ``reference/...`` (seeds) and
``analytics/<mart>`` for the marts, which are named like the product tables they feed.
"""


import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.resources import PostgresResource
from orchestration.warehouse.project import dbt_project

LAYER_GROUPS = {
    "staging": "warehouse_staging",
    "intermediate": "warehouse_intermediate",
    "core": "marts_core",
    "features": "features",
    "analytics": "analytics",
    "monitoring": "monitoring",
    "experiments": "experiments",  # the A/B mart, decided on by experiments/ab_decision (not in daily_refresh)
}


class NaviyamDbtTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        kind = dbt_resource_props["resource_type"]
        name = dbt_resource_props["name"]
        if kind == "source":
            return dg.AssetKey(["raw", name])
        if kind == "seed":
            return dg.AssetKey(["reference", name])
        fqn = dbt_resource_props.get("fqn", [])
        layer = fqn[1] if len(fqn) > 2 else "marts"
        return dg.AssetKey(["analytics" if layer == "marts" else layer, name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "warehouse_staging"
        fqn = dbt_resource_props.get("fqn", [])
        for part in reversed(fqn[1:-1]):
            if part in LAYER_GROUPS:
                return LAYER_GROUPS[part]
        return "warehouse"


class WarehouseConfig(dg.Config):
    """Run options of the dbt build."""

    as_of: str | None = None  # ISO timestamp the warehouse is computed as of (default: now)
    full_refresh: bool = False  # rebuild incremental models from the whole history


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=NaviyamDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=False)
    ),
    name="warehouse_dbt_assets",
)
def warehouse_dbt_assets(
    context: dg.AssetExecutionContext, config: WarehouseConfig, dbt: DbtCliResource, postgres: PostgresResource
):
    postgres.export_dbt_env()
    # cautious: a job that builds a subset (batch_5min) runs only the tests whose models it builds
    # all of; dbt's default (eager) also ran relationship tests to models outside the subset, which
    # Dagster could only log as observations, with a warning each. Full builds run every test still.
    args = ["build", "--indirect-selection", "cautious"]
    if config.as_of:
        args += ["--vars", json.dumps({"as_of": config.as_of})]
    if config.full_refresh:
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()


defs = dg.Definitions(assets=[warehouse_dbt_assets])
