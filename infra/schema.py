"""Database lifecycle: create the project database, migrate it with Alembic, prepare partitions."""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from sqlalchemy import Engine, inspect

from infra.partitions import ensure_partitions
from infra.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

#: The 20 tables of the spec (naviyam_db_guide_v2.md §4–§8).
SPEC_TABLES = frozenset({
    "shops", "menus", "coupons", "users", "foodcard_users", "product_orders", "user_coupon_wallet",
    "conversations", "conversation_contexts", "user_interactions", "recommendations_log",
    "performance_logs", "rag_query_cache", "embedding_cache", "feature_vectors",
    "recommendation_features", "nlu_training_data", "model_training_logs",
    "user_journey_analytics", "user_profiles",
})


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "infra" / "migrations"))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def create_database(settings: Settings, name: str | None = None) -> bool:
    """Create the database if missing (UTF-8, so Korean text round-trips); True when created."""
    name = name or settings.pg_database
    with psycopg.connect(settings.libpq_dsn("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(
            sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(name))
        )
        log.info("created database %s", name)
        return True


def drop_database(settings: Settings, name: str) -> None:
    with psycopg.connect(settings.libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine.url.render_as_string(hide_password=False)), revision)


def prepare(engine: Engine, settings: Settings | None = None) -> list[str]:
    """Migrate to head and create the monthly partitions around today; returns new partitions."""
    settings = settings or get_settings()
    upgrade(engine)
    return ensure_partitions(engine, datetime.now(settings.tz).date())


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
