"""Serving: a trained ranker as a directory bundle, and the ``Scorer`` the chat service calls.

Bundle layout (what MLflow stores as the model's artifact)::

    weights.pt      state dict of the WideDeep module
    encoder.json    columns, hyperparameters, id vocabularies, numeric scales
    co_order.npz    the collaborative (co-order) index
    content.npz     shop text embeddings for content_score (only when trained with them)
    meta.json       feature version, dataset version, holdout metrics

``Scorer.score`` takes one user's features (the online store's row: a mapping), the candidate
shops' features (a DataFrame or mapping of arrays, one row per shop: shop features plus the
user×shop ``visit_count``) and the request context, and returns one probability per candidate —
feature engineering and the forward pass are vectorised over the candidates (no per-row loop).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from infra.feature_contract import BOOLEAN_STORED, CANDIDATE_COLUMNS, LIST_KINDS, SHOP
from infra.vocabulary import CHALLENGER, CHAMPION
from models.ranking import features as F
from models.ranking.data import FeatureEncoder
from models.ranking.explain import Contributions, contributions
from models.ranking.similarity import CoOrderIndex, ContentIndex, pad_history
from models.ranking.model import WideDeep

REGISTERED_MODEL = "naviyam-wide-deep"


def save_bundle(path: Path, model: WideDeep, encoder: FeatureEncoder, co_index: CoOrderIndex | None,
                meta: Mapping[str, Any], content_index: ContentIndex | None = None) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path / "weights.pt")
    encoder.save(path / "encoder.json")
    if co_index is not None:
        co_index.save(path / "co_order.npz")
    if content_index is not None:
        content_index.save(path / "content.npz")
    (path / "meta.json").write_text(json.dumps(dict(meta), ensure_ascii=False, indent=2, default=str))
    return path


def _user_arrays(user: Mapping[str, Any], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in F.USER_FEATURES:
        value = user.get(name)
        if name in ("category_share", "slot_share", "recent_shop_ids"):
            out[name] = np.asarray(value, dtype=float) if isinstance(value, (list, tuple, np.ndarray)) and len(value) else None
        elif name == "segment":
            out["segment_idx"] = np.full(n, F.SEGMENTS.index(value) if value in F.SEGMENTS else 0, dtype=np.int64)
        else:
            out[name] = np.full(n, np.nan if value is None else float(value))
    for name in ("category_share", "slot_share"):
        if out.get(name) is None:
            out.pop(name, None)
    return out


@dataclass
class Scorer:
    model: WideDeep
    encoder: FeatureEncoder
    co_index: CoOrderIndex | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    content_index: ContentIndex | None = None

    @classmethod
    def load(cls, path: Path | str) -> Scorer:
        path = Path(path)
        encoder = FeatureEncoder.load(path / "encoder.json")
        model = WideDeep(encoder.config.to_dict())
        model.load_state_dict(torch.load(path / "weights.pt", map_location="cpu", weights_only=True))
        model.eval()
        co = CoOrderIndex.load(path / "co_order.npz") if (path / "co_order.npz").exists() else None
        meta = json.loads((path / "meta.json").read_text()) if (path / "meta.json").exists() else {}
        content = ContentIndex.load(path / "content.npz") if (path / "content.npz").exists() else None
        return cls(model=model, encoder=encoder, co_index=co, meta=meta, content_index=content)

    # ---- features --------------------------------------------------------------------------
    def feature_columns(self, user_features: Mapping[str, Any], candidates_features: pd.DataFrame | Mapping[str, Any],
                        context: F.Context | Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
        """Every model column for the candidates (the spec's recommendation_features and more)."""
        ctx = F.Context.from_mapping(context)
        cand = candidates_features
        if isinstance(cand, pd.DataFrame):  # plain arrays once: numpy probing a Series is slow
            cand = {c: cand[c].to_numpy() for c in CANDIDATE_COLUMNS if c in cand.columns}
        shop_ids = np.asarray(cand["shop_id"], dtype=np.int64)
        n = len(shop_ids)
        user = _user_arrays(user_features, n)
        # the shop view of the contract, as interaction_columns reads it (list features as they come)
        shop = {f.name: cand[f.name] if f.kind in LIST_KINDS else np.asarray(cand[f.name])
                for f in SHOP.features if f.name in cand}
        if "category_idx" not in shop or shop["category_idx"].dtype == object:
            shop["category_idx"] = F.category_index(np.asarray(cand["category"]))
        visits = np.asarray(cand["visit_count"], dtype=float) if "visit_count" in cand else np.zeros(n)
        collab = content = None
        history = user_features.get("recent_shop_ids")
        padded = pad_history([history])[0] if isinstance(history, (list, tuple, np.ndarray)) else np.full(1, -1)
        if self.co_index is not None:
            collab = self.co_index.score(padded, shop_ids)
        if self.content_index is not None:
            content = self.content_index.score(padded, shop_ids)
        cols = F.interaction_columns(
            user=user, shop=shop, user_shop={"visit_count": visits},
            ctx_minute=np.float64(ctx.minute_of_day),
            ctx_lat=np.float64(np.nan if ctx.lat is None else ctx.lat),
            ctx_lon=np.float64(np.nan if ctx.lon is None else ctx.lon),
            ctx_budget=np.float64(np.nan if ctx.budget is None else ctx.budget),
            urgent=np.bool_(ctx.strategy == "urgent"), collaborative=collab, content=content,
        )
        cols["user_id"] = np.full(n, user_features.get("user_id", -1))
        cols["shop_id"] = shop_ids
        return cols

    def tensors(self, cols: Mapping[str, np.ndarray]) -> dict[str, torch.Tensor]:
        return self.encoder.tensors(cols)

    # ---- scoring ---------------------------------------------------------------------------
    def score(self, user_features: Mapping[str, Any], candidates_features: pd.DataFrame | Mapping[str, Any],
              context: F.Context | Mapping[str, Any] | None = None) -> np.ndarray:
        """Probability of a click for each candidate, in the candidates' order."""
        batch = self.tensors(self.feature_columns(user_features, candidates_features, context))
        with torch.inference_mode():
            logit = self.model(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"])
        return torch.sigmoid(logit).numpy().astype(np.float64)

    def score_frame(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        """Scores of already-engineered model columns (batch inference over many users)."""
        batch = self.tensors(cols)
        with torch.inference_mode():
            logit = self.model(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"])
        return torch.sigmoid(logit).numpy().astype(np.float64)

    def rank(self, user_features: Mapping[str, Any], candidates_features: pd.DataFrame | Mapping[str, Any],
             context: F.Context | Mapping[str, Any] | None = None, *, explain_top: int | None = 10,
             explain_steps: int = 16) -> Ranking:
        """Score every candidate in one forward pass, order them, and explain the best
        ``explain_top`` (all when None, none when 0): the one ranking path of training's benchmark,
        the tests and the chat service."""
        cols = self.feature_columns(user_features, candidates_features, context)
        batch = self.tensors(cols)  # once: the forward pass and the explanation share it
        with torch.inference_mode():
            logit = self.model(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"])
        scores = torch.sigmoid(logit).numpy().astype(np.float64).reshape(-1)
        order = np.argsort(-scores, kind="stable")
        explained = order if explain_top is None else order[:explain_top]
        contrib: dict[int, dict[str, float]] = {}
        if len(explained):
            dicts = contributions(self.model, {k: v[explained] for k, v in batch.items()},
                                  steps=explain_steps).to_probability().as_dicts()
            contrib = {int(i): {str(k): float(v) for k, v in d.items()} for i, d in zip(explained, dicts)}
        return Ranking(shop_ids=np.asarray(cols["shop_id"]), scores=scores, order=order,
                       stored=F.stored_values(cols), contributions=contrib)

    def explain(self, user_features: Mapping[str, Any], candidates_features: pd.DataFrame | Mapping[str, Any],
                context: F.Context | Mapping[str, Any] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], Contributions]:
        """(scores, feature columns, contributions on the probability scale: ``_base`` + Σ = score)."""
        cols = self.feature_columns(user_features, candidates_features, context)
        contrib = contributions(self.model, self.tensors(cols)).to_probability()
        return contrib.base + contrib.values.sum(axis=1), cols, contrib


@dataclass(frozen=True)
class Ranking:
    """``Scorer.rank``: per candidate (input order) its score and stored features; ``order`` best first."""

    shop_ids: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    stored: dict[str, np.ndarray]  # the recommendation_features columns, clipped to [0, 1]
    contributions: dict[int, dict[str, float]]  # candidate index → "_base" + Σ values == score

    def features(self, i: int) -> dict[str, float]:
        return {k: float(v[i]) for k, v in self.stored.items()}


@dataclass(frozen=True)
class RankedCandidate:
    shop_id: int
    score: float
    ranking_position: int
    features: dict[str, float]  # the stored spec columns (clipped to [0, 1])
    feature_contributions: dict[str, float] | None  # "_base" + Σ values == score

    def recommendation_features_row(self, user_id: str | int, at: Any, event_id: str) -> dict[str, Any]:
        """This candidate as a ``recommendation_features`` record for the event log (the table's one writer)."""
        return {"user_id": str(user_id), "shop_id": self.shop_id, "timestamp": at, **self.features,
                **{k: bool(self.features[k] > 0) for k in BOOLEAN_STORED},
                "predicted_score": round(min(max(self.score, 0.0), 1.0), 3),
                "ranking_position": self.ranking_position, "feature_contributions": self.feature_contributions,
                "recommendation_event_id": str(event_id)}


def rank_candidates(scorer: Scorer, user_features: Mapping[str, Any], candidates_features: pd.DataFrame | Mapping[str, Any],
                    context: F.Context | Mapping[str, Any] | None = None, top_k: int | None = 10,
                    explain: bool = True) -> list[RankedCandidate]:
    """The best ``top_k`` candidates (all when None), best first, explained unless ``explain`` is False."""
    ranking = scorer.rank(user_features, candidates_features, context, explain_top=top_k if explain else 0)
    keep = ranking.order if top_k is None else ranking.order[:top_k]
    return [RankedCandidate(shop_id=int(ranking.shop_ids[i]), score=float(ranking.scores[i]), ranking_position=rank + 1,
                            features=ranking.features(int(i)), feature_contributions=ranking.contributions.get(int(i)))
            for rank, i in enumerate(keep)]


def resolve_model_dir(alias: str = CHAMPION, name: str = REGISTERED_MODEL, marker: str = "encoder.json") -> Path:
    """Download (or find) the bundle of ``name@alias`` from the MLflow registry: the folder that
    holds ``marker`` (each bundle format has its own)."""
    import os

    import mlflow

    from models.tracking import configure_mlflow

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    configure_mlflow()
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}@{alias}"))
    for candidate in (local / "artifacts" / "bundle", local / "bundle", local):
        if (candidate / marker).exists():
            return candidate
    found = next(local.rglob(marker), None)
    if found is None:
        raise FileNotFoundError(f"no ranking bundle in {local}")
    return found.parent


def load_scorer(alias: str = CHAMPION, name: str = REGISTERED_MODEL) -> Scorer:
    """The registered ranker behind ``alias`` (``champion`` serves; ``challenger`` is the A/B variant)."""
    from models.tracking import get_alias

    scorer = Scorer.load(resolve_model_dir(alias, name))
    version = get_alias(name, alias)
    scorer.meta.update({"alias": alias, "registered_model": name,
                        "model_version": None if version is None else str(version.version)})
    return scorer
