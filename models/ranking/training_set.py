"""Labelled events + point-in-time features → the Wide & Deep model frame.

A training set row is one candidate of one impression (a list shown to a user at time t) with
the features as they were known at t. The join is the Feast ``get_historical_features`` over
the feature views (``feature_repo.reads.historical_features``); ``point_in_time_join`` here is
the same join done in memory on ``FeatureSnapshots`` (used by unit tests and the benchmark, and
checked against Feast in tests/integration). Both produce columns named
``<view>__<feature>``, Feast's ``full_feature_names`` form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from infra import feature_contract as contract
from models.ranking import features as F
from models.ranking.similarity import CoOrderIndex, ContentIndex, pad_history
from models.ranking.model import WideDeepConfig
from models.ranking.raw_features import FeatureSnapshots

USER_VIEW, SHOP_VIEW, USER_SHOP_VIEW = contract.USER.name, contract.SHOP.name, contract.USER_SHOP.name
VIEW_FEATURES: dict[str, tuple[str, ...]] = {g.name: g.names for g in contract.GROUPS}
VIEW_KEYS: dict[str, tuple[str, ...]] = {g.name: g.join_keys for g in contract.GROUPS}
VOCAB_COLUMNS: tuple[str, ...] = ("user_id", "shop_id")


def naviyam_config(**overrides: Any) -> WideDeepConfig:
    """The Naviyam Wide & Deep columns (features module) with default hyperparameters."""
    base = WideDeepConfig(
        wide_dense=F.WIDE_DENSE,
        wide_cross=dict(F.WIDE_CROSSES),
        deep_categorical={"user_id": 1, "shop_id": 1, **F.DEEP_CATEGORICAL_BASE},  # ids sized by the encoder
        deep_dense=F.DEEP_DENSE,
        embedding_dim=16, hidden=(64, 32), dropout=0.1, learning_rate=3e-3, weight_decay=1e-5,
    )
    return WideDeepConfig.from_dict({**base.to_dict(), **overrides})


def point_in_time_join(events: pd.DataFrame, snaps: FeatureSnapshots) -> pd.DataFrame:
    """For each event row, the latest feature row of each view at or before its timestamp."""
    out = events.copy()
    out["_row"] = np.arange(len(out))
    out["event_timestamp"] = pd.to_datetime(out["event_timestamp"], utc=True).astype("datetime64[ns, UTC]")
    for view, frame in ((USER_VIEW, snaps.user), (SHOP_VIEW, snaps.shop), (USER_SHOP_VIEW, snaps.user_shop)):
        keys = list(VIEW_KEYS[view])
        cols = [c for c in VIEW_FEATURES[view] if c in frame.columns]
        right = frame[keys + ["event_timestamp"] + cols].rename(columns={c: f"{view}__{c}" for c in cols})
        right = right.rename(columns={"event_timestamp": "_feature_ts"}).sort_values("_feature_ts")
        right["_feature_ts"] = pd.to_datetime(right["_feature_ts"], utc=True).astype("datetime64[ns, UTC]")
        left = out.sort_values("event_timestamp")
        if len(keys) == 1:
            merged = pd.merge_asof(left, right, left_on="event_timestamp", right_on="_feature_ts", by=keys[0],
                                   direction="backward", allow_exact_matches=True)
        else:
            left = left.assign(_key=left[keys[0]].astype(str) + ":" + left[keys[1]].astype(str))
            right = right.assign(_key=right[keys[0]].astype(str) + ":" + right[keys[1]].astype(str)).drop(columns=keys)
            merged = pd.merge_asof(left, right, left_on="event_timestamp", right_on="_feature_ts", by="_key",
                                   direction="backward", allow_exact_matches=True).drop(columns="_key")
        out = merged.drop(columns="_feature_ts").sort_values("_row")
    return out.drop(columns="_row").reset_index(drop=True)


def _col(frame: pd.DataFrame | Mapping[str, Any], name: str, default: Any = np.nan) -> np.ndarray:
    if name in frame:
        return np.asarray(frame[name])
    return np.full(len(frame), default)


def feature_columns(joined: pd.DataFrame | Mapping[str, Any], co_index: CoOrderIndex | None = None,
                    strategy: np.ndarray | str | None = None,
                    content_index: ContentIndex | None = None) -> dict[str, np.ndarray]:
    """Joined rows (``<view>__<feature>`` columns + context) → every model column."""
    n = len(joined)
    u = {c: _col(joined, f"{USER_VIEW}__{c}") for c in F.USER_FEATURES}
    u["segment_idx"] = pd.Series(u["segment"]).map({s: i for i, s in enumerate(F.SEGMENTS)}).fillna(0).to_numpy(np.int64)
    s = {c: _col(joined, f"{SHOP_VIEW}__{c}") for c in VIEW_FEATURES[SHOP_VIEW]}
    s["category_idx"] = np.nan_to_num(s["category_idx"].astype(float)).astype(np.int64)
    us = {"visit_count": np.nan_to_num(_col(joined, f"{USER_SHOP_VIEW}__visit_count", 0.0).astype(float))}
    shop_ids = np.asarray(joined["shop_id"], dtype=np.int64)
    collab = content = None
    history = pad_history(list(u["recent_shop_ids"])) if co_index is not None or content_index is not None else None
    if co_index is not None:
        collab = co_index.score(history, shop_ids)
    if content_index is not None:
        content = content_index.score(history, shop_ids)
    strategy = _col(joined, "strategy", "normal") if strategy is None else strategy
    urgent = np.asarray(strategy) == "urgent"
    cols = F.interaction_columns(
        user=u, shop=s, user_shop=us,
        ctx_minute=_col(joined, "minute_of_day", 720.0).astype(float),
        ctx_lat=_col(joined, "ctx_lat").astype(float), ctx_lon=_col(joined, "ctx_lon").astype(float),
        ctx_budget=_col(joined, "ctx_budget").astype(float), urgent=urgent, collaborative=collab, content=content,
    )
    cols["user_id"] = np.asarray(joined["user_id"], dtype=np.int64)
    cols["shop_id"] = shop_ids
    assert all(len(v) == n for v in cols.values() if np.ndim(v))
    return cols


def model_frame(joined: pd.DataFrame, co_index: CoOrderIndex | None = None, label: str = "clicked",
                content_index: ContentIndex | None = None) -> pd.DataFrame:
    """The DataFrame the DataModule consumes: model columns + label + impression group + truth."""
    cols = feature_columns(joined, co_index, content_index=content_index)
    frame = pd.DataFrame(cols)
    for keep in ("impression_id", "event_timestamp", "clicked", "ordered", "true_prob", "position"):
        if keep in joined:
            frame[keep] = joined[keep].to_numpy()
    frame["label"] = joined[label].to_numpy().astype(np.float32)
    return frame


def time_split(frame: pd.DataFrame, val_share: float = 0.1, test_share: float = 0.2,
               time_col: str = "event_timestamp", group_col: str = "impression_id") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Split by time (whole impressions): the oldest for training, then validation, newest for test."""
    times = frame.groupby(group_col)[time_col].first().sort_values()
    n = len(times)
    t_val = times.iloc[int(n * (1 - val_share - test_share))]
    t_test = times.iloc[int(n * (1 - test_share))]
    ts = frame[group_col].map(times)
    train, val, test = frame[ts < t_val], frame[(ts >= t_val) & (ts < t_test)], frame[ts >= t_test]
    bounds = {"train_until": str(t_val), "test_from": str(t_test)}
    return train.reset_index(drop=True), val.reset_index(drop=True), test.reset_index(drop=True), bounds
