"""The ranker's feature contract is the one place a feature is named: a feature added there (and
nowhere else) reaches the Feast schema, the offline source's types, the training join and frame,
and the serving frame, and both training and serving hand it to the same arithmetic."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra import feature_contract as contract

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter whose `infra` package is a copy with one line added to the contract.
PROBE = r'''
import json
import numpy as np
import pandas as pd

from infra import feature_contract as contract
from feature_repo import definitions
from feature_repo.history import source_column_types
from models.ranking import features as F, training_set
from models.ranking.raw_features import FeatureSnapshots
from models.ranking.scorer import Scorer
from serving.scoring import RegisteredScorer

seen = []  # the shop inputs each caller hands to the one arithmetic
real = F.interaction_columns
def spy(**kw):
    seen.append(sorted(kw["shop"]))
    return real(**kw)
F.interaction_columns = spy

ts = pd.Timestamp("2026-11-01", tz="UTC")
user = pd.DataFrame({"user_id": [1], "event_timestamp": [ts], "total_orders": [3.0], "avg_order_value": [7000.0],
                     "order_frequency": [1.0], "favorite_count": [1.0], "category_diversity": [0.5],
                     "shop_loyalty": [0.5], "loc_lat": [37.5], "loc_lon": [127.0], "is_foodcard": [1.0],
                     "segment": ["child"], "category_share": [[1 / 13] * 13], "slot_share": [[0.25] * 4],
                     "recent_shop_ids": [[7]]})
shop = pd.DataFrame({"shop_id": [7], "event_timestamp": [ts], "category": ["분식"], "category_idx": [1],
                     "lat": [37.5], "lon": [127.0], "median_price": [6000.0], "order_count": [10.0],
                     "order_count_30d": [5.0], "distinct_customers": [8.0], "repeat_customer_rate": [0.3],
                     "popularity_pct": [0.6], "takes_food_card": [1.0], "is_good_influence": [0.0],
                     "slot_share": [[0.25] * 4], "customer_taste": [[1 / 13] * 13], "throwaway_score": [0.42]})
user_shop = pd.DataFrame({"user_id": [1], "shop_id": [7], "event_timestamp": [ts], "visit_count": [2.0]})
events = pd.DataFrame({"user_id": [1], "shop_id": [7], "event_timestamp": [ts + pd.Timedelta(hours=12)]})
joined = training_set.point_in_time_join(events, FeatureSnapshots(user, shop, user_shop, pd.DataFrame()))
training_set.feature_columns(joined)
candidate = shop.drop(columns=["event_timestamp"]).iloc[0].to_dict()
frame = RegisteredScorer._frame({"visit_counts": {7: 2.0}}, [candidate])
Scorer(model=None, encoder=None).feature_columns(user.iloc[0].to_dict(), frame)
print(json.dumps({
    "feast": [f.name for f in definitions.shop_features.features],
    "feast_refs": definitions.feature_refs("shop_features"),
    "offline_types": source_column_types("shop_features"),
    "training_join": [c for c in joined.columns if c.startswith("shop_features__")],
    "training_value": float(joined["shop_features__throwaway_score"].iloc[0]),
    "serving_candidate_columns": list(contract.CANDIDATE_COLUMNS),
    "serving_frame": {k: float(v[0]) for k, v in frame.items() if k == "throwaway_score"},
    "arithmetic_inputs": seen,
    "dense_mirror": list(contract.SHOP.dense),
}))
'''


def test_a_feature_added_to_the_contract_flows_everywhere(tmp_path):
    shadow = tmp_path / "shadow"
    shutil.copytree(ROOT / "infra", shadow / "infra", ignore=shutil.ignore_patterns("__pycache__", "sample_data"))
    (shadow / "infra" / "sample_data").symlink_to(ROOT / "infra" / "sample_data")
    source = (shadow / "infra" / "feature_contract.py").read_text()
    anchor = '    Feature("customer_taste", FLOATS, "mean category share of its customers"),\n'
    assert source.count(anchor) == 1
    (shadow / "infra" / "feature_contract.py").write_text(
        source.replace(anchor, anchor + '    Feature("throwaway_score", description="a feature no one else names"),\n'))
    env = {**os.environ, "PYTHONPATH": f"{shadow}{os.pathsep}{ROOT}"}
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert "throwaway_score" in seen["feast"]  # Feast schema
    assert "shop_features:throwaway_score" in seen["feast_refs"]  # what training asks Feast for
    assert seen["offline_types"]["throwaway_score"] == "double precision"  # the dbt mart's column
    assert "shop_features__throwaway_score" in seen["training_join"] and seen["training_value"] == 0.42
    assert "throwaway_score" in seen["serving_candidate_columns"]
    assert seen["serving_frame"] == {"throwaway_score": 0.42}  # the serving frame
    assert "throwaway_score" in seen["dense_mirror"]  # feature_vectors' dense part
    # training (the joined frame) and serving (the candidate frame) hand it to the same arithmetic
    assert len(seen["arithmetic_inputs"]) == 2 and all("throwaway_score" in s for s in seen["arithmetic_inputs"])


def test_the_real_contract_is_what_feast_and_the_event_log_use():
    from feature_repo import definitions
    from infra.event_log import TABLES

    for group in contract.GROUPS:
        view = definitions.FEATURE_VIEWS[group.name]
        assert [f.name for f in view.features] == list(group.names)
        assert definitions.SOURCE_TABLES[group.name] == group.mart
    stored = TABLES["recommendation_features"].columns
    assert [c for c in stored if c in contract.STORED_FEATURES] == list(contract.STORED_FEATURES)
    assert len(set(contract.STORED_FEATURES)) == len(contract.STORED_FEATURES) == 18
