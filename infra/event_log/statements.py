"""The SQL the event log runs, built once from the table specs, and how a failure is told apart:
the database unreachable (retry later, spool meanwhile) or a record it refuses (set aside)."""

from __future__ import annotations

import sqlalchemy.exc as sa_exc
from sqlalchemy import text

from infra.event_log.tables import TABLES, UPDATES, quote_column


def insert_sql(table: str) -> str:
    spec = TABLES[table]
    cols = ", ".join(quote_column(c) for c in spec.columns)
    values = ", ".join(spec.placeholder(c) for c in spec.columns)
    if spec.conflict:
        return f"INSERT INTO {table} ({cols}) VALUES ({values}) ON CONFLICT {spec.conflict} DO NOTHING"
    key = " AND ".join(
        f"{quote_column(k)} = {spec.placeholder(k)}" if k in spec.ts else f"{quote_column(k)} IS NOT DISTINCT FROM {spec.placeholder(k)}"
        for k in spec.not_exists_key
    )
    return f"INSERT INTO {table} ({cols}) SELECT {values} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {key})"


#: one prepared statement per record kind
STATEMENTS = {t: text(insert_sql(t)) for t in TABLES} | {t: text(sql) for t, (_, sql) in UPDATES.items()}
#: a fixed order: parents before children, updates after the rows they change; no deadlocks between writers
WRITE_ORDER: tuple[str, ...] = (*TABLES, *UPDATES)


def is_connection_error(exc: BaseException) -> bool:
    """True when the database could not be reached (retry later); False for a bad record."""
    if isinstance(exc, (sa_exc.IntegrityError, sa_exc.DataError, sa_exc.ProgrammingError)):
        return False
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        import psycopg

        return isinstance(exc.orig, (psycopg.OperationalError, psycopg.InterfaceError))
    return isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError, sa_exc.InterfaceError,
                            ConnectionError, OSError))
