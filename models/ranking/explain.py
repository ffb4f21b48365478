"""Per-recommendation feature contributions that add up to the score.

In logit space Wide & Deep is ``bias + wide(x) + deep(x)``:

* the wide part is linear, so each dense feature contributes exactly ``w_i * x_i`` and each
  cross-product feature its learned weight;
* the deep part is split with integrated gradients (Sundararajan et al., 2017) from a baseline
  input (each embedded column at its mean embedding, each numeric at the training mean); the
  attributions are rescaled so they add up to ``deep(x) - deep(baseline)`` exactly.

So ``base + Σ contributions == logit`` per row, with ``base = bias + deep(baseline)``.
``to_probability`` maps both onto the probability scale the service shows (``_base`` + Σ ==
predicted_score), spreading ``σ(logit) - σ(base)`` over the features in proportion to their logit
contributions. Features that feed both halves (a Layer 1 score) get the sum of both shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.ranking.model import WideDeep

BASE_KEY = "_base"


@dataclass(frozen=True)
class Contributions:
    names: tuple[str, ...]
    values: np.ndarray  # (n, len(names)), logit space
    base: np.ndarray  # (n,), logit space

    @property
    def logit(self) -> np.ndarray:
        return self.base + self.values.sum(axis=1)

    def to_probability(self) -> Contributions:
        logit = self.logit
        p, p0 = 1 / (1 + np.exp(-logit)), 1 / (1 + np.exp(-self.base))
        delta = logit - self.base
        ratio = np.where(np.abs(delta) > 1e-9, (p - p0) / np.where(np.abs(delta) > 1e-9, delta, 1.0), p * (1 - p))
        return Contributions(self.names, self.values * ratio[:, None], p0)

    def as_dicts(self, digits: int = 4) -> list[dict[str, float]]:
        out = []
        for row, base in zip(self.values, self.base):
            item = {BASE_KEY: round(float(base), digits)}
            item.update({n: round(float(v), digits) for n, v in zip(self.names, row)})
            out.append(item)
        return out


def _deep_baseline(model: WideDeep, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = model.cfg
    parts = []
    weight = model.embedding.weight.detach()
    for (name, card), offset in zip(cfg.deep_categorical.items(), model.deep_offsets.tolist()):
        rows = weight[offset + 1: offset + card] if card > 1 else weight[offset: offset + 1]
        parts.append(rows.mean(dim=0))
    emb0 = torch.cat(parts) if parts else torch.zeros(0)
    return emb0.expand(n, -1), torch.zeros(n, len(cfg.deep_dense))


def contributions(model: WideDeep, batch: dict[str, torch.Tensor], steps: int = 16) -> Contributions:
    """Attributions of each row's logit to the model's input columns (see the module doc)."""
    model.eval()
    cfg = model.cfg
    n = batch["deep_cat"].shape[0]
    names: list[str] = []
    cols: list[np.ndarray] = []
    base = np.full(n, float(model.bias.detach()))
    with torch.no_grad():
        if cfg.uses_wide:
            if model.wide_linear is not None and cfg.wide_dense:
                w = model.wide_linear.weight.detach()[0]
                wide = (batch["wide_dense"] * w).numpy()
                names += list(cfg.wide_dense)
                cols += [wide[:, i] for i in range(wide.shape[1])]
            if cfg.wide_cross:
                cross = model.cross_weight(batch["wide_cross"] + model.cross_offsets).squeeze(-1).numpy()
                names += list(cfg.wide_cross)
                cols += [cross[:, i] for i in range(cross.shape[1])]
    if cfg.uses_deep:
        with torch.inference_mode(False), torch.enable_grad():
            emb = model.deep_embed(batch["deep_cat"]).detach().clone()
            dense = batch["deep_dense"].detach().clone()
            emb0, dense0 = _deep_baseline(model, n)
            alphas = (torch.arange(1, steps + 1, dtype=torch.float32) / steps).view(steps, 1, 1)
            e_path = (emb0 + alphas * (emb - emb0)).reshape(steps * n, -1).requires_grad_(True)
            d_path = (dense0 + alphas * (dense - dense0)).reshape(steps * n, -1).requires_grad_(True)
            out = model.deep_from_parts(e_path, d_path)
            g_e, g_d = torch.autograd.grad(out.sum(), [e_path, d_path])
            g_e = g_e.reshape(steps, n, -1).mean(0)
            g_d = g_d.reshape(steps, n, -1).mean(0)
            ig_e = (g_e * (emb - emb0)).reshape(n, len(cfg.deep_categorical), -1).sum(-1)
            ig_d = g_d * (dense - dense0)
            f_x = model.deep_from_parts(emb, dense).detach()
            f_0 = model.deep_from_parts(emb0, dense0).detach()
        ig = torch.cat([ig_e, ig_d], dim=1).detach().numpy().astype(np.float64)
        target = (f_x - f_0).numpy().astype(np.float64)
        total = ig.sum(axis=1)
        # completeness holds up to the Riemann error; fix the residual proportionally (or evenly)
        scale = np.where(np.abs(total) > 1e-9, target / np.where(np.abs(total) > 1e-9, total, 1.0), 1.0)
        ig = ig * scale[:, None]
        even = np.abs(total) <= 1e-9
        if even.any():
            ig[even] = (target[even] / ig.shape[1])[:, None]
        base = base + f_0.numpy()
        deep_names = list(cfg.deep_categorical) + list(cfg.deep_dense)
        for j, name in enumerate(deep_names):
            if name in names:
                cols[names.index(name)] = cols[names.index(name)] + ig[:, j]
            else:
                names.append(name)
                cols.append(ig[:, j])
    values = np.stack(cols, axis=1).astype(np.float64) if cols else np.zeros((n, 0))
    return Contributions(tuple(names), values, base)
