"""The offline side of the feature store: the feature-history relations the views read (the dbt
marts ``analytics.*_features_daily``), their column types from the contract, and writing a given
history into them in place of the dbt build (tests, the in-memory reference)."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from feature_repo.config import settings_or_default
from feature_repo.definitions import SOURCE_TABLES
from infra.feature_contract import FLOAT, FLOATS, GROUP_BY_NAME, INT, INTS, SOURCE_SCHEMA, STR

log = logging.getLogger(__name__)

HISTORY_MODELS: tuple[str, ...] = tuple(SOURCE_TABLES.values())
#: contract value kind → the PostgreSQL type the dbt marts build
PG_TYPES = {FLOAT: "double precision", INT: "bigint", STR: "text", FLOATS: "double precision[]", INTS: "bigint[]"}


class FeatureHistoryError(RuntimeError):
    """dbt could not build or test the feature history."""


def history_row_counts(settings: Any = None, database: str | None = None) -> dict[str, int]:
    import psycopg

    s = settings_or_default(settings)
    with psycopg.connect(s.libpq_dsn(database)) as conn:
        return {view: conn.execute(f"SELECT count(*) FROM {SOURCE_SCHEMA}.{table}").fetchone()[0]
                for view, table in SOURCE_TABLES.items()}


def source_column_types(view: str) -> dict[str, str]:
    """Column → PostgreSQL type (``format_type`` spelling) of a view's source, as the dbt mart
    builds it, from the contract; tests/integration/test_feature_history_parity.py holds the two
    together."""
    group = GROUP_BY_NAME[view]
    return {**{key: "bigint" for key in group.join_keys}, **{f.name: PG_TYPES[f.kind] for f in group.features},
            "event_timestamp": "timestamp with time zone", "created_at": "timestamp with time zone"}


def _cell(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_source_table(conn: Any, view: str, frame: pd.DataFrame) -> int:
    """Replace a view's source relation with ``frame`` (COPY; one transaction with the caller)."""
    table = SOURCE_TABLES[view]
    types = source_column_types(view)
    columns = list(types)
    frame = frame.copy()
    frame["created_at"] = datetime.now(timezone.utc)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SOURCE_SCHEMA}")
    conn.execute(f"DROP TABLE IF EXISTS {SOURCE_SCHEMA}.{table}")
    definition = ", ".join(f'"{c}" {t}' for c, t in types.items())
    conn.execute(f"CREATE TABLE {SOURCE_SCHEMA}.{table} ({definition})")
    quoted = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor().copy(f"COPY {SOURCE_SCHEMA}.{table} ({quoted}) FROM STDIN") as copy:
        for row in frame[columns].itertuples(index=False, name=None):
            copy.write_row([_cell(v) for v in row])
    keys = ", ".join(f'"{k}"' for k in columns if k in ("user_id", "shop_id"))
    conn.execute(f"CREATE INDEX ON {SOURCE_SCHEMA}.{table} ({keys}, event_timestamp)")
    return len(frame)


def load_feature_history(settings: Any, snapshots: Any, database: str | None = None) -> dict[str, int]:
    """Write given ``FeatureSnapshots`` into the relations the views read, in place of the dbt
    build: for tests with a hand-made history, or the in-memory reference's own output
    (``models.ranking.raw_features.build_snapshots``). The next dbt build replaces them."""
    import psycopg

    s = settings_or_default(settings)
    counts = {}
    with psycopg.connect(s.libpq_dsn(database)) as conn:
        for view, frame in (("user_features", snapshots.user), ("shop_features", snapshots.shop),
                            ("user_shop_features", snapshots.user_shop)):
            counts[view] = write_source_table(conn, view, frame)
    log.info("loaded feature history %s", counts)
    return counts
