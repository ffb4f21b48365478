"""The real Wide&Deep ``Scorer`` (a tiny one trained here) behind the pipeline's ranking port."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_scorer():
    import torch

    torch.set_num_threads(1)
    from infra.sample_data.generator import build
    from models.ranking.lightning_fit import fit_wide_deep
    from models.ranking.scorer import Scorer
    from models.ranking.train import TrainConfig, prepare
    from models.ranking.training_set import VOCAB_COLUMNS, naviyam_config

    sample = build(20261125, 0.04)
    prepared = prepare(sample.tables, sample.truth, TrainConfig(n_impressions=300, list_size=10, seed=0))
    fit = fit_wide_deep(prepared.train, prepared.val, naviyam_config(), VOCAB_COLUMNS, max_epochs=1, batch_size=256)
    return Scorer(fit.model, fit.encoder, prepared.co_index, meta={"version": "tiny"})


def _candidates(n=8):
    cats = ["분식", "한식", "중식", "치킨"]
    return [{"shop_id": i + 1, "category": cats[i % 4], "lat": 37.55 + i / 1000, "lon": 126.90, "median_price": 5000 + 500 * i,
             "popularity_pct": i / n, "distinct_customers": 3.0 * i, "repeat_customer_rate": 0.1} for i in range(n)]


def test_registered_scorer_scores_explains_and_reweights_urgent(tiny_scorer):
    from serving.scoring import EXPLAIN_TOP, RegisteredScorer

    s = RegisteredScorer(tiny_scorer, "champion")
    assert s.name == "wide_deep:champion:tiny" and s.applies_strategy
    cands = _candidates()
    ctx = {"minute_of_day": 720, "lat": 37.55, "lon": 126.90, "budget": 5000, "strategy": "normal"}
    r = s.score({"total_orders": 0, "user_id": "kakao_1"}, cands, ctx)
    assert len(r.scores) == len(cands) and all(0 < x < 1 for x in r.scores)
    explained = [c for c in r.contributions if c]
    assert len(explained) == min(EXPLAIN_TOP, len(cands))
    for i, c in enumerate(r.contributions):
        if c:
            assert sum(c.values()) == pytest.approx(r.scores[i], abs=3e-3) and "distance_penalty" in c
    assert set(r.features[0]) >= {"budget_compatibility", "distance_penalty", "category_preference_match"}
    urgent = s.score({"total_orders": 0}, cands, {**ctx, "strategy": "urgent"})
    assert urgent.features[0]["distance_penalty"] >= r.features[0]["distance_penalty"]
    assert urgent.scores != r.scores
