"""The trained intent classifier: character n-gram TF-IDF + logistic regression, calibrated.

Character n-grams (``char_wb``, 1–4) read Korean without a tokenizer and survive dropped spaces,
typos and slang; the calibrated probabilities are what the hybrid decision and the reported
confidence stand on. Optionally an e5 head (logistic regression on the 384-d multilingual-e5
query embedding) is trained beside it; ``predict_proba`` averages it in only when the caller
passes a precomputed embedding (the chat service shares one embedding between NLU and retrieval).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.nlu.labels import INTENT_VALUES

MODEL_FILENAME = "intent_classifier.joblib"


@dataclass
class FastCalibratedLinear:
    """The fitted CalibratedClassifierCV(LogisticRegression, sigmoid) flattened into numpy arrays.

    Same numbers as ``CalibratedClassifierCV.predict_proba`` (a unit test checks it) at a small
    fraction of the cost: one sparse product for all folds instead of 3 estimators × 9 per-class
    calibrators, each with sklearn's input validation (≈6 ms → ≈0.1 ms per utterance)."""

    classes: np.ndarray        # (k,)
    coef: np.ndarray           # (folds*k, n_features)
    intercept: np.ndarray      # (folds*k,)
    a: np.ndarray              # (folds, k) sigmoid slopes
    b: np.ndarray              # (folds, k) sigmoid offsets
    folds: int

    @classmethod
    def from_calibrated(cls, calibrated) -> FastCalibratedLinear:
        coefs, intercepts, a, b = [], [], [], []
        classes = np.asarray(calibrated.classes_)
        for cc in calibrated.calibrated_classifiers_:
            est = cc.estimator
            if list(est.classes_) != list(classes) or calibrated.method != "sigmoid":
                raise ValueError("fast path needs every fold to know every class (sigmoid calibration)")
            coefs.append(est.coef_)
            intercepts.append(est.intercept_)
            a.append([c.a_ for c in cc.calibrators])
            b.append([c.b_ for c in cc.calibrators])
        return cls(classes, np.vstack(coefs), np.concatenate(intercepts), np.asarray(a, dtype=np.float64),
                   np.asarray(b, dtype=np.float64), len(coefs))

    def predict_proba(self, X) -> np.ndarray:
        k = len(self.classes)
        scores = np.asarray(X @ self.coef.T) + self.intercept          # (n, folds*k)
        scores = scores.reshape(X.shape[0], self.folds, k)
        proba = 1.0 / (1.0 + np.exp(self.a * scores + self.b))          # expit(-(a*T + b))
        denom = proba.sum(axis=2, keepdims=True)
        proba = np.divide(proba, denom, out=np.full_like(proba, 1.0 / k), where=denom != 0)
        return proba.mean(axis=1)


@dataclass
class IntentClassifier:
    """A fitted char n-gram pipeline (+ optional e5 head) and its metadata."""

    pipeline: object                       # sklearn Pipeline(TfidfVectorizer, CalibratedClassifierCV)
    labels: list[str]
    version: str
    params: dict = field(default_factory=dict)
    e5_head: object | None = None          # CalibratedClassifierCV over e5 embeddings
    e5_weight: float = 0.5
    hybrid_calibrator: object | None = None  # IsotonicRegression: hybrid raw score → P(correct)
    metrics: dict = field(default_factory=dict)
    kind: str = "char_ngram_lr"
    fast: FastCalibratedLinear | None = None

    def compile(self) -> IntentClassifier:
        """Build the fast numpy path from the fitted pipeline (done at fit and load time)."""
        self.fast = FastCalibratedLinear.from_calibrated(self.pipeline.named_steps["clf"])
        return self

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        """(n, 9) probabilities in ``INTENT_VALUES`` order for normalized texts."""
        if self.fast is not None:
            X = self.pipeline.named_steps["tfidf"].transform(texts)
            probs = self._reorder(self.fast.predict_proba(X), self.fast.classes)
        else:
            probs = self._reorder(self.pipeline.predict_proba(texts), self.pipeline.classes_)
        if embeddings is not None and self.e5_head is not None:
            emb = np.asarray(embeddings, dtype=np.float32)
            if emb.size == len(texts) * self.e5_head.n_features_in_:  # a wrong-sized vector is ignored
                emb = emb.reshape(len(texts), -1)
                p5 = self._reorder(self.e5_head.predict_proba(emb), self.e5_head.classes_)
                probs = (1 - self.e5_weight) * probs + self.e5_weight * p5
        return probs

    @staticmethod
    def _reorder(probs: np.ndarray, classes) -> np.ndarray:
        out = np.zeros((probs.shape[0], len(INTENT_VALUES)), dtype=np.float64)
        for j, c in enumerate(classes):
            out[:, INTENT_VALUES.index(c)] = probs[:, j]
        return out


def build_pipeline(seed: int = 0, c: float = 8.0, calibration: str = "sigmoid"):
    from sklearn.calibration import CalibratedClassifierCV  # noqa: PLC0415
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415

    return Pipeline([
        ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True, min_df=2,
                                  max_features=60000)),
        ("clf", CalibratedClassifierCV(
            LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed),
            method=calibration, cv=3)),
    ])


def fit_classifier(texts: list[str], labels: list[str], *, seed: int = 0, c: float = 8.0,
                   calibration: str = "sigmoid", sample_weight=None) -> IntentClassifier:
    """Fit on normalized texts."""
    started = time.perf_counter()
    pipeline = build_pipeline(seed=seed, c=c, calibration=calibration)
    fit_kw = {"clf__sample_weight": np.asarray(sample_weight)} if sample_weight is not None else {}
    pipeline.fit(texts, labels, **fit_kw)
    digest = hashlib.sha1(("\n".join(texts) + json.dumps([c, calibration, seed])).encode()).hexdigest()[:10]
    version = time.strftime("%Y%m%d%H%M", time.gmtime()) + "-" + digest[:7]  # 20 chars: nlu_training_data.model_version
    params = {"analyzer": "char_wb", "ngram_range": "1-4", "C": c, "calibration": calibration, "cv": 3,
              "class_weight": "balanced", "train_size": len(texts), "fit_seconds": round(time.perf_counter() - started, 2)}
    return IntentClassifier(pipeline=pipeline, labels=list(INTENT_VALUES), version=version, params=params).compile()


def fit_e5_head(embeddings: np.ndarray, labels: list[str], seed: int = 0):
    from sklearn.calibration import CalibratedClassifierCV  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    head = CalibratedClassifierCV(
        LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced", random_state=seed), method="sigmoid", cv=3)
    head.fit(embeddings, labels)
    return head


def save(model: IntentClassifier, path: Path) -> Path:
    import joblib  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)  # atomic: a reader never sees half a file
    return path


def load(path: Path) -> IntentClassifier:
    import joblib  # noqa: PLC0415

    model = joblib.load(path)
    if not isinstance(model, IntentClassifier):
        raise TypeError(f"{path} does not hold an IntentClassifier")
    if model.fast is None:
        model.compile()
    return model
