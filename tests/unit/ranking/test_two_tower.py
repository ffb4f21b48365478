"""The LoRA two-tower recommender (group B): its query sentence, the adapter merged for serving, and
the fitted model served through the merged-weight runtime scoring as the training network does."""

from __future__ import annotations

import numpy as np
import pytest

from models.ranking.two_tower.texts import query_text
from models.ranking.two_tower.tower import SIDE_FEATURES, ShopVectors


def test_the_query_is_what_the_child_said():
    assert query_text("  떡볶이 먹고 싶어 ") == "떡볶이 먹고 싶어"
    assert query_text("") == query_text(float("nan")) == query_text(None) == "추천해 줘"  # text not logged


def test_shop_positions_mark_unknown_shops():
    shops = ShopVectors(np.array([3, 7, 9]), np.eye(3, dtype=np.float32), np.zeros(3, np.float32))
    assert shops.positions(np.array([9, 3, 4, 100, 0])).tolist() == [2, 0, -1, -1, -1]
    empty = ShopVectors(np.zeros(0, np.int64), np.zeros((0, 3), np.float32), np.zeros(0, np.float32))
    assert empty.positions(np.array([1])).tolist() == [-1]


@pytest.mark.slow
def test_fitted_model_serves_through_merged_weights_as_it_scored_in_training(tmp_path):
    """Fit on a few synthetic lists (one epoch), save the bundle, load it the way the service does
    (adapter folded into the e5 weights, no peft): the probabilities match the training network's."""
    import torch

    from models.nlu.lora_model import Batcher
    from models.nlu.e5_weights import load_tokenizer
    from models.ranking.two_tower.fit import LoraRecConfig, RequestList, fit_two_tower, save_bundle
    from models.ranking.two_tower.tower import TwoTowerRecommender, adapter_deltas

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    shops = ShopVectors(np.arange(10, 16, dtype=np.int64), vectors, np.zeros(6, np.float32))
    texts = ["떡볶이 먹고 싶어", "치킨 먹을래", "배고파 5천원 있어", "돈까스"]
    side = rng.uniform(size=(5, len(SIDE_FEATURES))).astype(np.float32)
    lists = [RequestList(texts[i % 4], np.array([10, 11, 12, 13, 99]), np.eye(5, dtype=np.float32)[i % 4],
                         side=side, impression_id=str(i)) for i in range(12)]
    torch.set_num_threads(1)
    fit = fit_two_tower(lists[:8], lists[8:], shops, LoraRecConfig(max_epochs=1, batch_lists=4, seed=1))
    assert fit.history and fit.best_epoch == 1 and 0 < fit.trainable_params < fit.total_params / 50
    # the text term is centred on the training pairs' mean cosine (random shop vectors here: near 0)
    assert float(fit.net.center) != 0.0 and abs(float(fit.net.center)) < 0.2
    with torch.no_grad():  # training-side scores of one list
        fit.net.encoder.base_model.model.encoder.layer[0].attention.self.query.lora_B.default.weight.add_(0.01)
        ids, mask = Batcher(load_tokenizer(), 64)([texts[1]])
        pos = torch.tensor([0, 1, 2, 6])  # 6: the unknown-shop row
        rows = side[[0, 1, 2, 4]]
        logits = fit.net(ids, mask, torch.zeros(4, dtype=torch.long), pos, torch.from_numpy(rows)).numpy()
    folder = save_bundle(tmp_path / "bundle", fit, shops, {"version": "test"})
    deltas = adapter_deltas(folder / "adapter")
    assert set(deltas) == {f"l{i}.{m}.w" for i in range(12) for m in ("q", "v")}
    assert np.abs(deltas["l0.q.w"]).max() > 0
    model = TwoTowerRecommender(folder)
    served = model.score(texts[1], [10, 11, 12, 99], rows)
    assert served.probabilities == pytest.approx(1 / (1 + np.exp(-logits)), abs=2e-3)
    assert served.shop_prior[-1] == 0.0 and served.text_match[-1] == 0.0  # an unknown shop: no text term, no prior
    # the service passes its candidates' feature mappings: the same scores
    mappings = [dict(zip(SIDE_FEATURES, r.tolist())) | {"shop_id": s} for r, s in zip(rows, [10, 11, 12, 99])]
    assert model.score(texts[1], [10, 11, 12, 99], mappings).probabilities == pytest.approx(served.probabilities)
