"""Resources built from ``infra.settings``: PostgreSQL (for SQL assets) and dbt.

dbt reads its connection from environment variables (``dbt_project/profiles.yml``);
``PostgresResource.export_dbt_env`` sets them from the settings right before dbt runs, so the
embedded PostgreSQL fallback (a Unix-socket directory as host) reaches dbt exactly as it
reaches SQLAlchemy.
"""

from __future__ import annotations

import os

import dagster as dg
from sqlalchemy import Engine

from infra.dbt import dbt_env
from infra.settings import Settings, get_settings


class PostgresResource(dg.ConfigurableResource):
    """The project database. ``database`` overrides the configured name (tests, benchmarks)."""

    database: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # A run started from the Dagster UI is a fresh process: it must find (or start) the same
        # embedded PostgreSQL / Valkey that `make demo` fell back to on a machine without servers.
        from infra.services import ensure_services

        ensure_services()

    @property
    def settings(self) -> Settings:
        return get_settings()

    @property
    def database_name(self) -> str:
        return self.database or self.settings.pg_database

    def engine(self) -> Engine:
        from infra.db import get_engine

        return get_engine(self.settings.sqlalchemy_url(self.database_name))

    def export_dbt_env(self) -> dict[str, str]:
        env = dbt_env(self.settings, self.database_name)
        os.environ.update(env)
        return env
