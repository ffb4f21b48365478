"""Rank candidates and record why: the spec's ``recommendation_features`` rows (§7).

``rank_candidates`` is the one call the chat service needs after retrieval: it scores the
candidates with a ``Scorer``, orders them, explains the top ones (feature contributions that add
up to the score) and returns rows shaped like the table; ``write_recommendation_features``
stores them with the recommendation's event id (the same id as its ``recommendations_log`` row).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from models.ranking import features as F
from models.ranking.explain import contributions
from models.ranking.scorer import Scorer


@dataclass(frozen=True)
class RankedCandidate:
    shop_id: int
    score: float
    ranking_position: int
    features: dict[str, float]  # the stored spec columns (clipped to [0, 1])
    feature_contributions: dict[str, float] | None  # "_base" + Σ values == score


def rank_candidates(scorer: Scorer, user_features: Mapping[str, Any], candidates_features: pd.DataFrame | Mapping[str, Any],
                    context: F.Context | Mapping[str, Any] | None = None, top_k: int | None = 10,
                    explain: bool = True) -> list[RankedCandidate]:
    """Score every candidate, sort, and explain the first ``top_k`` (all when None)."""
    cols = scorer.feature_columns(user_features, candidates_features, context)
    batch = scorer.tensors(cols)
    scores = scorer.score_frame(cols)
    order = np.argsort(-scores, kind="stable")
    keep = order if top_k is None else order[:top_k]
    contrib = None
    if explain and len(keep):
        sub = {k: v[keep] for k, v in batch.items()}
        contrib = contributions(scorer.model, sub).to_probability().as_dicts()
    stored = F.stored_values(cols)
    out = []
    for rank, i in enumerate(keep):
        out.append(RankedCandidate(
            shop_id=int(cols["shop_id"][i]), score=float(scores[i]), ranking_position=rank + 1,
            features={k: float(v[i]) for k, v in stored.items()},
            feature_contributions=None if contrib is None else contrib[rank],
        ))
    return out


def write_recommendation_features(engine: Any, user_id: str | int, ranked: Sequence[RankedCandidate],
                                  event_id: uuid.UUID | str | None = None, at: datetime | None = None) -> uuid.UUID:
    """Insert one row per ranked candidate; idempotent per (event id, shop)."""
    from sqlalchemy import text

    event = uuid.UUID(str(event_id)) if event_id is not None else uuid.uuid4()
    at = at or datetime.now(timezone.utc)
    cols = list(F.STORED_FEATURES)
    names = ["user_id", "shop_id", "timestamp", *cols, "predicted_score", "ranking_position",
             "feature_contributions", "recommendation_event_id"]
    params = []
    for r in ranked:
        row = {"user_id": str(user_id), "shop_id": r.shop_id, "timestamp": at,
               **{c: r.features[c] for c in cols}, "predicted_score": round(min(max(r.score, 0.0), 1.0), 3),
               "ranking_position": r.ranking_position,
               "feature_contributions": None if r.feature_contributions is None else json.dumps(r.feature_contributions),
               "recommendation_event_id": str(event)}
        row["visited_before"] = bool(row["visited_before"] > 0)
        params.append(row)
    placeholders = ", ".join("CAST(:feature_contributions AS jsonb)" if n == "feature_contributions" else f":{n}"
                             for n in names)
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = (f"INSERT INTO recommendation_features ({quoted}) VALUES ({placeholders}) "
           "ON CONFLICT (recommendation_event_id, shop_id) DO NOTHING")
    if params:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    return event
