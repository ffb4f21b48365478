"""Training on served features: the overlay puts the logged values in, the skew report measures the gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from infra.feature_contract import STORED_FEATURES
from models.ranking.served import TOLERANCE, overlay_served, skew, skew_metrics


def frames(n: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    recomputed = pd.DataFrame({c: np.linspace(0.1, 0.4, n) for c in STORED_FEATURES})
    recomputed["label"] = [1.0, 0.0, 0.0, 1.0][:n]
    served = pd.DataFrame({c: np.linspace(0.1, 0.4, n).round(3) for c in STORED_FEATURES})
    served.loc[2, list(STORED_FEATURES)] = np.nan  # a list the ranker did not score: nothing logged
    served.loc[0, "distance_penalty"] = 0.9  # the request knew where the child stood; the history did not
    return recomputed, served


def test_overlay_takes_served_values_where_logged_and_keeps_the_rest():
    recomputed, served = frames()
    out = overlay_served(recomputed, served)
    assert out.loc[0, "distance_penalty"] == 0.9
    assert out.loc[2, "distance_penalty"] == recomputed.loc[2, "distance_penalty"]  # no served row: recomputed
    assert out["label"].tolist() == recomputed["label"].tolist()
    assert recomputed.loc[0, "distance_penalty"] == pytest.approx(0.1)  # the input is not modified
    with pytest.raises(ValueError, match="aligned"):
        overlay_served(recomputed, served.iloc[:2])


def test_skew_counts_real_differences_not_rounding():
    recomputed, served = frames()
    recomputed.loc[1, "content_score"] += TOLERANCE / 4  # below the log's rounding: not a difference
    report = skew(recomputed, served)
    assert report["served_rows"] == 3 and report["served_share"] == 0.75
    d = report["features"]["distance_penalty"]
    assert d["share_differs"] == pytest.approx(1 / 3, abs=1e-3) and d["mean_abs_diff"] == pytest.approx(0.8 / 3, abs=1e-3)
    assert report["features"]["content_score"]["share_differs"] == 0.0
    assert report["worst"]["feature"] == "distance_penalty"
    metrics = skew_metrics(report)
    assert metrics["skew_served_share"] == 0.75 and metrics["skew_distance_penalty_mae"] > 0.2


def test_skew_without_any_served_row_says_so():
    recomputed, served = frames()
    served.loc[:, list(STORED_FEATURES)] = np.nan
    report = skew(recomputed, served)
    assert report["served_rows"] == 0 and report["features"] == {} and "mean_abs_diff" not in report


def test_only_lists_the_model_scored_count_as_served():
    from models.ranking.served import model_scored_only

    _, served = frames()
    kept = model_scored_only(served, pd.Series(["wide_deep:champion:3", "popularity", "", None]))
    assert kept.loc[0].notna().all() and kept.loc[1:].isna().all().all()
    # an urgent list's features were reweighted before scoring and clipped in the log: not served values
    urgent = model_scored_only(served, pd.Series(["wide_deep:champion:3"] * 4),
                               pd.Series(["urgent", "normal", "normal", "normal"]))
    assert urgent.loc[0].isna().all() and urgent.loc[1].notna().all()
