"""Monthly range partitions of the big log tables: created ahead, dropped whole by retention.

Each partitioned table has a DEFAULT partition so that no write ever fails for want of a month.
Creating a month whose rows already sit in the default partition moves them first, because
PostgreSQL refuses to attach a partition whose range the default partition already holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine, text

PARTITIONED_TABLES = ("conversations", "user_interactions", "recommendations_log", "performance_logs")
_MONTH_SUFFIX = re.compile(r"_p(\d{4})(\d{2})$")


@dataclass(frozen=True)
class MonthPartition:
    table: str
    month: date  # the first day of the month

    @property
    def name(self) -> str:
        return f"{self.table}_p{self.month:%Y%m}"

    @property
    def upper(self) -> date:
        return add_months(self.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def month_start(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def existing_partitions(conn: Connection, table: str) -> list[MonthPartition]:
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"
        ),
        {"table": table},
    ).scalars()
    found = []
    for name in rows:
        match = _MONTH_SUFFIX.search(name)
        if match:
            found.append(MonthPartition(table, date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda p: p.month)


def _tz_bound(day: date) -> str:
    # bounds are local (Asia/Seoul) midnights: the session time zone is set by infra.db
    return f"'{day.isoformat()} 00:00:00'"


def create_partition(conn: Connection, part: MonthPartition) -> bool:
    """Create one month; returns False when it already exists."""
    if part in existing_partitions(conn, part.table):
        return False
    lower, upper = _tz_bound(part.month), _tz_bound(part.upper)
    default = f"{part.table}_default"
    conn.execute(text(f"CREATE TABLE {part.name} (LIKE {part.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(
        text(
            f'WITH moved AS (DELETE FROM {default} WHERE "timestamp" >= {lower} AND "timestamp" < {upper} '
            f"RETURNING *) INSERT INTO {part.name} SELECT * FROM moved"
        )
    )
    conn.execute(text(f"ALTER TABLE {part.table} ATTACH PARTITION {part.name} FOR VALUES FROM ({lower}) TO ({upper})"))
    return True


def ensure_partitions(engine: Engine, today: date, months_back: int = 13, months_ahead: int = 3) -> list[str]:
    """Make sure every partitioned table has the months around ``today``; returns what was created."""
    created: list[str] = []
    first = add_months(month_start(today), -months_back)
    with engine.begin() as conn:
        for table in PARTITIONED_TABLES:
            for offset in range(months_back + months_ahead + 1):
                part = MonthPartition(table, add_months(first, offset))
                if create_partition(conn, part):
                    created.append(part.name)
    return created


def drop_partitions_before(engine: Engine, table: str, cutoff: date) -> list[str]:
    """Drop the months of ``table`` that end on or before ``cutoff`` (whole months only)."""
    dropped: list[str] = []
    with engine.begin() as conn:
        for part in existing_partitions(conn, table):
            if part.upper <= cutoff:
                conn.execute(text(f"DROP TABLE {part.name}"))
                dropped.append(part.name)
    return dropped
