"""Which ranker serves: the servable candidates a training run fits, and the rule that picks one.

Every training run (the bootstrap on orders, ``train.py``; the nightly retrain on the logs,
``retrain.py``) fits the same two servable models on the same split, both early-stopped on the
validation part and saved in the same bundle format, so the service loads either:

* ``wide_deep``: Wide&Deep;
* ``logistic_wide``: its wide half alone, i.e. a logistic regression on the wide features.

The one with the better validation AUC is registered (the validation part already chose each one's
epochs). It becomes ``champion`` only when it also beats popularity (the baseline no model may lose
to) and the current champion on the holdout; ``challenger`` (the A/B arm) when it beats popularity
only; nothing otherwise. The holdout is the newest part of the split and decides nothing but that
promotion: not the epochs, not which of the two models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from infra.vocabulary import CHALLENGER, CHAMPION
from models.ranking.lightning_fit import FitResult, fit_wide_deep, predict
from models.ranking.metrics import auc
from models.ranking.model import WideDeepConfig
from models.ranking.training_set import VOCAB_COLUMNS

SERVABLE = ("wide_deep", "logistic_wide")
BASELINE = "popularity"
Log = Callable[[dict[str, float], int], None]


def fit_servable(train: pd.DataFrame, val: pd.DataFrame, test: pd.DataFrame, config: WideDeepConfig, *,
                 max_epochs: int, batch_size: int, patience: int, seed: int,
                 log_metrics: Log | None = None) -> tuple[dict[str, FitResult], dict[str, Any], dict[str, float]]:
    """(kind → fitted model, kind → holdout scores, kind → validation AUC) for every servable kind."""
    fits, scores, val_auc = {}, {}, {}
    for kind in SERVABLE:
        callback = None
        if log_metrics is not None:
            callback = (lambda epoch, m, kind=kind: log_metrics(
                {(k if kind == "wide_deep" else f"{kind}_{k}"): v for k, v in m.items()}, epoch))
        fits[kind] = fit_wide_deep(train, val, config if kind == "wide_deep" else config.with_mode("wide"),
                                   VOCAB_COLUMNS, max_epochs=max_epochs, batch_size=batch_size, patience=patience,
                                   seed=seed, epoch_callback=callback)
        scores[kind] = predict(fits[kind].model, fits[kind].encoder, test)
        val_auc[kind] = auc(val["label"].to_numpy(), predict(fits[kind].model, fits[kind].encoder, val))
    return fits, scores, val_auc


def choose(val_auc: dict[str, float], holdout: dict[str, dict[str, float]],
           champion: dict[str, Any] | None) -> tuple[str, str, bool]:
    """(the servable model with the best validation AUC, why, whether it beats the champion on the
    holdout). The champion is scored on the same holdout by the caller."""
    kind = max(SERVABLE, key=lambda k: val_auc[k])
    others = ", ".join(f"{m} {v['auc']:.4f}" for m, v in holdout.items() if m != kind)
    picked = ", ".join(f"{k} {val_auc[k]:.4f}" for k in SERVABLE)
    why = (f"validation AUC {picked}; holdout AUC {holdout[kind]['auc']:.4f} vs {others}"
           + (f", champion v{champion['version']} {champion['auc']:.4f}" if champion else " (no champion)"))
    return kind, why, champion is None or holdout[kind]["auc"] > champion["auc"]


def promotion(kind: str, holdout: dict[str, dict[str, float]], why: str, beats_champion: bool, *,
              allowed: bool = True, challenger_only: bool = False,
              challenger: bool = True) -> tuple[str | None, str]:
    """(the alias the chosen model gets, or None; the decision in words). ``allowed=False``: register
    only (a placebo, a dry run). ``challenger_only``: an operator asked for an A/B arm, which the A/B
    test judges, so it becomes the challenger whatever the offline figures say. ``challenger=False``:
    a model that beats popularity but not the champion gets no alias (no A/B arm is wanted)."""
    beats_baseline = holdout[kind]["auc"] > holdout[BASELINE]["auc"]
    if allowed and challenger_only:
        return CHALLENGER, f"challenger ({kind}, asked for an A/B arm): {why}"
    if allowed and beats_baseline and beats_champion:
        return CHAMPION, f"champion ({kind}): {why}"
    if allowed and beats_baseline and challenger:
        return CHALLENGER, f"challenger ({kind}, does not beat the champion): {why}"
    reason = ("registration only" if not allowed else f"does not beat {BASELINE}" if not beats_baseline
              else "does not beat the champion")
    return None, f"not promoted ({kind}, {reason}): {why}"
