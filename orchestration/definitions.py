"""The one ``Definitions`` of Naviyam: every domain's assets, checks, jobs and schedules.

To add a domain (Feast, Qdrant, training, ...): create a module with a ``defs =
dg.Definitions(...)`` and add its import path to DOMAINS. Resources are injected here, once.
"""

from __future__ import annotations

import importlib

import dagster as dg
from dagster_dbt import DbtCliResource

from infra.dbt import dbt_executable
from orchestration.resources import PostgresResource
from orchestration.warehouse.project import dbt_project

DOMAINS: tuple[str, ...] = (
    "orchestration.ingest.assets",
    "orchestration.warehouse.assets",
    "orchestration.quality.checks",
    "orchestration.operational.assets",
    "orchestration.maintenance.assets",
    "orchestration.feature_store.assets",
    "orchestration.retrieval.assets",
    "orchestration.training.assets",
    "orchestration.training.from_logs",
    "orchestration.experiments.assets",
    "orchestration.simulation.jobs",
)


def build_defs(database: str | None = None, domains: tuple[str, ...] = DOMAINS) -> dg.Definitions:
    """The Definitions, on the configured database or on ``database`` (tests and benchmarks)."""
    resources = dg.Definitions(
        resources={
            "postgres": PostgresResource(database=database),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        }
    )
    return dg.Definitions.merge(*(importlib.import_module(name).defs for name in domains), resources)


defs = build_defs()
