"""The §13 retention policy as data: what is kept, for how long, and by which column."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orchestration.maintenance.retention import RETENTION_POLICY, apply_retention

POLICY = {rule.table: rule for rule in RETENTION_POLICY}


def test_policy_matches_the_spec():
    assert {t: r.days for t, r in POLICY.items()} == {
        "users": None, "product_orders": None, "user_profiles": None,
        "conversations": 365, "recommendations_log": 365, "user_interactions": 365,
        "performance_logs": 90, "nlu_training_data": 90,
        "rag_query_cache": 30, "embedding_cache": 30,
        "conversation_contexts": 7,
    }


def test_partitioned_tables_are_the_monthly_log_tables():
    assert {t for t, r in POLICY.items() if r.partitioned} == {
        "conversations", "recommendations_log", "user_interactions", "performance_logs"}


def test_age_columns():
    assert POLICY["nlu_training_data"].column == "created_at"
    assert POLICY["rag_query_cache"].column == "created_at"
    assert POLICY["conversations"].column == "timestamp"


def test_cutoffs():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert POLICY["conversation_contexts"].cutoff(now) == now - timedelta(days=7)
    assert POLICY["users"].cutoff(now) is None and POLICY["users"].permanent


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        apply_retention(engine=None, now=datetime(2026, 1, 1))
