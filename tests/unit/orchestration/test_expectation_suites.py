"""The great-expectations suites catch what they are for, and pass clean frames."""

import pandas as pd

from orchestration.quality.expectations import SUITE_MARTS, _suites, validate_frame


def test_a_suite_per_mart():
    assert set(_suites()) == set(SUITE_MARTS)


def test_shops_suite():
    good = pd.DataFrame({
        "shop_id": [1, 2], "current_status": ["OPEN", "BREAK_TIME"], "click_through_rate": [0.5, 0.0],
        "conversion_rate": [0.25, 0.0], "popularity_score": [0.1, 0.9], "quality_score": [0.5, 0.5],
        "user_satisfaction_avg": [0.0, 4.5],
    })
    assert validate_frame("shops", good)[0]
    bad = good.assign(current_status=["OPEN", "LUNCH"], conversion_rate=[0.75, 0.0])
    ok, failed, _ = validate_frame("shops", bad)
    assert not ok
    assert any("current_status" in f for f in failed) and any("click_through_rate" in f for f in failed)
