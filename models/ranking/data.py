"""From a feature DataFrame to the model's tensors: the encoder and the Lightning DataModule.

A *model frame* is a DataFrame with one row per (impression, candidate): the columns named by
a ``WideDeepConfig`` plus ``label`` and, for ranking metrics, a group column. ``FeatureEncoder``
maps raw ids (user id, shop id, movie id ...) to embedding rows (0 = unseen, the cold-start row)
and standardises the deep numeric columns with statistics of the training split only; it is
saved beside the weights, so serving encodes exactly as training did.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from models.ranking.model import WideDeepConfig

ArrayMap = Mapping[str, np.ndarray]
_INDEX_LOCK = threading.Lock()


@dataclass
class FeatureEncoder:
    config: WideDeepConfig
    vocab_columns: tuple[str, ...]  # deep categorical columns holding raw ids
    vocabs: dict[str, list[Any]] = field(default_factory=dict)
    dense_mean: list[float] = field(default_factory=list)
    dense_std: list[float] = field(default_factory=list)
    _index: dict[str, pd.Index] = field(default_factory=dict, repr=False)
    _scale: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    # ---- fitting -------------------------------------------------------------------------
    @classmethod
    def fit(cls, frame: pd.DataFrame, config: WideDeepConfig, vocab_columns: tuple[str, ...] = (),
            min_count: int = 1, standardize: bool = True) -> FeatureEncoder:
        """Learn id vocabularies (ids seen ``min_count`` times) and numeric scales from ``frame``.

        The config's cardinalities of ``vocab_columns`` are replaced by the vocabulary sizes + 1.
        """
        vocabs: dict[str, list[Any]] = {}
        cards = dict(config.deep_categorical)
        for col in vocab_columns:
            counts = frame[col].value_counts()
            kept = sorted(counts[counts >= min_count].index.tolist())
            vocabs[col] = kept
            cards[col] = len(kept) + 1
        config = WideDeepConfig.from_dict({**config.to_dict(), "deep_categorical": cards})
        dense = frame[list(config.deep_dense)].to_numpy(dtype=np.float64) if config.deep_dense else np.zeros((len(frame), 0))
        if standardize and len(frame):
            mean, std = dense.mean(axis=0), dense.std(axis=0)
            std = np.where(std > 1e-9, std, 1.0)
        else:
            mean, std = np.zeros(dense.shape[1]), np.ones(dense.shape[1])
        return cls(config=config, vocab_columns=tuple(vocab_columns), vocabs=vocabs,
                   dense_mean=mean.tolist(), dense_std=std.tolist())

    def _scales(self) -> tuple[np.ndarray, np.ndarray]:
        if self._scale is None:
            self._scale = (np.asarray(self.dense_mean, dtype=np.float64), np.asarray(self.dense_std, dtype=np.float64))
        return self._scale

    def index_of(self, column: str) -> pd.Index:
        idx = self._index.get(column)
        if idx is None:
            with _INDEX_LOCK:
                idx = self._index.get(column)
                if idx is None:
                    idx = pd.Index(self.vocabs[column])
                    # pandas builds an index's hash table and uniqueness flag lazily, and not thread-safely:
                    # two service threads scoring at once with a fresh model got "Reindexing only valid with
                    # uniquely valued Index objects" from a unique vocabulary. Build both before sharing it.
                    idx.get_indexer(idx[:1])
                    self._index[column] = idx
        return idx

    # ---- transforming --------------------------------------------------------------------
    def arrays(self, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Column arrays (a DataFrame or a dict of arrays) → the four model inputs as numpy."""
        cfg = self.config
        n = len(next(iter(columns.values()))) if not isinstance(columns, pd.DataFrame) else len(columns)

        def fill(names: Any, dtype: Any) -> np.ndarray:
            out = np.empty((n, len(names)), dtype=dtype)
            for j, name in enumerate(names):  # one column assignment each (scalars broadcast)
                out[:, j] = columns[name]
            return out

        wide_dense = fill(cfg.wide_dense, np.float32)
        wide_cross = fill(cfg.wide_cross, np.int64)
        deep_cat = np.empty((n, len(cfg.deep_categorical)), dtype=np.int64)
        for j, (c, card) in enumerate(cfg.deep_categorical.items()):
            if c in self.vocabs:
                values = np.asarray(columns[c])
                if values.ndim == 0:
                    values = np.full(n, values.item())
                deep_cat[:, j] = self.index_of(c).get_indexer(values) + 1
            else:
                deep_cat[:, j] = np.clip(np.asarray(columns[c], dtype=np.int64), 0, card - 1)
        if cfg.deep_dense:
            mean, std = self._scales()
            dense = ((fill(cfg.deep_dense, np.float64) - mean) / std).astype(np.float32)
        else:
            dense = np.zeros((n, 0), np.float32)
        return {"wide_dense": np.ascontiguousarray(wide_dense), "wide_cross": np.ascontiguousarray(wide_cross),
                "deep_cat": deep_cat, "deep_dense": dense}

    def tensors(self, columns: Mapping[str, Any], label: np.ndarray | None = None) -> dict[str, torch.Tensor]:
        out = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.arrays(columns).items()}
        if label is not None:
            out["label"] = torch.as_tensor(np.asarray(label, dtype=np.float32))
        return out

    # ---- persistence ---------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        def plain(values: list[Any]) -> list[Any]:
            return [v.item() if hasattr(v, "item") else v for v in values]

        return {"config": self.config.to_dict(), "vocab_columns": list(self.vocab_columns),
                "vocabs": {k: plain(v) for k, v in self.vocabs.items()},
                "dense_mean": self.dense_mean, "dense_std": self.dense_std}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        return cls(config=WideDeepConfig.from_dict(data["config"]), vocab_columns=tuple(data["vocab_columns"]),
                   vocabs={k: list(v) for k, v in data["vocabs"].items()},
                   dense_mean=list(data["dense_mean"]), dense_std=list(data["dense_std"]))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> FeatureEncoder:
        return cls.from_json(json.loads(path.read_text()))


class _Batches(Dataset):
    """Indexing with a list of rows returns a whole batch (one gather per tensor, no collation)."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        self.tensors = tensors
        self.n = len(tensors["label"])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        idx = torch.as_tensor(rows)
        return {k: v[idx] for k, v in self.tensors.items()}


class RankingDataModule(pl.LightningDataModule):
    """Train/validation model frames → batched tensors (the features come from Feast upstream).

    ``train`` and ``val`` are model frames (see the module doc); ``encoder`` is fitted on
    ``train`` when not given.
    """

    def __init__(self, train: pd.DataFrame, val: pd.DataFrame, config: WideDeepConfig,
                 vocab_columns: tuple[str, ...] = (), encoder: FeatureEncoder | None = None,
                 batch_size: int = 512, label: str = "label", seed: int = 0) -> None:
        super().__init__()
        self.train_frame, self.val_frame = train, val
        self.encoder = encoder or FeatureEncoder.fit(train, config, vocab_columns)
        self.batch_size = batch_size
        self.label = label
        self.seed = seed
        self._train: _Batches | None = None
        self._val: _Batches | None = None

    @property
    def config(self) -> WideDeepConfig:
        return self.encoder.config

    def setup(self, stage: str | None = None) -> None:
        if self._train is None:
            self._train = _Batches(self.encoder.tensors(self.train_frame, self.train_frame[self.label].to_numpy()))
            self._val = _Batches(self.encoder.tensors(self.val_frame, self.val_frame[self.label].to_numpy()))

    def _loader(self, data: _Batches, shuffle: bool) -> DataLoader:
        gen = torch.Generator().manual_seed(self.seed)
        sampler = RandomSampler(data, generator=gen) if shuffle else SequentialSampler(data)
        return DataLoader(data, batch_size=None, sampler=BatchSampler(sampler, self.batch_size, drop_last=False))

    def train_dataloader(self) -> DataLoader:
        assert self._train is not None
        return self._loader(self._train, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        assert self._val is not None
        return self._loader(self._val, shuffle=False)
