"""Training on the features as they were served, and how far they drift from a recomputation.

The chat service logs, per shown recommendation, the contract's stored ranking features exactly as
the ranker scored them (``recommendation_features``, read back through Feast's served-feature view
``served_ranking_features``: ``feature_repo.reads.served_features``). The retrain recomputes the same
columns offline from the feature history (``training_set.model_frame``). The two differ when the
request carried something the history does not know (where the child stood, the budget it typed),
when the history moved between the turn and the night, or when serving and training compute a
feature two ways: the training-serving skew.

``overlay_served`` puts the served values into the training frame wherever a row has them (so a
training row holds what the service scored with) and ``skew`` reports, per feature, how far the
recomputed values were from the served ones on those rows.

Only lists a Wide&Deep scored count as served features (``scored_by`` of the logged item): another
ranker (popularity, the linear fallback) logs the answer's own feature estimates, which are not
what the model computes from its inputs, so training on them would teach it values it never sees.
Urgent lists are left out too: their features are reweighted (``URGENT_WEIGHTS``, up to 2×) before
the model scores them, and the log keeps them clipped to [0, 1].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from infra.feature_contract import STORED_FEATURES

#: |served - recomputed| above this is a real difference, not the 3-decimal rounding of the log
TOLERANCE = 0.0051
#: ``scored_by`` of a list the model ranked (serving.scoring.RegisteredScorer names itself so)
MODEL_SCORER = "wide_deep"


def model_scored_only(served: pd.DataFrame, scored_by: pd.Series, strategy: pd.Series | None = None) -> pd.DataFrame:
    """``served`` with the rows another ranker scored, and urgent lists, blanked out (see the module's note)."""
    keep = scored_by.fillna("").astype(str).str.startswith(MODEL_SCORER).to_numpy()
    if strategy is not None:
        keep &= (strategy.astype(str) != "urgent").to_numpy()
    out = served.copy()
    out.loc[~keep, :] = np.nan
    return out


def _stored(values: Any) -> np.ndarray:
    """As the log stores a value: clipped to [0, 1], 3 decimals."""
    return np.round(np.clip(np.asarray(values, dtype=float), 0.0, 1.0), 3)


def skew(recomputed: pd.DataFrame, served: pd.DataFrame, features: tuple[str, ...] = STORED_FEATURES) -> dict[str, Any]:
    """Per feature over the rows with a served value: rows, mean and p95 absolute difference, the
    share of rows differing beyond rounding; plus the overall share of rows that had a served row."""
    has = served[list(features)].notna().all(axis=1).to_numpy()
    out: dict[str, Any] = {"rows": int(len(served)), "served_rows": int(has.sum()),
                           "served_share": round(float(has.mean()), 4) if len(has) else 0.0, "features": {}}
    if not has.any():
        return out
    for name in features:
        diff = np.abs(_stored(recomputed[name].to_numpy()[has]) - served[name].to_numpy(dtype=float)[has])
        out["features"][name] = {"mean_abs_diff": round(float(diff.mean()), 4),
                                 "p95_abs_diff": round(float(np.quantile(diff, 0.95)), 4),
                                 "share_differs": round(float((diff > TOLERANCE).mean()), 4)}
    worst = max(out["features"].items(), key=lambda kv: kv[1]["mean_abs_diff"])
    out["worst"] = {"feature": worst[0], **worst[1]}
    out["mean_abs_diff"] = round(float(np.mean([v["mean_abs_diff"] for v in out["features"].values()])), 4)
    return out


def overlay_served(frame: pd.DataFrame, served: pd.DataFrame, features: tuple[str, ...] = STORED_FEATURES) -> pd.DataFrame:
    """``frame`` with each row's served values in place of the recomputed ones where it has them."""
    if len(frame) != len(served):
        raise ValueError(f"served features are not aligned with the frame ({len(served)} vs {len(frame)} rows)")
    out = frame.copy()
    has = served[list(features)].notna().all(axis=1).to_numpy()
    for name in features:
        column = out[name].to_numpy(dtype=float, copy=True)
        column[has] = served[name].to_numpy(dtype=float)[has]
        out[name] = column
    return out


def skew_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The report as flat MLflow metrics."""
    metrics = {"skew_served_share": float(report.get("served_share", 0.0))}
    if "mean_abs_diff" in report:
        metrics["skew_mean_abs_diff"] = float(report["mean_abs_diff"])
    for name, v in report.get("features", {}).items():
        metrics[f"skew_{name}_mae"] = float(v["mean_abs_diff"])
        metrics[f"skew_{name}_share_differs"] = float(v["share_differs"])
    return metrics
