"""Ranking variants for the A/B test: the Wide&Deep ``champion`` / ``challenger`` from the MLflow
registry (``models.ranking.load_scorer(alias)``), and the explainable linear stand-in used only when
no trained model can be loaded (a fresh checkout before ``naviyam demo`` trained one).

Whatever serves, the pipeline sees the same ``ScorerPort``: scores plus per-feature contributions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from infra.vocabulary import CHAMPION, MODEL_ALIASES
from serving.ports import ScoreResult

log = logging.getLogger(__name__)

#: the stand-in's weights (logit space) over the spec's features: budget fit and preference up,
#: distance down; used only when no registered model loads, and logged as such.
FALLBACK_WEIGHTS: dict[str, float] = {
    "budget_compatibility": 1.6, "distance_penalty": -1.2, "category_preference_match": 1.3,
    "popularity_score": 0.8, "content_score": 1.0, "visited_before": 0.4, "shop_rating_normalized": 0.5,
    "contextual_score": 0.5, "meal_card_usable": 0.6, "good_influence": 0.2, "collaborative_score": 0.4,
}
FALLBACK_BIAS = -2.0


class LinearFallbackScorer:
    """A transparent wide-only scorer: logit = bias + Σ wᵢ·fᵢ, contributions wᵢ·fᵢ."""

    applies_strategy = False  # the pipeline applies the urgent reweighting to its contributions

    def __init__(self, name: str = "linear-fallback") -> None:
        self.name = name
        self.version = "fallback"

    def score(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]],
              context: Mapping[str, Any]) -> ScoreResult:
        scores, contributions = [], []
        for f in candidate_features:
            contrib = {k: round(w * float(f.get(k, 0.0) or 0.0), 4) for k, w in FALLBACK_WEIGHTS.items()}
            logit = FALLBACK_BIAS + sum(contrib.values())
            scores.append(1.0 / (1.0 + math.exp(-logit)))
            contributions.append(contrib)
        return ScoreResult(scores=scores, contributions=contributions, model_version=self.version)


class PopularityScorer:
    """Shop popularity alone, the same for every child (``NAVIYAM_SERVING_RANKER=popularity``): the
    non-personalized baseline the closed-loop simulation compares the learned ranker with."""

    applies_strategy = False
    name = "popularity"
    version = "popularity"

    def score(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]],
              context: Mapping[str, Any]) -> ScoreResult:
        scores = [float(f.get("popularity_score") or 0.0) for f in candidate_features]
        return ScoreResult(scores=scores, contributions=[{"popularity_score": s} for s in scores],
                           model_version=self.version)


CANDIDATE_COLUMNS = ("shop_id", "category", "category_idx", "lat", "lon", "median_price", "distinct_customers",
                     "repeat_customer_rate", "popularity_pct")
LIST_COLUMNS = ("slot_share", "customer_taste")
EXPLAIN_TOP = 4  # the answer shows 3; explaining costs a few forward passes per row
EXPLAIN_STEPS = 4  # integrated-gradient steps; completeness is restored by the explainer's rescaling


class RegisteredScorer:
    """A ``models.ranking.scorer.Scorer`` (Wide&Deep from the MLflow registry) behind ``ScorerPort``.

    Mirrors ``models.ranking.recommendation_features.rank_candidates``: the ranker engineers its own
    feature columns (urgent reweighting included, from ``context["strategy"]``), scores every
    candidate in one forward pass, and explains the top ``EXPLAIN_TOP`` (contributions that add up to
    the score, ``_base`` included)."""

    applies_strategy = True

    def __init__(self, inner: Any, alias: str) -> None:
        self.inner = inner
        self.alias = alias
        meta = getattr(inner, "meta", {}) or {}
        self.version = str(meta.get("version") or meta.get("model_version") or meta.get("run_id", "?"))[:20]
        self.name = f"wide_deep:{alias}:{self.version}"

    def _frame(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]]):
        """The candidates as a mapping of numpy columns (what ``Scorer.feature_columns`` reads; no pandas)."""
        import numpy as np

        def col(name: str, dtype=float):
            return np.asarray([np.nan if f.get(name) is None else f.get(name) for f in candidate_features], dtype=dtype)

        frame: dict[str, Any] = {"shop_id": np.asarray([int(f["shop_id"]) for f in candidate_features], dtype=np.int64),
                                 "category": np.asarray([str(f.get("category") or "") for f in candidate_features],
                                                        dtype=object)}
        for name in ("lat", "lon", "median_price", "distinct_customers", "repeat_customer_rate", "popularity_pct"):
            frame[name] = col(name)
        if all(f.get("category_idx") is not None for f in candidate_features):
            frame["category_idx"] = col("category_idx", np.int64)
        for c in LIST_COLUMNS:
            values = [f.get(c) for f in candidate_features]
            if all(v is not None and len(v) for v in values):
                frame[c] = np.asarray([np.asarray(v, dtype=float) for v in values])
        visits = user_features.get("visit_counts") or {}
        frame["visit_count"] = np.asarray([float(visits.get(int(s), 0.0)) for s in frame["shop_id"]])
        return frame

    def score(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]],
              context: Mapping[str, Any]) -> ScoreResult:
        import numpy as np

        from models.ranking import features as F
        from models.ranking.explain import contributions

        user = {k: v for k, v in user_features.items() if k in F.USER_FEATURES}
        uid = user_features.get("user_id")
        user["user_id"] = int(uid) if isinstance(uid, (int, np.integer)) or (isinstance(uid, str) and uid.isdigit()) else -1
        import torch

        cols = self.inner.feature_columns(user, self._frame(user_features, candidate_features), dict(context))
        batch = self.inner.tensors(cols)  # once: the forward pass and the explanation share it
        with torch.inference_mode():
            logit = self.inner.model(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"])
        scores = torch.sigmoid(logit).numpy().astype(np.float64).reshape(-1)
        stored = F.stored_values(cols)
        order = np.argsort(-scores, kind="stable")[:EXPLAIN_TOP]
        contrib: list[dict[str, float]] = [{} for _ in scores]
        if len(order):
            explained = contributions(self.inner.model, {k: v[order] for k, v in batch.items()},
                                      steps=EXPLAIN_STEPS).to_probability().as_dicts()
            for i, d in zip(order, explained):
                contrib[int(i)] = {str(k): float(v) for k, v in d.items()}
        features = [{k: float(v[i]) for k, v in stored.items()} for i in range(len(scores))]
        return ScoreResult(scores=[float(x) for x in scores], contributions=contrib, features=features,
                           model_version=self.version)


def load_variants() -> tuple[dict[str, Any], dict[str, str]]:
    """``{"champion": scorer, "challenger": scorer?}`` and a status line per variant."""
    from infra.settings import get_settings

    if get_settings().serving_ranker == "popularity":
        return {"champion": PopularityScorer()}, {"champion": "popularity (NAVIYAM_SERVING_RANKER=popularity)"}
    status: dict[str, str] = {}
    variants: dict[str, Any] = {}
    load_scorer: Any = None
    try:
        from models.ranking.scorer import load_scorer  # the ranking engineer's MLflow registry loader
    except Exception as exc:  # a broken ranking install: serve the fallback, say why
        status["registry"] = f"models.ranking.scorer.load_scorer unavailable ({type(exc).__name__})"
    for alias in MODEL_ALIASES:
        if load_scorer is None:
            break
        try:
            inner = load_scorer(alias)
        except Exception as exc:
            status[alias] = f"not loaded ({type(exc).__name__}: {str(exc)[:120]})"
            continue
        if inner is None:
            status[alias] = "no model under this alias"
            continue
        variants[alias] = RegisteredScorer(inner, alias)
        status[alias] = variants[alias].name
    if CHAMPION not in variants:
        variants[CHAMPION] = LinearFallbackScorer()
        status[CHAMPION] = status.get(CHAMPION, "") + " → linear fallback"
        log.warning("ranking: no registered champion; serving the linear fallback scorer")
    return variants, status
