"""The A/B decision rule: margin, significance, guardrail, minimum data."""

from __future__ import annotations

import pytest

from orchestration.experiments import ab_test


def arm(lists, orders, sat=4.0, sat_sd=0.8, views=None, impressions=None):
    impressions = impressions or lists * 3
    return {"lists": lists, "orders": orders, "views": views if views is not None else lists,
            "impressions": impressions, "satisfaction_n": orders, "satisfaction_mean": sat, "satisfaction_sd": sat_sd,
            "price_to_balance_n": orders, "price_to_balance_mean": 0.3, "price_to_balance_sd": 0.1}


def test_clear_win_above_the_margin_promotes():
    d = ab_test.decide({"champion": arm(2000, 400), "challenger": arm(2000, 560)}, margin=0.02)
    assert d.outcome == "promote", d.reason
    c = d.comparisons["order_rate"]
    assert c.diff == pytest.approx(0.08) and c.ci_low > 0.02 and c.p_value < 0.001


def test_a_win_inside_the_margin_or_a_loss_keeps_the_champion():
    small = ab_test.decide({"champion": arm(2000, 400), "challenger": arm(2000, 430)}, margin=0.02)
    assert small.outcome == "keep" and "not above the margin" in small.reason
    worse = ab_test.decide({"champion": arm(2000, 560), "challenger": arm(2000, 400)}, margin=0.0)
    assert worse.outcome == "keep" and worse.comparisons["order_rate"].ci_high < 0


def test_guardrail_satisfaction_significantly_lower_blocks_a_win():
    d = ab_test.decide({"champion": arm(2000, 400, sat=4.2), "challenger": arm(2000, 600, sat=3.4)}, margin=0.01)
    assert d.outcome == "keep" and "satisfaction" in d.reason
    assert d.comparisons["satisfaction"].test.startswith("Welch")


def test_too_little_data_or_a_missing_arm_is_inconclusive():
    assert ab_test.decide({"champion": arm(50, 10), "challenger": arm(50, 30)}).outcome == "inconclusive"
    assert ab_test.decide({"champion": arm(5000, 1000)}).outcome == "inconclusive"


def test_welch_matches_scipy_on_summary_statistics():
    from scipy import stats

    c = ab_test.welch("x", 3.0, 1.0, 40, 3.5, 2.0, 30)
    ref = stats.ttest_ind_from_stats(3.5, 2.0, 30, 3.0, 1.0, 40, equal_var=False)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert c.ci_low < 0.5 < c.ci_high
