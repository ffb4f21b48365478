"""The data-retention policy of spec §13 and the functions that apply it.

Partitioned log tables lose whole monthly partitions (``infra.partitions``) once every row in
them is past the cutoff, then the rows past the cutoff in the straddling month (and the DEFAULT
partition) are deleted, so exactly the old rows go. Other tables delete by age. Permanent
tables are listed for completeness and never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from infra.partitions import PARTITIONED_TABLES, drop_partitions_before


@dataclass(frozen=True)
class RetentionRule:
    table: str
    days: int | None  # None: kept forever
    column: str = "timestamp"  # the age column

    @property
    def permanent(self) -> bool:
        return self.days is None

    @property
    def partitioned(self) -> bool:
        return self.table in PARTITIONED_TABLES

    def cutoff(self, now: datetime) -> datetime | None:
        return None if self.days is None else now - timedelta(days=self.days)


RETENTION_POLICY: tuple[RetentionRule, ...] = (
    # permanent
    RetentionRule("users", None),
    RetentionRule("product_orders", None),
    RetentionRule("user_profiles", None),
    # one year
    RetentionRule("conversations", 365),
    RetentionRule("recommendations_log", 365),
    RetentionRule("user_interactions", 365),
    # three months
    RetentionRule("performance_logs", 90),
    RetentionRule("nlu_training_data", 90, "created_at"),
    # one month
    RetentionRule("rag_query_cache", 30, "created_at"),
    # by last use: shop/menu embeddings every index build touches are what keep it incremental
    RetentionRule("embedding_cache", 30, "last_accessed"),
    # seven days
    RetentionRule("conversation_contexts", 7),
)


@dataclass
class RetentionResult:
    table: str
    cutoff: datetime
    dropped_partitions: list[str]
    deleted_rows: int


def apply_retention(
    engine: Engine, now: datetime, say: Callable[[str], None] = lambda _: None
) -> list[RetentionResult]:
    """Apply RETENTION_POLICY as of ``now`` (timezone-aware); returns what was removed per table."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    results = []
    for rule in RETENTION_POLICY:
        cutoff = rule.cutoff(now)
        if cutoff is None:
            continue
        dropped: list[str] = []
        if rule.partitioned:
            # partition bounds are local midnights; months ending on or before the cutoff's
            # local date hold only rows older than the cutoff
            dropped = drop_partitions_before(engine, rule.table, cutoff.date())
        with engine.begin() as conn:
            deleted = conn.execute(
                text(f'DELETE FROM {rule.table} WHERE "{rule.column}" < :cutoff'), {"cutoff": cutoff}
            ).rowcount
        results.append(RetentionResult(rule.table, cutoff, dropped, deleted))
        if dropped or deleted:
            say(f"retention {rule.table}: dropped {len(dropped)} partitions, deleted {deleted} rows older than {cutoff:%Y-%m-%d %H:%M}")
    return results
