"""The live-table quarantine as an asset check (severity WARN) on ``staging/live_quarantine``.

The 5-minute batch sets a bad live row aside instead of failing on it
(``dbt_project/macros/live_quality.sql``); nothing stops, so this check is how an operator learns
that rows are being left out: how many, from which tables and why. It warns, never fails: the
batch did its job, the rows need a person.
"""

from __future__ import annotations

import dagster as dg
from sqlalchemy import Connection, text

from infra.dbt import LIVE_QUARANTINE
from orchestration.resources import PostgresResource

LIVE_QUARANTINE_KEY = dg.AssetKey(["staging", "live_quarantine"])


def quarantine_summary(conn: Connection) -> dict[str, object]:
    """Rows in the live quarantine, per source table and per reason (a row may give several)."""
    by_table = dict(conn.execute(text(
        f"SELECT source_table, count(*) FROM {LIVE_QUARANTINE} GROUP BY 1 ORDER BY 1")).all())
    by_reason = dict(conn.execute(text(
        f"SELECT reason, count(*) FROM {LIVE_QUARANTINE}, jsonb_array_elements_text(reasons) AS reason "
        "GROUP BY 1 ORDER BY 2 DESC, 1")).all())
    return {"rows": sum(by_table.values()), "by_table": by_table, "by_reason": by_reason}


@dg.asset_check(asset=LIVE_QUARANTINE_KEY, name="live_rows_quarantined", blocking=False,
                description="Warns while live-table rows are quarantined (left out of the warehouse); "
                            "`naviyam data quarantine --source live` lists them.")
def live_rows_quarantined(postgres: PostgresResource) -> dg.AssetCheckResult:
    with postgres.engine().connect() as conn:
        summary = quarantine_summary(conn)
    return dg.AssetCheckResult(
        passed=summary["rows"] == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows": summary["rows"], "by_table": summary["by_table"], "by_reason": summary["by_reason"]},
    )


quarantine_checks = [live_rows_quarantined]
