"""The LoRA two-tower recommender at serving time: a bundle on disk, one query embedding per turn.

Bundle layout (the MLflow model's ``bundle`` artifact)::

    adapter/        peft's save_pretrained of the query side's LoRA adapter (config + safetensors);
                    absent when the query tower was trained frozen (``LoraRecConfig.adapt_query=False``)
    shops.npz       shop_ids (sorted), vectors (L2-normalised base-e5 passage vectors), shop_bias
    head.json       scale, centre and bias of the score, the side head's weights, the text format,
                    the LoRA settings, the metrics

score(request, shop) = σ(scale · (cos(q, v_shop) − centre) + shop_bias[shop] + w · side + bias),
where q is the adapted query tower's embedding of ``texts.query_text``, v_shop the frozen shop
vector and ``side`` a few of the candidate's features (``SIDE_FEATURES``, the contract's names, as
the service computes them for every ranker). A shop the bundle does not know (added since the
night's run) gets no text term and no prior.

The query tower runs on ``models.embedding.e5_torch.E5TorchRuntime`` with the adapter folded into
its weights (W + alpha/r · B @ A on each adapted matrix, what peft's ``merge_and_unload`` computes),
so serving needs neither transformers nor peft: one short torch forward pass per turn, skipped when
the same sentence was embedded recently (an in-process LRU: many children say the same thing at the
same time of day with the same habits).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from infra.memory_cache import LRUCache
from models.ranking.two_tower.texts import TEXT_VERSION

REGISTERED_LORA = "naviyam-lora-recommender"
QUERY_CACHE_SIZE = 4096
#: the candidate features the side head reads (``infra.feature_contract`` names): the request's
#: context (time, money, the child's usual food) and what a sentence cannot say about a shop.
SIDE_FEATURES: tuple[str, ...] = ("popularity_score", "distance_penalty", "budget_compatibility", "visited_before",
                                  "shop_rating_normalized", "time_preference_match", "category_preference_match")
BUNDLE_MARKER = "head.json"
ADAPTED = {"query": "q", "value": "v", "key": "k", "dense": "ao"}  # peft module name → e5 file's tensor
_LORA_KEY = re.compile(r"layer\.(\d+)\.attention\.(?:self\.)?(query|key|value|output\.dense)\.lora_([AB])\.weight$")


def adapter_deltas(adapter_dir: Path) -> dict[str, np.ndarray]:
    """``{"l3.q.w": scaling · B @ A, ...}`` from a peft LoRA adapter folder (safetensors + config)."""
    from safetensors.numpy import load_file  # noqa: PLC0415

    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    rank = int(config["r"])
    scaling = float(config["lora_alpha"]) / (rank ** 0.5 if config.get("use_rslora") else rank)
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    pairs: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for key, value in weights.items():
        m = _LORA_KEY.search(key)
        if m is None:
            raise ValueError(f"{adapter_dir}: unexpected adapter tensor {key}")
        module = "dense" if m.group(2) == "output.dense" else m.group(2)
        pairs.setdefault((int(m.group(1)), ADAPTED[module]), {})[m.group(3)] = value.astype(np.float32)
    return {f"l{layer}.{short}.w": scaling * (ab["B"] @ ab["A"]) for (layer, short), ab in pairs.items()}


@dataclass
class ShopVectors:
    shop_ids: np.ndarray  # (n,) int64, sorted
    vectors: np.ndarray  # (n, d) float32, L2-normalised
    bias: np.ndarray  # (n,) float32, learned per-shop bias (logit)

    def positions(self, shop_ids: np.ndarray) -> np.ndarray:
        """Index of each shop in ``shop_ids``; -1 when unknown."""
        ids = np.asarray(shop_ids, dtype=np.int64)
        if not len(self.shop_ids):
            return np.full(len(ids), -1)
        pos = np.clip(np.searchsorted(self.shop_ids, ids), 0, len(self.shop_ids) - 1)
        return np.where(self.shop_ids[pos] == ids, pos, -1)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, shop_ids=self.shop_ids, vectors=self.vectors, bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> ShopVectors:
        z = np.load(path)
        return cls(z["shop_ids"].astype(np.int64), z["vectors"].astype(np.float32), z["bias"].astype(np.float32))


@dataclass
class Scored:
    probabilities: np.ndarray
    text_match: np.ndarray  # scale · (cos − centre), logit
    shop_prior: np.ndarray  # the shop's learned bias, logit
    side: np.ndarray  # (n, len(SIDE_FEATURES)) each side feature's logit contribution


def side_matrix(rows: Any, n: int) -> np.ndarray:
    """(n, len(SIDE_FEATURES)) from per-candidate mappings (missing or NaN → 0), or an array as is."""
    if rows is None:
        return np.zeros((n, len(SIDE_FEATURES)), np.float32)
    if isinstance(rows, np.ndarray):
        return np.nan_to_num(rows.astype(np.float32))
    out = np.array([[float(r.get(name) or 0.0) for name in SIDE_FEATURES] for r in rows], dtype=np.float32)
    return np.nan_to_num(out).reshape(n, len(SIDE_FEATURES))


class TwoTowerRecommender:
    """Loads a bundle; ``score(query_text, shop_ids)`` → probabilities and their two logit parts."""

    def __init__(self, folder: Path | str, num_threads: int | None = 1) -> None:
        from models.embedding.e5_torch import E5TorchRuntime  # noqa: PLC0415

        folder = Path(folder)
        self.head = json.loads((folder / BUNDLE_MARKER).read_text(encoding="utf-8"))
        if self.head.get("text_version") != TEXT_VERSION:
            raise ValueError(f"{folder}: trained on query format {self.head.get('text_version')!r}, "
                             f"this code writes {TEXT_VERSION!r}")
        self.shops = ShopVectors.load(folder / "shops.npz")
        self.scale, self.bias = float(self.head["scale"]), float(self.head["bias"])
        self.center = float(self.head.get("center", 0.0))
        self.side_weights = np.array([float(self.head.get("side", {}).get(n, 0.0)) for n in SIDE_FEATURES],
                                     dtype=np.float32)
        self.version = str(self.head.get("version", "?"))
        adapter = folder / "adapter"  # absent: a frozen query tower (the ablation), the base e5 as it is
        self.runtime = E5TorchRuntime(num_threads=num_threads, deltas=adapter_deltas(adapter) if adapter.exists() else {})
        self.cache = LRUCache(QUERY_CACHE_SIZE)

    def query_vectors(self, texts: list[str]) -> np.ndarray:
        from models.nlu.lora_model import PREFIX  # noqa: PLC0415

        raw = self.runtime.embed(texts, prefix=PREFIX)
        return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)

    def query_vector(self, text: str) -> np.ndarray:
        vector = self.cache.get(text)
        if vector is None:
            vector = self.query_vectors([text])[0]
            self.cache.set(text, vector)
        return vector

    def score_vector(self, query: np.ndarray, shop_ids: Any, side: Any = None) -> Scored:
        pos = self.shops.positions(np.asarray(shop_ids, dtype=np.int64))
        known = pos >= 0
        safe = np.where(known, pos, 0)
        text_match = np.where(known, self.scale * (self.shops.vectors[safe] @ query - self.center), 0.0)
        prior = np.where(known, self.shops.bias[safe], 0.0)
        side_parts = side_matrix(side, len(pos)) * self.side_weights
        logit = text_match + prior + side_parts.sum(axis=1) + self.bias
        return Scored(1.0 / (1.0 + np.exp(-logit)), text_match, prior, side_parts)

    def score(self, query_text: str, shop_ids: Any, side: Any = None) -> Scored:
        """``side``: per-candidate mappings with the ``SIDE_FEATURES`` (or their matrix); None: zeros."""
        return self.score_vector(self.query_vector(query_text), shop_ids, side)


def load_recommender(alias: str, name: str = REGISTERED_LORA,
                     num_threads: int | None = 1) -> TwoTowerRecommender | None:
    """The registered LoRA recommender behind ``alias`` (MLflow registry); None when no version has it."""
    from models.ranking.scorer import resolve_model_dir  # noqa: PLC0415
    from models.tracking import get_alias  # noqa: PLC0415

    version = get_alias(name, alias)
    if version is None:
        return None
    model = TwoTowerRecommender(resolve_model_dir(alias, name, marker=BUNDLE_MARKER), num_threads=num_threads)
    model.head.update({"alias": alias, "registered_model": name, "model_version": str(version.version)})
    return model
