"""Fitting the LoRA two-tower recommender: a LightningModule and a LightningDataModule.

A training example is one logged list: what the child said, the shops shown, their side
features, and whether the child ordered each (the same label, rows and IPS resampling as the
Wide&Deep retrain). One forward pass of the query tower per list, a dot product per shown shop,
binary cross-entropy per shop. What learns: the LoRA adapters on e5's attention query/value
projections (peft), the score's scale and bias, one bias per shop (L2-penalised, so a shop with few
impressions stays near zero) and a linear head over a few candidate features
(``tower.SIDE_FEATURES``: what text cannot say, such as distance or how well the price fits). The
shop vectors are frozen: they are the retrieval index's, computed offline.

e5's cosines sit in a narrow, high band (a query is fairly close to any Korean passage), so the
cosine is centred on its mean over the training pairs before the base model is adapted, and its
scale starts at 20: the text term then starts near zero and can move a logit by a few units.

Early stopping on the validation lists' loss (their AUC is logged too); the best epoch's weights
are kept.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.ranking.metrics import auc
from models.ranking.two_tower.texts import TEXT_VERSION
from models.ranking.two_tower.tower import BUNDLE_MARKER, SIDE_FEATURES, ShopVectors

Log = Callable[[dict[str, float], int], None]


@dataclass
class LoraRecConfig:
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    learning_rate: float = 5e-4  # the adapters
    head_learning_rate: float = 2e-2  # scale, bias and the per-shop biases: fresh, they move faster
    shop_bias_l2: float = 1e-3
    batch_lists: int = 32
    max_epochs: int = 3
    patience: int = 1
    max_length: int = 512  # e5's limit, where the serving runtime cuts too: a long message is read the same way
    max_train_lists: int = 4000  # the newest lists beyond this are used; bounds a night's CPU time
    seed: int = 0
    adapt_query: bool = True  # False: the base e5 frozen, only the heads learn (the ablation: what LoRA adds)


@dataclass
class RequestList:
    query: str
    shop_ids: np.ndarray  # int64
    labels: np.ndarray  # float32, 1 = ordered
    side: np.ndarray | None = None  # (n, len(SIDE_FEATURES)) float32; None: zeros
    impression_id: str = ""

    def side_matrix(self) -> np.ndarray:
        return self.side if self.side is not None else np.zeros((len(self.shop_ids), len(SIDE_FEATURES)), np.float32)


@dataclass
class TwoTowerFit:
    net: Any
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    train_seconds: float = 0.0
    trainable_params: int = 0
    total_params: int = 0


INITIAL_SCALE = 20.0


def build_net(encoder, shops: ShopVectors, base_rate: float):
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    from models.nlu.lora_model import mean_pool  # noqa: PLC0415

    n, dim = shops.vectors.shape
    rate = min(max(base_rate, 1e-4), 1 - 1e-4)

    class TwoTowerNet(nn.Module):
        """Adapted query tower · frozen shop vectors · per-shop bias (row ``n``: an unknown shop, 0) ·
        linear side head. ``center`` is set by ``fit_two_tower`` before training."""

        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.register_buffer("vectors", torch.cat([torch.from_numpy(shops.vectors), torch.zeros(1, dim)]))
            self.register_buffer("center", torch.tensor(0.0))
            self.shop_bias = nn.Parameter(torch.zeros(n + 1))
            self.side = nn.Parameter(torch.zeros(len(SIDE_FEATURES)))
            self.scale = nn.Parameter(torch.tensor(INITIAL_SCALE))
            self.bias = nn.Parameter(torch.tensor(math.log(rate / (1 - rate))))
            self.unknown = n

        def query(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)

        def cosines(self, input_ids, attention_mask, owner, shop_pos):
            return (self.query(input_ids, attention_mask)[owner] * self.vectors[shop_pos]).sum(-1)

        def forward(self, input_ids, attention_mask, owner, shop_pos, side):
            cos = self.cosines(input_ids, attention_mask, owner, shop_pos)
            unknown = shop_pos == self.unknown  # a shop without a vector: no text term, no prior
            text = torch.where(unknown, torch.zeros_like(cos), self.scale * (cos - self.center))
            prior = torch.where(unknown, torch.zeros_like(cos), self.shop_bias[shop_pos])
            return text + prior + side @ self.side + self.bias

        def head_parameters(self):
            return [self.shop_bias, self.side, self.scale, self.bias]

    return TwoTowerNet()


def _lightning_parts(net, batcher, shops: ShopVectors, train: list[RequestList], val: list[RequestList],
                     cfg: LoraRecConfig, log_metrics: Log | None):
    import pytorch_lightning as pl  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch.utils.data import DataLoader  # noqa: PLC0415

    unknown = len(shops.shop_ids)

    def collate(batch: list[RequestList]):
        ids, mask = batcher([b.query for b in batch])
        owner = torch.cat([torch.full((len(b.shop_ids),), i, dtype=torch.long) for i, b in enumerate(batch)])
        pos = shops.positions(np.concatenate([b.shop_ids for b in batch]))
        shop_pos = torch.from_numpy(np.where(pos >= 0, pos, unknown).astype(np.int64))
        labels = torch.from_numpy(np.concatenate([b.labels for b in batch]).astype(np.float32))
        side = torch.from_numpy(np.concatenate([b.side_matrix() for b in batch]).astype(np.float32))
        return ids, mask, owner, shop_pos, side, labels

    class LoggedListsData(pl.LightningDataModule):
        """The logged lists of the time split: the oldest train, the next validate."""

        def train_dataloader(self):
            return DataLoader(train, batch_size=cfg.batch_lists, shuffle=True, collate_fn=collate,
                              generator=torch.Generator().manual_seed(cfg.seed))

        def val_dataloader(self):
            return DataLoader(val, batch_size=64, shuffle=False, collate_fn=collate)

    class TwoTowerModule(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = net
            self.loss = torch.nn.BCEWithLogitsLoss()
            self.history: list[dict[str, float]] = []
            self._train: list[tuple[float, int]] = []
            self._val: list[tuple[np.ndarray, np.ndarray]] = []
            self.best: dict[str, Any] = {"val_loss": math.inf, "epoch": 0, "state": None}

        def training_step(self, batch, _idx):
            ids, mask, owner, shop_pos, side, labels = batch
            loss = self.loss(self.net(ids, mask, owner, shop_pos, side), labels)
            penalty = cfg.shop_bias_l2 * (self.net.shop_bias ** 2).sum()
            self._train.append((float(loss.detach()), len(labels)))
            return loss + penalty

        def validation_step(self, batch, _idx):
            ids, mask, owner, shop_pos, side, labels = batch
            self._val.append((self.net(ids, mask, owner, shop_pos, side).float().numpy(), labels.numpy()))

        def on_validation_epoch_end(self):
            if not self._val or self.trainer.sanity_checking:
                self._val.clear()
                return
            logits = np.concatenate([v[0] for v in self._val])
            labels = np.concatenate([v[1] for v in self._val])
            self._val.clear()
            p = 1.0 / (1.0 + np.exp(-logits))
            val_loss = float(-np.mean(labels * np.log(p + 1e-9) + (1 - labels) * np.log(1 - p + 1e-9)))
            rows = sum(n for _, n in self._train) or 1
            train_loss = sum(v * n for v, n in self._train) / rows
            self._train.clear()
            epoch = int(self.current_epoch) + 1
            metrics = {"train_loss": train_loss, "val_loss": val_loss, "val_auc": float(auc(labels, logits)),
                       "scale": float(self.net.scale.detach())}
            self.history.append({"epoch": epoch, **metrics})
            self.log("val_loss", val_loss)
            if log_metrics is not None:
                log_metrics(metrics, epoch)
            if val_loss < self.best["val_loss"]:
                trainable = {k: v.detach().clone() for k, v in self.net.named_parameters() if v.requires_grad}
                self.best = {"val_loss": val_loss, "epoch": epoch, "state": trainable}

        def configure_optimizers(self):
            head = self.net.head_parameters()
            head_ids = {id(p) for p in head}
            adapters = [p for p in self.net.parameters() if p.requires_grad and id(p) not in head_ids]
            groups = [{"params": head, "lr": cfg.head_learning_rate, "weight_decay": 0.0}]
            if adapters:  # none when the query tower is frozen
                groups.append({"params": adapters, "lr": cfg.learning_rate, "weight_decay": 0.01})
            return torch.optim.AdamW(groups)

    return LoggedListsData(), TwoTowerModule(), collate


def fit_two_tower(train: list[RequestList], val: list[RequestList], shops: ShopVectors, cfg: LoraRecConfig,
                  *, log_metrics: Log | None = None) -> TwoTowerFit:
    """Adapt the query tower on ``train``, early-stopped on ``val``; the best epoch's weights."""
    import pytorch_lightning as pl  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from pytorch_lightning.callbacks import EarlyStopping  # noqa: PLC0415

    from models.nlu.e5_weights import load_e5_encoder, load_tokenizer  # noqa: PLC0415
    from models.nlu.lora import wrap_lora  # noqa: PLC0415
    from models.nlu.lora_model import Batcher  # noqa: PLC0415

    torch.manual_seed(cfg.seed)
    train = train[-cfg.max_train_lists:]
    labels = np.concatenate([r.labels for r in train]) if train else np.zeros(0)
    encoder = load_e5_encoder()
    if cfg.adapt_query:
        encoder = wrap_lora(encoder, cfg.rank, cfg.alpha, cfg.dropout)
    else:
        encoder.requires_grad_(False)
    net = build_net(encoder, shops, float(labels.mean()) if len(labels) else 0.1)
    data, module, collate = _lightning_parts(net, Batcher(load_tokenizer(), cfg.max_length), shops, train, val, cfg,
                                             log_metrics)
    net.center.fill_(_mean_cosine(net, collate, train))
    trainer = pl.Trainer(max_epochs=cfg.max_epochs, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, deterministic=False,
                         callbacks=[EarlyStopping("val_loss", patience=cfg.patience, mode="min")])
    started = time.perf_counter()
    trainer.fit(module, datamodule=data)
    seconds = time.perf_counter() - started
    best = module.best
    if best["state"] is not None:
        with torch.no_grad():
            params = dict(net.named_parameters())
            for name, value in best["state"].items():
                params[name].copy_(value)
    net.eval()
    return TwoTowerFit(net=net, history=module.history, best_epoch=int(best["epoch"]),
                       best_val_loss=float(best["val_loss"]), train_seconds=seconds,
                       trainable_params=sum(p.numel() for p in net.parameters() if p.requires_grad),
                       total_params=sum(p.numel() for p in net.parameters()))


def _mean_cosine(net, collate, lists: list[RequestList], sample: int = 256) -> float:
    """Mean query-shop cosine of the base model over (up to ``sample``) training lists."""
    import torch  # noqa: PLC0415

    net.eval()
    values = []
    with torch.no_grad():
        for i in range(0, min(sample, len(lists)), 64):
            ids, mask, owner, shop_pos, _side, _labels = collate(lists[i:i + 64])
            known = shop_pos != net.unknown
            values.append(net.cosines(ids, mask, owner, shop_pos)[known])
    net.train()
    joined = torch.cat(values) if values else torch.zeros(0)
    return float(joined.mean()) if len(joined) else 0.0


def save_bundle(folder: Path | str, fit: TwoTowerFit, shops: ShopVectors, head: dict[str, Any]) -> Path:
    """The bundle ``tower.TwoTowerRecommender`` loads (adapter, shop vectors with the learned biases, head)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if hasattr(fit.net.encoder, "peft_config"):  # a frozen query tower has no adapter: the base e5 serves
        fit.net.encoder.save_pretrained(str(folder / "adapter"))
    bias = fit.net.shop_bias.detach().numpy()[: len(shops.shop_ids)].astype(np.float32)
    ShopVectors(shops.shop_ids, shops.vectors, bias).save(folder / "shops.npz")
    head = {**head, "scale": float(fit.net.scale.detach()), "bias": float(fit.net.bias.detach()),
            "center": float(fit.net.center), "text_version": TEXT_VERSION,
            "side": dict(zip(SIDE_FEATURES, (float(w) for w in fit.net.side.detach().numpy())))}
    (folder / BUNDLE_MARKER).write_text(json.dumps(head, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return folder

