"""The exploration share: a few recommendation lists shown in a random order drawn from the top
candidates (each marked ``explored`` and logged so), so that new shops get impressions and the
retrain can measure position bias on them (models/ranking/logged.py)."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime

from serving.pricing import Priced


def exploring(share: float, user_id: str, session_id: str, now: datetime) -> bool:
    """Whether this list is an exploration list: a stable hash of who, where and when (so a replayed
    or simulated request explores the same way), under ``share``."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"explore:{user_id}:{session_id}:{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def explore(ranked: list[Priced], k: int, user_id: str, now: datetime) -> list[Priced]:
    """``k`` of the best ``k + 2`` candidates in random order, each marked ``explored`` (and so logged):
    lower-ranked shops get impressions, and views by position measure position bias alone
    (models/ranking/logged.py estimates the propensities from these lists)."""
    pool = ranked[: k + 2]
    rng = random.Random(f"{user_id}:{now.isoformat()}")
    shown = rng.sample(pool, min(k, len(pool)))
    for p in shown:
        p.explored = True
    return shown
