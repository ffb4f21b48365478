"""Ranking variants for the A/B test: the Wide&Deep ``champion`` / ``challenger`` from the MLflow
registry (``models.ranking.load_scorer(alias)``), group B's LoRA two-tower recommender
(``models.ranking.two_tower``, variant ``lora_model``), and the explainable linear stand-in used only
when no trained model can be loaded (a fresh checkout before ``naviyam demo`` trained one).

Whatever serves, the pipeline sees the same ``ScorerPort``: scores plus per-feature contributions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from infra.vocabulary import CHALLENGER, CHAMPION, LORA_VARIANT, MODEL_ALIASES
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


EXPLAIN_TOP = 4  # the answer shows 3; explaining costs a few forward passes per row
EXPLAIN_STEPS = 4  # integrated-gradient steps; completeness is restored by the explainer's rescaling


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


class RegisteredScorer:
    """A ``models.ranking.scorer.Scorer`` (Wide&Deep from the MLflow registry) behind ``ScorerPort``.

    It ranks through ``Scorer.rank``, the same call as ``models.ranking.scorer.rank_candidates``:
    the ranker engineers its own feature columns (``interaction_columns``, urgent reweighting
    included, from ``context["strategy"]``), scores every candidate in one forward pass, and
    explains the top ``EXPLAIN_TOP`` (contributions that add up to the score, ``_base`` included)."""

    applies_strategy = True

    def __init__(self, inner: Any, alias: str) -> None:
        self.inner = inner
        self.alias = alias
        meta = getattr(inner, "meta", {}) or {}
        self.version = str(meta.get("version") or meta.get("model_version") or meta.get("run_id", "?"))[:20]
        self.name = f"wide_deep:{alias}:{self.version}"

    @staticmethod
    def _frame(user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]]):
        """The candidates as a mapping of numpy columns, one per contract candidate column the
        serving side knows (what ``Scorer.feature_columns`` reads; no pandas)."""
        import numpy as np

        from infra.feature_contract import INT, LIST_KINDS, SHOP, STR

        frame: dict[str, Any] = {"shop_id": np.asarray([int(f["shop_id"]) for f in candidate_features], dtype=np.int64)}
        for feature in SHOP.features:
            values = [f.get(feature.name) for f in candidate_features]
            if feature.kind == STR:
                frame[feature.name] = np.asarray([str(v or "") for v in values], dtype=object)
            elif feature.kind in LIST_KINDS:  # a list column only when every candidate has one
                if all(v is not None and len(v) for v in values):
                    frame[feature.name] = np.asarray([np.asarray(v, dtype=float) for v in values])
            elif feature.kind == INT:  # an index: only when every candidate has it (else from the category)
                if all(v is not None for v in values):
                    frame[feature.name] = np.asarray(values, dtype=np.int64)
            else:
                frame[feature.name] = np.asarray([_number(v) for v in values], dtype=float)
        visits = user_features.get("visit_counts") or {}
        frame["visit_count"] = np.asarray([float(visits.get(int(s), 0.0)) for s in frame["shop_id"]])
        return frame

    def score(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]],
              context: Mapping[str, Any]) -> ScoreResult:
        import numpy as np

        from infra.feature_contract import USER_FEATURES

        user = {k: v for k, v in user_features.items() if k in USER_FEATURES}
        uid = user_features.get("user_id")
        user["user_id"] = int(uid) if isinstance(uid, (int, np.integer)) or (isinstance(uid, str) and uid.isdigit()) else -1
        ranking = self.inner.rank(user, self._frame(user_features, candidate_features), dict(context),
                                  explain_top=EXPLAIN_TOP, explain_steps=EXPLAIN_STEPS)
        n = len(ranking.scores)
        return ScoreResult(scores=[float(x) for x in ranking.scores],
                           contributions=[ranking.contributions.get(i, {}) for i in range(n)],
                           features=[ranking.features(i) for i in range(n)], model_version=self.version)


class LoraTwoTowerScorer:
    """Group B: ``models.ranking.two_tower.TwoTowerRecommender`` behind ``ScorerPort``. It embeds
    what the child said once (``two_tower.texts.query_text``), compares it with the candidates' shop
    vectors and adds its side head over their features; its contributions are its logit
    parts: the text match, the shop's learned prior and each side feature (by its contract name, so
    the urgent reweighting applies to distance and budget fit as for any ranker)."""

    applies_strategy = False

    def __init__(self, inner: Any, alias: str) -> None:
        self.inner = inner
        self.alias = alias
        self.version = str(inner.head.get("model_version") or inner.version)[:20]
        self.name = f"lora_two_tower:{alias}:{self.version}"

    def score(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]],
              context: Mapping[str, Any]) -> ScoreResult:
        from models.ranking.two_tower.texts import query_text
        from models.ranking.two_tower.tower import SIDE_FEATURES

        scored = self.inner.score(query_text(context.get("text")), [int(f["shop_id"]) for f in candidate_features],
                                  candidate_features)
        contributions = [{"text_match": round(float(a), 4), "shop_prior": round(float(b), 4),
                          **{name: round(float(v), 4) for name, v in zip(SIDE_FEATURES, side)}}
                         for a, b, side in zip(scored.text_match, scored.shop_prior, scored.side)]
        return ScoreResult(scores=[float(s) for s in scored.probabilities], contributions=contributions,
                           model_version=self.version)


def load_lora_variant() -> tuple[Any | None, str]:
    """Group B's scorer (the LoRA recommender's @champion, else its @challenger) and a status line."""
    from infra.settings import get_settings

    settings = get_settings()
    if settings.serving_lora_share <= 0:
        return None, "off (NAVIYAM_SERVING_LORA_SHARE=0)"
    try:
        from models.ranking.two_tower.tower import load_recommender
    except Exception as exc:  # a broken install: group A serves everyone, say why
        return None, f"unavailable ({type(exc).__name__})"
    for alias in (CHAMPION, CHALLENGER):
        try:
            inner = load_recommender(alias, num_threads=settings.serving_embedder_threads)
        except Exception as exc:
            log.warning("ranking: LoRA recommender @%s not loaded: %s", alias, exc)
            return None, f"not loaded ({type(exc).__name__}: {str(exc)[:120]})"
        if inner is not None:
            scorer = LoraTwoTowerScorer(inner, alias)
            return scorer, f"{scorer.name} for {settings.serving_lora_share:.0%} of children"
    return None, "no LoRA recommender registered"


def load_variants() -> tuple[dict[str, Any], dict[str, str]]:
    """``{"champion": scorer, "challenger": scorer?}`` and a status line per variant."""
    from infra.settings import get_settings

    if get_settings().serving_ranker == "popularity":
        return {CHAMPION: PopularityScorer()}, {CHAMPION: "popularity (NAVIYAM_SERVING_RANKER=popularity)"}
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
    lora, status[LORA_VARIANT] = load_lora_variant()
    if lora is not None:
        variants[LORA_VARIANT] = lora
    if CHAMPION not in variants:
        variants[CHAMPION] = LinearFallbackScorer()
        status[CHAMPION] = status.get(CHAMPION, "") + " → linear fallback"
        log.warning("ranking: no registered champion; serving the linear fallback scorer")
    return variants, status
