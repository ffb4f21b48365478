"""The query tower's input: what the child said, in its context, as one Korean sentence.

e5 reads words, so the context is written in words rather than fed as numbers: the time of day,
the money, and the two food categories the child orders most (their ``category_share`` at the
time, point-in-time in training, the online store's row when serving).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from infra.vocabulary import CATEGORIES

TEXT_VERSION = "q1"  # bump when the sentence changes: a bundle trained on another format is refused
LIKED_MIN_SHARE = 0.15
LIKED_TOP = 2


def time_words(minute_of_day: float | None) -> str:
    if minute_of_day is None or not math.isfinite(float(minute_of_day)):
        return ""
    m = float(minute_of_day)
    if 300 <= m < 630:
        return "아침"
    if 630 <= m < 840:
        return "점심"
    if 840 <= m < 1020:
        return "오후 간식"
    if 1020 <= m < 1260:
        return "저녁"
    return "밤"


def liked_categories(category_share: Sequence[float] | None) -> list[str]:
    """The child's most ordered categories (share ≥ 15 %, at most two), most ordered first."""
    if not isinstance(category_share, (list, tuple, np.ndarray)) or len(category_share) != len(CATEGORIES):
        return []  # unknown (None, or NaN from a point-in-time join that found no row)
    ranked = sorted(range(len(CATEGORIES)), key=lambda i: -float(category_share[i] or 0.0))
    return [CATEGORIES[i] for i in ranked[:LIKED_TOP] if float(category_share[i] or 0.0) >= LIKED_MIN_SHARE]


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def query_text(text: str | None, *, minute_of_day: Any = None, budget: Any = None,
               category_share: Sequence[float] | None = None) -> str:
    """``"떡볶이 먹고 싶어 · 오후 간식 · 예산 5,000원 · 자주 먹는 음식 분식, 치킨"``."""
    parts = [(text.strip() if isinstance(text, str) else "") or "추천해 줘"]  # a missing log row's text is NaN
    when = time_words(_number(minute_of_day))
    if when:
        parts.append(when)
    money = _number(budget)
    if money is not None and money > 0:
        parts.append(f"예산 {int(round(money)):,}원")
    liked = liked_categories(category_share)
    if liked:
        parts.append("자주 먹는 음식 " + ", ".join(liked))
    return " · ".join(parts)
