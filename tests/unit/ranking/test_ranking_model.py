"""Wide & Deep module, encoder, fitting and contributions on toy data (fast)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.ranking.data import FeatureEncoder
from models.ranking.explain import BASE_KEY, contributions
from models.ranking.lightning_fit import fit_wide_deep, predict
from models.ranking.metrics import auc
from models.ranking.model import WideDeep, WideDeepConfig

TOY = WideDeepConfig(wide_dense=("x1", "x2"), wide_cross={"c": 4}, deep_categorical={"uid": 1},
                     deep_dense=("d1", "x1"), embedding_dim=4, hidden=(16,))


def test_config_round_trips_through_dict():
    again = WideDeepConfig.from_dict(TOY.to_dict())
    assert again == TOY
    assert again.with_mode("wide").uses_deep is False
    assert again.with_mode("deep").uses_wide is False


def test_encoder_maps_unseen_ids_to_the_cold_row_and_standardises(toy_frame):
    enc = FeatureEncoder.fit(toy_frame, TOY, ("uid",))
    assert enc.config.deep_categorical["uid"] == toy_frame["uid"].nunique() + 1
    arrays = enc.arrays({"x1": np.array([0.5, 0.5]), "x2": np.array([0.1, 0.1]), "c": np.array([1, 3]),
                         "uid": np.array([toy_frame["uid"].iloc[0], 10_000]), "d1": np.array([0.0, 0.0])})
    assert arrays["deep_cat"][1, 0] == 0 and arrays["deep_cat"][0, 0] > 0
    full = enc.arrays(toy_frame)["deep_dense"]
    assert np.allclose(full.mean(axis=0), 0, atol=1e-5) and np.allclose(full.std(axis=0), 1, atol=1e-3)
    assert FeatureEncoder.from_json(enc.to_json()).to_json() == enc.to_json()


@pytest.mark.parametrize("mode", ["wide_deep", "wide", "deep"])
def test_forward_shapes_and_ablations(toy_frame, mode):
    enc = FeatureEncoder.fit(toy_frame, TOY.with_mode(mode), ("uid",))
    model = WideDeep(enc.config.to_dict())
    batch = enc.tensors(toy_frame.head(7))
    out = model(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"])
    assert out.shape == (7,)
    if mode == "wide":  # zero-initialised wide part: a fresh wide-only model outputs the bias
        assert torch.allclose(out, model.bias.expand(7))


def test_training_learns_the_signal_and_its_direction(toy_frame):
    train, val = toy_frame.iloc[:2400], toy_frame.iloc[2400:]
    res = fit_wide_deep(train, val, TOY, ("uid",), max_epochs=6, batch_size=128)
    p = predict(res.model, res.encoder, val)
    assert auc(val["label"].to_numpy(), p) > 0.70  # minimum functionality
    assert res.history and {"train_loss", "val_loss", "val_auc"} <= set(res.history[0])
    # directional: more x1 (which raises clicks) raises the score, more x2 lowers it
    row = val.head(50).copy()
    up = row.assign(x1=np.clip(row.x1 + 0.3, 0, 1.3))
    down = row.assign(x2=np.clip(row.x2 + 0.3, 0, 1.3))
    base = predict(res.model, res.encoder, row)
    assert (predict(res.model, res.encoder, up) >= base - 1e-6).mean() > 0.9
    assert (predict(res.model, res.encoder, down) <= base + 1e-6).mean() > 0.9


def test_contributions_add_up_to_the_logit_and_the_score(toy_frame):
    res = fit_wide_deep(toy_frame.iloc[:2000], toy_frame.iloc[2000:], TOY, ("uid",), max_epochs=2, batch_size=256)
    batch = res.encoder.tensors(toy_frame.head(20))
    c = contributions(res.model, batch)
    with torch.no_grad():
        logit = res.model(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"]).numpy()
    assert np.allclose(c.logit, logit, atol=1e-5)
    prob = c.to_probability()
    assert np.allclose(prob.base + prob.values.sum(axis=1), 1 / (1 + np.exp(-logit)), atol=1e-6)
    # a feature feeding both halves gets one entry (wide share + deep share)
    assert c.names.count("x1") == 1 and set(c.names) == {"x1", "x2", "c", "uid", "d1"}
    first = prob.as_dicts()[0]
    assert BASE_KEY in first and abs(sum(first.values()) - 1 / (1 + np.exp(-logit[0]))) < 1e-3
