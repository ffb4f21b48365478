"""Offline ranking metrics: AUC and log loss over rows, NDCG@k and HitRate@k per impression.

An *impression* is one recommendation list shown to one user at one time (``group``); its
rows are the candidates. NDCG@k and HitRate@k are averaged over impressions that have at least
one positive (an impression nobody clicked says nothing about the order of its items).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score


def auc(y: np.ndarray, p: np.ndarray) -> float:
    y = np.asarray(y)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, p))


def logloss(y: np.ndarray, p: np.ndarray) -> float:
    return float(log_loss(np.asarray(y), np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7), labels=[0, 1]))


def _ranked(group: np.ndarray, score: np.ndarray, gain: np.ndarray, k: int) -> pd.DataFrame:
    frame = pd.DataFrame({"g": group, "s": score, "gain": gain})
    # ties broken by a fixed random order, not by row order (row order may leak the label)
    frame["tie"] = np.random.default_rng(0).random(len(frame))
    frame = frame.sort_values(["g", "s", "tie"], ascending=[True, False, True])
    frame["rank"] = frame.groupby("g").cumcount()
    return frame


def ndcg_at_k(group: np.ndarray, score: np.ndarray, gain: np.ndarray, k: int = 10) -> float:
    """Mean NDCG@k over groups with any gain; ``gain`` may be binary labels or graded relevance."""
    frame = _ranked(group, score, gain, k)
    frame["dcg"] = np.where(frame["rank"] < k, frame["gain"] / np.log2(frame["rank"] + 2), 0.0)
    dcg = frame.groupby("g")["dcg"].sum()
    ideal = pd.DataFrame({"g": group, "gain": gain}).sort_values(["g", "gain"], ascending=[True, False])
    ideal["rank"] = ideal.groupby("g").cumcount()
    ideal["idcg"] = np.where(ideal["rank"] < k, ideal["gain"] / np.log2(ideal["rank"] + 2), 0.0)
    idcg = ideal.groupby("g")["idcg"].sum()
    keep = idcg > 0
    return float((dcg[keep] / idcg[keep]).mean()) if keep.any() else float("nan")


def hit_rate_at_k(group: np.ndarray, score: np.ndarray, label: np.ndarray, k: int = 10) -> float:
    """Share of impressions with a positive whose positive is ranked in the top k."""
    frame = _ranked(group, score, label, k)
    hits = frame[frame["rank"] < k].groupby("g")["gain"].max()
    has_pos = frame.groupby("g")["gain"].max() > 0
    hits = hits.reindex(has_pos.index, fill_value=0)[has_pos]
    return float((hits > 0).mean()) if len(hits) else float("nan")


def ranking_report(group: np.ndarray, label: np.ndarray, score: np.ndarray, k: int = 10) -> dict[str, float]:
    return {
        "auc": auc(label, score),
        "logloss": logloss(label, score),
        f"ndcg@{k}": ndcg_at_k(group, score, label, k),
        f"hitrate@{k}": hit_rate_at_k(group, score, label, k),
    }


def truth_recovery(group: np.ndarray, score: np.ndarray, true_prob: np.ndarray, k: int = 10) -> dict[str, float]:
    """How well scores recover the users' hidden preferences within each impression.

    * ``true_ndcg@k``: NDCG@k with the true choice probability as graded relevance;
    * ``true_spearman``: mean rank correlation of score and true probability per impression;
    * ``true_top1``: share of impressions whose top-scored item is the truly most likely one.
    """
    frame = pd.DataFrame({"g": group, "s": score, "t": true_prob})
    ranks = frame.groupby("g")[["s", "t"]].rank()
    frame["rs"], frame["rt"] = ranks["s"], ranks["t"]

    def corr(df: pd.DataFrame) -> float:
        if df["rs"].std() == 0 or df["rt"].std() == 0:
            return np.nan
        return float(np.corrcoef(df["rs"], df["rt"])[0, 1])

    spearman = frame.groupby("g")[["rs", "rt"]].apply(corr)
    best_s = frame.loc[frame.groupby("g")["s"].idxmax(), ["g", "t"]].set_index("g")["t"]
    best_t = frame.groupby("g")["t"].max()
    return {
        f"true_ndcg@{k}": ndcg_at_k(group, score, true_prob, k),
        "true_spearman": float(np.nanmean(spearman.to_numpy())),
        "true_top1": float((best_s >= best_t.reindex(best_s.index) - 1e-12).mean()),
    }
