"""Tiny ranking fixtures: generated sample data and a quickly trained model, shared per session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """The dev box has 2 cores shared by several people: keep tests to one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_sample():
    from infra.sample_data.generator import build

    return build(20261125, 0.04)


@pytest.fixture(scope="session")
def tiny_prepared(tiny_sample):
    from models.ranking.train import TrainConfig, prepare

    return prepare(tiny_sample.tables, tiny_sample.truth,
                   TrainConfig(n_impressions=400, list_size=15, seed=0, label_source="simulated"))


@pytest.fixture(scope="session")
def tiny_fit(tiny_prepared):
    from models.ranking.lightning_fit import fit_wide_deep
    from models.ranking.training_set import VOCAB_COLUMNS, naviyam_config

    return fit_wide_deep(tiny_prepared.train, tiny_prepared.val, naviyam_config(), VOCAB_COLUMNS,
                         max_epochs=3, batch_size=256)


@pytest.fixture(scope="session")
def toy_frame() -> pd.DataFrame:
    """A learnable click problem: x1 helps, x2 hurts, users differ, a cross matters."""
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame({"x1": rng.random(n), "x2": rng.random(n), "c": rng.integers(0, 4, n),
                          "uid": rng.integers(0, 30, n), "d1": rng.normal(size=n)})
    user_bias = rng.normal(size=30)
    logit = 3 * frame.x1 - 2 * frame.x2 + user_bias[frame.uid] + 0.8 * (frame.c == 2) - 0.5
    frame["label"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float32)
    frame["impression_id"] = np.arange(n) // 10
    return frame
