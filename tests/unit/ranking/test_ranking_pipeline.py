"""Simulator, training-set assembly, scorer bundle and explained ranking on tiny sample data."""

from __future__ import annotations

import numpy as np
import pytest

from models.ranking import features as F
from models.ranking.explain import BASE_KEY
from models.ranking.lightning_fit import predict
from models.ranking.scorer import Scorer, rank_candidates, save_bundle


def test_simulated_lists_have_at_most_one_click_and_true_probabilities(tiny_prepared):
    imp = tiny_prepared.impressions
    per_list = imp.groupby("impression_id")
    assert per_list["clicked"].sum().max() <= 1
    assert (per_list["true_prob"].sum() <= 1 + 1e-9).all()
    assert 0.3 < per_list["clicked"].max().mean() < 0.9  # some lists get no click (outside option)
    assert (imp["ordered"] <= imp["clicked"]).all()
    assert imp["event_timestamp"].dt.tz is not None


def test_time_split_keeps_impressions_whole_and_ordered(tiny_prepared):
    d = tiny_prepared
    assert not set(d.train["impression_id"]) & set(d.test["impression_id"])
    assert d.train["event_timestamp"].max() <= d.val["event_timestamp"].min()
    assert d.val["event_timestamp"].max() <= d.test["event_timestamp"].min()
    assert set(F.STORED_FEATURES) <= set(d.train.columns)


def test_scorer_bundle_round_trip_and_batch_scoring(tiny_fit, tiny_prepared, tmp_path):
    save_bundle(tmp_path / "b", tiny_fit.model, tiny_fit.encoder, tiny_prepared.co_index, {"feature_version": "t"})
    scorer = Scorer.load(tmp_path / "b")
    test = tiny_prepared.test
    cols = {c: test[c].to_numpy() for c in test.columns}
    assert np.allclose(scorer.score_frame(cols), predict(tiny_fit.model, tiny_fit.encoder, test), atol=1e-6)
    assert scorer.co_index is not None and scorer.meta["feature_version"] == "t"


def _user_and_candidates(prepared, n=100):
    snaps = prepared.snapshots
    user = snaps.user.sort_values("event_timestamp").groupby("user_id").tail(1)
    user_row = user.sort_values("total_orders").iloc[-1].to_dict()
    shops = snaps.shop.sort_values("event_timestamp").groupby("shop_id").tail(1)
    cand = shops.sample(min(n, len(shops)), random_state=0, replace=len(shops) < n).reset_index(drop=True)
    cand["visit_count"] = 0.0
    return user_row, cand


def test_scorer_scores_a_user_against_many_candidates(tiny_fit, tiny_prepared):
    scorer = Scorer(tiny_fit.model, tiny_fit.encoder, tiny_prepared.co_index)
    user, cand = _user_and_candidates(tiny_prepared)
    scores = scorer.score(user, cand, {"minute_of_day": 12 * 60})
    assert scores.shape == (len(cand),) and ((scores > 0) & (scores < 1)).all()
    # a cold user (no online row) still gets scores
    cold = scorer.score({"user_id": 10**9}, cand, None)
    assert np.isfinite(cold).all()
    # the same candidates in another order get the same scores (invariance)
    perm = np.random.default_rng(0).permutation(len(cand))
    assert np.allclose(scorer.score(user, cand.iloc[perm].reset_index(drop=True), None)[np.argsort(perm)],
                       scorer.score(user, cand, None))


def test_ranked_candidates_carry_contributions_that_sum_to_the_score(tiny_fit, tiny_prepared):
    scorer = Scorer(tiny_fit.model, tiny_fit.encoder, tiny_prepared.co_index)
    user, cand = _user_and_candidates(tiny_prepared, 30)
    ranked = rank_candidates(scorer, user, cand, {"minute_of_day": 19 * 60, "strategy": "urgent"}, top_k=5)
    assert [r.ranking_position for r in ranked] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:]))
    for r in ranked:
        assert sum(r.feature_contributions.values()) == pytest.approx(r.score, abs=2e-3)
        assert BASE_KEY in r.feature_contributions and "distance_penalty" in r.feature_contributions
        assert set(r.features) == set(F.STORED_FEATURES)


def test_urgent_mode_changes_the_ranking_inputs(tiny_fit, tiny_prepared):
    scorer = Scorer(tiny_fit.model, tiny_fit.encoder, tiny_prepared.co_index)
    user, cand = _user_and_candidates(tiny_prepared, 20)
    normal = scorer.feature_columns(user, cand, {"strategy": "normal"})
    urgent = scorer.feature_columns(user, cand, {"strategy": "urgent"})
    assert np.allclose(urgent["distance_penalty"], 2 * normal["distance_penalty"])
    assert not np.allclose(scorer.score(user, cand, {"strategy": "urgent"}), scorer.score(user, cand, {"strategy": "normal"}))


def test_feast_configuration_follows_the_settings(tmp_path):
    from pydantic import SecretStr

    from feature_repo.config import config_dict, redis_connection_string
    from infra.settings import Settings

    s = Settings(pg_host="/tmp/pgsock", pg_port=5433, pg_password=SecretStr("pw"), data_dir=tmp_path,
                 redis_url="redis://:sec@127.0.0.1:16379/2")
    cfg = config_dict(s, project="t", database="db1")
    assert cfg["offline_store"]["host"] == "/tmp/pgsock" and cfg["offline_store"]["port"] == 5433
    assert cfg["offline_store"]["sslmode"] == "disable" and cfg["offline_store"]["database"] == "db1"
    assert cfg["online_store"]["connection_string"] == "127.0.0.1:16379,db=2,password=sec"
    assert cfg["registry"]["path"].startswith(str(tmp_path))
    assert redis_connection_string("redis://localhost:6379") == "localhost:6379,db=0"


def test_feature_repo_definitions_match_the_training_contract():
    from feature_repo.definitions import FEATURE_VIEWS
    from models.ranking.training_set import VIEW_FEATURES

    for view, names in VIEW_FEATURES.items():
        assert {f.name for f in FEATURE_VIEWS[view].features} == set(names), view


def test_a_fresh_encoder_encodes_from_many_threads_at_once(tiny_fit, tiny_prepared):
    """The service's worker threads score with a just-loaded model at once: the id vocabularies'
    lookup tables must be built once, not raced (pandas builds them lazily, not thread-safely)."""
    from concurrent.futures import ThreadPoolExecutor

    from models.ranking.data import FeatureEncoder

    cols = {c: tiny_prepared.test[c].to_numpy() for c in tiny_prepared.test.columns}
    for _ in range(5):
        encoder = FeatureEncoder.from_json(tiny_fit.encoder.to_json())
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: encoder.arrays(cols)["deep_cat"], range(16)))
        assert all(np.array_equal(r, results[0]) for r in results)
