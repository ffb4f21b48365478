"""Reading features back: training's point-in-time join (``historical_features``, in PostgreSQL)
and serving's online read (``online_features``, two batched Redis reads)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from feature_repo.definitions import SERVED_NUMBERS, feature_refs, served_ranking_features
from infra.feature_contract import GROUPS, STORED_FEATURES

ALL_VIEWS: tuple[str, ...] = tuple(g.name for g in GROUPS)
SERVED_COLUMNS: tuple[str, ...] = (*STORED_FEATURES, *SERVED_NUMBERS)


def historical_features(store: Any, events: pd.DataFrame, views: Iterable[str] = ALL_VIEWS) -> pd.DataFrame:
    """Point-in-time join of labelled events (``user_id``, ``shop_id``, ``event_timestamp`` + any
    other columns) with every feature view, in the events' row order, ``<view>__<feature>`` names."""
    return _point_in_time(store, events, [r for v in views for r in feature_refs(v)], full_feature_names=True)


def served_features(store: Any, events: pd.DataFrame) -> pd.DataFrame:
    """The stored ranking features each logged impression (``user_id``, ``shop_id``,
    ``event_timestamp`` = the list's time) was scored with, from the served-feature log
    (``served_ranking_features``), in the events' row order; NaN where nothing was logged (a list
    the ranker did not score). The view is registered first if this registry predates it."""
    from feast.errors import FeatureViewNotFoundException

    try:
        store.get_feature_view(served_ranking_features.name)
    except FeatureViewNotFoundException:
        from feature_repo.materialize import apply_feature_store

        apply_feature_store(store=store)
    keys = events[["user_id", "shop_id", "event_timestamp"]]
    out = _point_in_time(store, keys, [f"{served_ranking_features.name}:{c}" for c in SERVED_COLUMNS],
                         full_feature_names=False)
    return out[list(SERVED_COLUMNS)].apply(pd.to_numeric, errors="coerce")


def _point_in_time(store: Any, events: pd.DataFrame, refs: list[str], *, full_feature_names: bool) -> pd.DataFrame:
    entity = events.copy()
    entity["_row"] = np.arange(len(entity))
    entity["event_timestamp"] = pd.to_datetime(entity["event_timestamp"], utc=True)
    for col in entity.columns:  # Feast's entity upload knows no tinyint/smallint
        if pd.api.types.is_integer_dtype(entity[col]) or pd.api.types.is_bool_dtype(entity[col]):
            entity[col] = entity[col].astype("int64")
    out = store.get_historical_features(entity_df=entity, features=refs, full_feature_names=full_feature_names).to_df()
    out = out.sort_values("_row").drop(columns="_row").reset_index(drop=True)
    out["event_timestamp"] = pd.to_datetime(out["event_timestamp"], utc=True)
    return out


def online_features(store: Any, user_id: int, shop_ids: Sequence[int]) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the user's feature row, one row per candidate shop) from the online store, two batched reads.

    The result is what ``models.ranking.scorer.Scorer.score`` takes. A user or shop the store does
    not know comes back with empty values (the cold-start path of the scorer).
    """
    shop_ids = [int(s) for s in shop_ids]
    user = store.get_online_features(features=feature_refs("user_features"), entity_rows=[{"user_id": int(user_id)}]).to_dict()
    user_row = {k: v[0] for k, v in user.items()}
    rows = {"shop_id": shop_ids, "user_id": [int(user_id)] * len(shop_ids)}
    cand = store.get_online_features(features=feature_refs("shop_features") + feature_refs("user_shop_features"),
                                     entity_rows=rows).to_df()
    cand["visit_count"] = pd.to_numeric(cand["visit_count"], errors="coerce").fillna(0.0)
    return user_row, cand
