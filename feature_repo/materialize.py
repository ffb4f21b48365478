"""Registering the Feast repo (``feast apply``) and loading the offline rows into the Redis online
store (materialization)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from feature_repo.config import get_feature_store
from feature_repo.definitions import OBJECTS

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


def apply_feature_store(settings: Any = None, store: Any = None, **kwargs: Any) -> Any:
    """``feast apply`` through the SDK: register entities, views and the feature service."""
    store = store or get_feature_store(settings, **kwargs)
    store.apply(list(OBJECTS))
    return store


def materialize_incremental(settings: Any = None, end: datetime | None = None, store: Any = None,
                            **kwargs: Any) -> Any:
    """Load offline rows up to ``end`` into Redis; a never-materialized view is loaded from the start."""
    store = store or get_feature_store(settings, **kwargs)
    end = end or datetime.now(timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    online = [fv for fv in store.list_feature_views() if fv.online]  # the served-feature log stays offline
    fresh = [fv.name for fv in online if fv.most_recent_end_time is None]
    if fresh:
        store.materialize(start_date=EARLIEST, end_date=end, feature_views=fresh)
    done = [fv.name for fv in online if fv.name not in fresh]
    if done:
        store.materialize_incremental(end_date=end, feature_views=done)
    return store
