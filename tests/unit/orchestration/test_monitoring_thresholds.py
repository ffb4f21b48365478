"""The four §13 thresholds and which side of each is a breach."""

from orchestration.quality.monitoring import THRESHOLDS

BY_NAME = {t.name: t for t in THRESHOLDS}


def test_the_four_spec_thresholds():
    assert {t.name: t.limit for t in THRESHOLDS} == {
        "response_time_under_500ms": 500,
        "cache_hit_rate_at_least_70pct": 0.7,
        "nlu_accuracy_at_least_85pct": 0.85,
        "recommendation_ctr_at_least_25pct": 0.25,
    }


def test_breach_direction():
    assert BY_NAME["response_time_under_500ms"].breached(501)
    assert not BY_NAME["response_time_under_500ms"].breached(500)
    assert BY_NAME["cache_hit_rate_at_least_70pct"].breached(0.69)
    assert not BY_NAME["cache_hit_rate_at_least_70pct"].breached(0.7)
    assert BY_NAME["nlu_accuracy_at_least_85pct"].breached(0.84)
    assert BY_NAME["recommendation_ctr_at_least_25pct"].breached(0.0)
