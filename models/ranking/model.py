"""Wide & Deep (Cheng et al., 2016) as a Lightning module.

logit = bias + wide(x) + deep(x), with

* wide: a linear model over dense engineered features plus one learned weight per value of
  each hashed cross-product feature (user segment × category, budget × time slot, ...): the
  part that memorises;
* deep: embeddings of sparse ids (user, shop, category, time slot, ...) concatenated with the
  normalised numeric features, through an MLP: the part that generalises.

The module is generic over its columns (``WideDeepConfig``), so the Naviyam features and the
MovieLens benchmark run the same code. ``mode`` trains the wide or the deep half alone for the
ablations. All sparse columns of a part share one embedding table with per-column offsets, so a
forward pass is a handful of tensor ops whatever the number of columns (serving latency).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pytorch_lightning as pl
import torch
from torch import nn
from torch.nn import functional as F

Mode = Literal["wide_deep", "wide", "deep"]


@dataclass(frozen=True)
class WideDeepConfig:
    wide_dense: tuple[str, ...]
    wide_cross: dict[str, int]  # name -> cardinality (ids in [0, cardinality))
    deep_categorical: dict[str, int]  # name -> cardinality (0 = unknown)
    deep_dense: tuple[str, ...]
    embedding_dim: int = 16
    hidden: tuple[int, ...] = (64, 32)
    dropout: float = 0.1
    learning_rate: float = 3e-3
    weight_decay: float = 1e-5
    wide_l2: float = 1e-6
    mode: Mode = "wide_deep"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["wide_dense"] = list(self.wide_dense)
        out["deep_dense"] = list(self.deep_dense)
        out["hidden"] = list(self.hidden)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WideDeepConfig:
        data = dict(data)
        for key in ("wide_dense", "deep_dense", "hidden"):
            data[key] = tuple(data[key])
        return cls(**data)

    def with_mode(self, mode: Mode) -> WideDeepConfig:
        return WideDeepConfig.from_dict({**self.to_dict(), "mode": mode})

    @property
    def uses_wide(self) -> bool:
        return self.mode in ("wide_deep", "wide")

    @property
    def uses_deep(self) -> bool:
        return self.mode in ("wide_deep", "deep")


def _offsets(cards: dict[str, int]) -> torch.Tensor:
    sizes = list(cards.values())
    return torch.tensor([0, *np.cumsum(sizes)[:-1].tolist()] if sizes else [], dtype=torch.long)


class WideDeep(pl.LightningModule):
    """Binary click/order model; ``forward`` returns logits, ``predict_proba`` probabilities."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.cfg = WideDeepConfig.from_dict(config)
        cfg = self.cfg
        self.bias = nn.Parameter(torch.zeros(1))
        # wide
        self.wide_linear = nn.Linear(len(cfg.wide_dense), 1, bias=False) if cfg.wide_dense else None
        self.register_buffer("cross_offsets", _offsets(cfg.wide_cross), persistent=True)
        n_cross = sum(cfg.wide_cross.values())
        self.cross_weight = nn.Embedding(max(n_cross, 1), 1)
        nn.init.zeros_(self.cross_weight.weight)
        if self.wide_linear is not None:
            nn.init.zeros_(self.wide_linear.weight)
        # deep
        self.register_buffer("deep_offsets", _offsets(cfg.deep_categorical), persistent=True)
        n_emb = sum(cfg.deep_categorical.values())
        self.embedding = nn.Embedding(max(n_emb, 1), cfg.embedding_dim)
        nn.init.normal_(self.embedding.weight, std=0.05)
        in_dim = len(cfg.deep_categorical) * cfg.embedding_dim + len(cfg.deep_dense)
        layers: list[nn.Module] = []
        for width in cfg.hidden:
            layers += [nn.Linear(in_dim, width), nn.ReLU(), nn.Dropout(cfg.dropout)]
            in_dim = width
        layers.append(nn.Linear(in_dim, 1))
        self.mlp = nn.Sequential(*layers)
        self._val_outputs: list[tuple[torch.Tensor, torch.Tensor]] = []

    # ---- the two halves ------------------------------------------------------------------
    def wide_logit(self, wide_dense: torch.Tensor, wide_cross: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(max(wide_dense.shape[0], wide_cross.shape[0]), device=self.bias.device)
        if self.wide_linear is not None and wide_dense.shape[1]:
            out = out + self.wide_linear(wide_dense).squeeze(-1)
        if wide_cross.shape[1]:
            out = out + self.cross_weight(wide_cross + self.cross_offsets).sum(dim=(1, 2))
        return out

    def deep_embed(self, deep_cat: torch.Tensor) -> torch.Tensor:
        """(B, n_cat * dim) concatenated embeddings."""
        if not deep_cat.shape[1]:
            return torch.zeros(deep_cat.shape[0], 0, device=self.bias.device)
        return self.embedding(deep_cat + self.deep_offsets).flatten(1)

    def deep_from_parts(self, emb: torch.Tensor, deep_dense: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([emb, deep_dense], dim=1)).squeeze(-1)

    def deep_logit(self, deep_cat: torch.Tensor, deep_dense: torch.Tensor) -> torch.Tensor:
        return self.deep_from_parts(self.deep_embed(deep_cat), deep_dense)

    def forward(self, wide_dense: torch.Tensor, wide_cross: torch.Tensor,
                deep_cat: torch.Tensor, deep_dense: torch.Tensor) -> torch.Tensor:
        logit = self.bias.expand(max(wide_dense.shape[0], deep_cat.shape[0]))
        if self.cfg.uses_wide:
            logit = logit + self.wide_logit(wide_dense, wide_cross)
        if self.cfg.uses_deep:
            logit = logit + self.deep_logit(deep_cat, deep_dense)
        return logit

    @torch.inference_mode()
    def predict_proba(self, batch: dict[str, torch.Tensor]) -> np.ndarray:
        self.eval()
        return torch.sigmoid(self(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"],
                                  batch["deep_dense"])).numpy()

    # ---- Lightning -----------------------------------------------------------------------
    def _loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logit = self(batch["wide_dense"], batch["wide_cross"], batch["deep_cat"], batch["deep_dense"])
        loss = F.binary_cross_entropy_with_logits(logit, batch["label"])
        return loss, logit

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, _ = self._loss(batch)
        if self.cfg.uses_wide and self.cfg.wide_l2 > 0:  # FTRL-like shrinkage of the memorised crosses
            loss = loss + self.cfg.wide_l2 * self.cross_weight.weight.pow(2).sum()
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=False, batch_size=len(batch["label"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, logit = self._loss(batch)
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=False, batch_size=len(batch["label"]))
        self._val_outputs.append((torch.sigmoid(logit).detach(), batch["label"].detach()))

    def on_validation_epoch_end(self) -> None:
        if not self._val_outputs:
            return
        from models.ranking.metrics import auc

        p = torch.cat([o[0] for o in self._val_outputs]).cpu().numpy()
        y = torch.cat([o[1] for o in self._val_outputs]).cpu().numpy()
        self._val_outputs.clear()
        self.log("val_auc", float(auc(y, p)), prog_bar=False)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.cfg.learning_rate, weight_decay=self.cfg.weight_decay)
