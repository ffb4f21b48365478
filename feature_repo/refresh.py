"""The nightly feature-store step, in order (the Dagster asset ``feature_store/online_features``
calls ``refresh_feature_store`` after dbt built the warehouse):

* ``apply_feature_store`` — register entities / views / service (``feast apply``);
* ``materialize_incremental`` — load new rows into the Redis online store;
* ``sync_feature_vectors`` — mirror what the online store now serves into ``feature_vectors``.

Outside the graph (``naviyam rank features``, ``naviyam rank train --features feast``),
``build_feature_history`` runs the dbt build of the history first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from feature_repo.config import settings_or_default, write_feature_store_yaml
from feature_repo.feature_vectors import sync_feature_vectors
from feature_repo.history import HISTORY_MODELS, FeatureHistoryError, history_row_counts
from feature_repo.materialize import apply_feature_store, materialize_incremental
from infra.dbt import run_dbt

log = logging.getLogger(__name__)


def build_feature_history(settings: Any = None, database: str | None = None) -> dict[str, int]:
    """``dbt build`` of the feature-history marts and everything upstream of them, with their
    tests; returns the rows of each view's source. The Dagster graph builds them with the rest
    of the warehouse; this is the same build for the CLI and for tests that start from raw rows."""
    s = settings_or_default(settings)
    selection = [f"+{model}" for model in HISTORY_MODELS]
    # cautious: a test that also reads a model outside the selection (a relationships test of
    # another mart over the same staging view) belongs to the full warehouse build
    result = run_dbt(["build", "--select", *selection, "--indirect-selection", "cautious"], database=database)
    if result.returncode != 0:
        raise FeatureHistoryError(f"dbt build of the feature history failed:\n{result.stdout[-4000:]}")
    counts = history_row_counts(s, database)
    log.info("feature history built %s", counts)
    return counts


def refresh_feature_store(settings: Any = None, end: datetime | None = None, database: str | None = None,
                          scorer: Any = None, build_history: bool = False) -> dict[str, Any]:
    """The whole nightly step after dbt, for one Dagster asset: apply → materialize →
    feature_vectors (with ``scorer``'s embeddings and importance when the caller passes the
    champion; loading it is the caller's decision, this layer knows no model registry).
    ``build_history`` runs the dbt build of the history first, for callers outside the graph."""
    s = settings_or_default(settings)
    end = end or datetime.now(timezone.utc)
    history = build_feature_history(s, database) if build_history else history_row_counts(s, database)
    store = apply_feature_store(s, database=database)
    materialize_incremental(s, end, store=store)
    synced = sync_feature_vectors(s, as_of=end, database=database, scorer=scorer)
    return {"history_rows": history, "feature_vectors": synced, "materialized_until": end.isoformat(),
            "feature_store_yaml": str(write_feature_store_yaml(s))}
