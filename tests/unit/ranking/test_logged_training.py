"""Learning from the logs: examination propensities per rank and the IPS resampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.ranking import logged


def lists(n: int, views_by_rank: tuple[float, ...], explored: bool, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        for r, p in enumerate(views_by_rank, start=1):
            rows.append({"impression_id": f"{'x' if explored else 'n'}{i}", "position": r, "explored": explored,
                         "viewed": int(rng.random() < p)})
    return pd.DataFrame(rows)


def test_propensities_come_from_exploration_lists_when_there_are_enough():
    # ranked lists: the policy puts good shops first, so views fall faster than examination does
    ranked = lists(2000, (0.9, 0.3, 0.1), explored=False)
    explored = lists(logged.MIN_EXPLORATION_LISTS + 300, (0.8, 0.5, 0.36), explored=True, seed=1)
    p, source = logged.examination_propensity(pd.concat([ranked, explored]))
    assert source == "exploration"
    assert p[1] == 1.0 and p[2] == pytest.approx(0.5 / 0.8, abs=0.05) and p[3] == pytest.approx(0.45, abs=0.05)
    few = pd.concat([ranked, explored.head(30)])
    p_all, source_all = logged.examination_propensity(few)
    assert source_all == "all lists" and p_all[3] < p[3]


def test_propensities_are_floored_and_never_above_one():
    p, _ = logged.examination_propensity(lists(500, (0.5, 0.9, 0.0), explored=False))
    assert p[2] == 1.0 and p[3] == logged.PROPENSITY_FLOOR


def test_ips_resampling_reweights_rows_in_expectation():
    frame = pd.DataFrame({"position": [1, 2, 3] * 1000, "label": [1.0, 1.0, 1.0] * 1000})
    weights = frame["position"].map({1: 1.0, 2: 2.0, 3: 4.0}).to_numpy()
    out = logged.ips_resample(frame, weights, seed=0)
    share = out["position"].value_counts(normalize=True)
    assert len(out) == len(frame)
    assert share[1] == pytest.approx(1 / 7, abs=0.02) and share[3] == pytest.approx(4 / 7, abs=0.02)
    assert logged.ips_resample(frame, weights, seed=0).equals(out)  # seeded


def test_a_split_without_reactions_is_not_enough_logs():
    import pandas as pd
    import pytest

    from models.ranking.retrain import NotEnoughLogs, check_labels

    reacted = pd.DataFrame({"label": [1.0] * 1 + [0.0] * 20})  # little, but both classes: the caller decides
    check_labels({"training": reacted, "holdout": reacted})
    ignored = pd.DataFrame({"label": [0.0] * 500})  # a benchmark's impressions: nobody clicked
    with pytest.raises(NotEnoughLogs, match="holdout part of the logs has 0 positive"):
        check_labels({"training": reacted, "holdout": ignored})


def test_validation_picks_the_servable_model_and_the_holdout_judges_it_against_the_champion():
    from models.ranking.candidates import choose

    val = {"wide_deep": 0.66, "logistic_wide": 0.68}
    holdout = {"wide_deep": {"auc": 0.74}, "logistic_wide": {"auc": 0.72}, "popularity": {"auc": 0.60}}
    kind, why, beats = choose(val, holdout, None)  # the holdout's better wide_deep does not decide
    assert kind == "logistic_wide" and beats and "no champion" in why and "wide_deep 0.7400" in why
    kind, why, beats = choose(val, holdout, {"version": "3", "auc": 0.75})
    assert kind == "logistic_wide" and not beats and "champion v3 0.7500" in why
    val["wide_deep"] = 0.70
    assert choose(val, holdout, {"version": "3", "auc": 0.73})[::2] == ("wide_deep", True)


def test_promotion_needs_popularity_beaten_and_respects_what_was_asked():
    from models.ranking.candidates import promotion

    holdout = {"wide_deep": {"auc": 0.70}, "logistic_wide": {"auc": 0.65}, "popularity": {"auc": 0.60}}
    assert promotion("wide_deep", holdout, "w", True)[0] == "champion"
    assert promotion("wide_deep", holdout, "w", False)[0] == "challenger"
    assert promotion("wide_deep", holdout, "w", False, challenger=False) == (
        None, "not promoted (wide_deep, does not beat the champion): w")
    assert promotion("wide_deep", holdout, "w", True, allowed=False)[0] is None
    assert promotion("wide_deep", holdout, "w", True, challenger_only=True)[0] == "challenger"
    holdout["wide_deep"]["auc"] = 0.55  # loses to popularity: nothing, even with no champion
    assert promotion("wide_deep", holdout, "w", True) == (None, "not promoted (wide_deep, does not beat popularity): w")
