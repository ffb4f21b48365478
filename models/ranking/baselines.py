"""Baselines Wide & Deep must beat: popularity, and logistic regression on the wide features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder

from models.ranking.model import WideDeepConfig


def popularity_scores(frame: pd.DataFrame, column: str = "popularity_score") -> np.ndarray:
    """Rank by how popular the item was when shown (a Layer 1 feature, known at event time)."""
    return frame[column].to_numpy(dtype=float)


def item_popularity(train: pd.DataFrame, item: str, label: str = "label") -> dict:
    """Positives per item in the training split (for public data without a popularity feature)."""
    return train.groupby(item)[label].sum().to_dict()


@dataclass
class WideLogistic:
    """Logistic regression on the wide part only: dense engineered features + one-hot crosses."""

    config: WideDeepConfig
    C: float = 1.0
    max_iter: int = 300

    def _design(self, frame: pd.DataFrame, fit: bool = False) -> sparse.csr_matrix:
        dense = frame[list(self.config.wide_dense)].to_numpy(dtype=float) if self.config.wide_dense else np.zeros((len(frame), 0))
        parts = [sparse.csr_matrix(dense)]
        if self.config.wide_cross:
            cross = frame[list(self.config.wide_cross)].to_numpy()
            if fit:
                self._onehot = OneHotEncoder(handle_unknown="ignore").fit(cross)
            parts.append(self._onehot.transform(cross))
        return sparse.hstack(parts).tocsr()

    def fit(self, frame: pd.DataFrame, label: str = "label") -> WideLogistic:
        self._model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self._model.fit(self._design(frame, fit=True), frame[label].to_numpy())
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self._model.predict_proba(self._design(frame))[:, 1]
