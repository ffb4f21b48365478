"""Layer 1 similarity scores (the spec's collaborative_score and content_score) that need more than one row of features.

* ``CoOrderIndex`` — collaborative_score: item-item cosine similarity of shops over who ordered
  from them (co-order data); a user's score for a shop is the mean similarity between that shop
  and the user's recent shops. Fitted on the training window's visits and saved with the model.
* ``ContentIndex`` — content_score: cosine between the user's taste vector (mean text
  embedding of their recent shops) and each shop's text embedding, when shop embeddings exist
  (models.embedding / models.retrieval); otherwise ``features.interaction_columns`` uses the
  category match.

contextual_score and popularity_score are per-row and live in ``features``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass
class CoOrderIndex:
    shop_ids: np.ndarray  # (n,) shop id of each row/column
    similarity: np.ndarray  # (n, n) float32 cosine, zero diagonal

    @classmethod
    def fit(cls, visits: pd.DataFrame, shrinkage: float = 5.0) -> CoOrderIndex:
        """Cosine over binary user×shop incidence, shrunk towards 0 for rarely co-ordered pairs."""
        pairs = visits[["user_id", "shop_id"]].drop_duplicates()
        shop_ids = np.sort(pairs["shop_id"].unique())
        users = pd.Index(np.sort(pairs["user_id"].unique()))
        rows = users.get_indexer(pairs["user_id"])
        cols = np.searchsorted(shop_ids, pairs["shop_id"].to_numpy())
        m = sparse.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(users), len(shop_ids)))
        co = (m.T @ m).toarray()
        counts = np.diag(co).copy()
        norm = np.sqrt(np.outer(counts, counts))
        sim = np.where(norm > 0, co / np.maximum(norm, 1e-9), 0.0) * (co / np.maximum(co + shrinkage, 1e-9))
        np.fill_diagonal(sim, 0.0)
        return cls(shop_ids=shop_ids.astype(np.int64), similarity=sim.astype(np.float32))

    def positions(self, shop_ids: np.ndarray) -> np.ndarray:
        """Row of each shop id, -1 if unknown."""
        shop_ids = np.asarray(shop_ids, dtype=np.int64)
        pos = np.searchsorted(self.shop_ids, shop_ids)
        pos = np.clip(pos, 0, max(len(self.shop_ids) - 1, 0))
        ok = (len(self.shop_ids) > 0) & (self.shop_ids[pos] == shop_ids) if len(self.shop_ids) else np.zeros(len(shop_ids), bool)
        return np.where(ok, pos, -1)

    def score(self, history: np.ndarray, shop_ids: np.ndarray) -> np.ndarray:
        """Mean similarity of each shop to the shops of its row's history.

        ``history``: (n, L) shop ids padded with -1 (or (L,) for one user, broadcast).
        """
        shop_ids = np.asarray(shop_ids, dtype=np.int64)
        history = np.asarray(history, dtype=np.int64)
        if history.ndim == 1:
            history = np.broadcast_to(history, (len(shop_ids), len(history)))
        if history.shape[1] == 0 or len(self.shop_ids) == 0:
            return np.zeros(len(shop_ids))
        hp = self.positions(history.reshape(-1)).reshape(history.shape)
        sp = self.positions(shop_ids)
        valid = (hp >= 0) & (sp[:, None] >= 0)
        sims = self.similarity[np.where(sp >= 0, sp, 0)[:, None], np.where(hp >= 0, hp, 0)]
        total = np.where(valid, sims, 0.0).sum(axis=1)
        count = valid.sum(axis=1)
        raw = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        return np.clip(raw * 4.0, 0.0, 1.0)  # mean cosines are small; spread them over [0, 1]

    def save(self, path: Path) -> None:
        np.savez_compressed(path, shop_ids=self.shop_ids, similarity=self.similarity)

    @classmethod
    def load(cls, path: Path) -> CoOrderIndex:
        with np.load(path) as data:
            return cls(shop_ids=data["shop_ids"], similarity=data["similarity"])


def pad_history(values: Sequence[Sequence[int] | None], width: int = 10) -> np.ndarray:
    """List-valued ``recent_shop_ids`` → (n, width) int matrix padded with -1."""
    out = np.full((len(values), width), -1, dtype=np.int64)
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple, np.ndarray)) and len(v):
            v = list(v)[:width]
            out[i, :len(v)] = v
    return out


@dataclass
class ContentIndex:
    """Text embeddings of the shops (the retrieval documents, embedded as passages)."""

    shop_ids: np.ndarray  # (n,) sorted
    vectors: np.ndarray  # (n, d) float32, L2-normalised
    model: str = ""

    @classmethod
    def from_tables(cls, shops: pd.DataFrame, menus: pd.DataFrame, embedder: object | None = None) -> ContentIndex:
        """Embed every shop's retrieval document (``models.retrieval.documents.build_shop_doc``) with
        its menu summary: the content a taste is made of is what a shop sells as much as what it says."""
        from models.embedding import get_embedder
        from models.retrieval.documents import build_shop_doc

        embedder = embedder or get_embedder()
        by_shop = {sid: g.to_dict("records") for sid, g in menus.groupby("shop_id")}
        rows = shops.sort_values("id").to_dict("records")
        docs = [build_shop_doc(r, by_shop.get(r["id"], [])) for r in rows]
        texts = [". ".join(t for t in (d.text, d.extra_texts["menu_summary"]) if t) for d in docs]
        vectors = np.asarray(embedder.embed_passages(texts), dtype=np.float32)  # type: ignore[attr-defined]
        return cls(shop_ids=np.array([int(r["id"]) for r in rows], dtype=np.int64), vectors=vectors,
                   model=str(getattr(embedder, "name", "")))

    def score(self, history: np.ndarray, shop_ids: np.ndarray) -> np.ndarray:
        """(1 + cosine) / 2 between each shop and the mean vector of its row's history; NaN without history."""
        shop_ids = np.asarray(shop_ids, dtype=np.int64)
        history = np.asarray(history, dtype=np.int64)
        if history.ndim == 1:
            history = np.broadcast_to(history, (len(shop_ids), len(history)))
        index = CoOrderIndex(self.shop_ids, np.zeros((0, 0), np.float32))
        hp = index.positions(history.reshape(-1)).reshape(history.shape)
        sp = index.positions(shop_ids)
        valid = (hp >= 0).astype(np.float32)
        profile = (self.vectors[np.where(hp >= 0, hp, 0)] * valid[..., None]).sum(axis=1)
        count = valid.sum(axis=1)
        norm = np.linalg.norm(profile, axis=1)
        cand = self.vectors[np.where(sp >= 0, sp, 0)]
        cos = (profile * cand).sum(axis=1) / np.maximum(norm, 1e-9)
        return np.where((count > 0) & (sp >= 0) & (norm > 0), (1.0 + cos) / 2.0, np.nan)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, shop_ids=self.shop_ids, vectors=self.vectors, model=np.array(self.model))

    @classmethod
    def load(cls, path: Path) -> ContentIndex:
        with np.load(path) as data:
            return cls(shop_ids=data["shop_ids"], vectors=data["vectors"], model=str(data["model"]))


def save_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False))
