"""Publishing a trained intent model: MLflow pyfunc, registry version, and the promotion gate.

The gate scores the challenger and the current champion on the same **blind split**
(``models.nlu.blind``: frozen grammar lines of held-out sentence skeletons plus the held-out part
of the collected corrections; none of it is ever trained on) and moves ``champion`` only when the
challenger is strictly better: intent accuracy first, then intent macro-F1, then frame exact
match. A tie keeps the champion. The public dev set is a smoke test: measured, logged, never
deciding. Each decision is written as tags on the new version (``gate_*``) and returned.
"""

from __future__ import annotations

import logging
from pathlib import Path

from models.nlu import registry
from models.nlu.evaluate import score

log = logging.getLogger(__name__)

RANK_KEYS = ("intent_accuracy", "intent_macro_f1", "frame_exact_match")


def evaluate_model(model, rows: list[dict]) -> tuple[dict, list]:
    """Contract scores of the hybrid (rules + model) on gold rows, plus its raw decisions."""
    from models.nlu.parser import NLUParser  # noqa: PLC0415

    parser = NLUParser(model, use_cache=False, persist=False)
    results = parser.parse_many([r["text"] for r in rows])
    report = score(rows, [{"intent": r.intent, "entities": r.entities} for r in results])
    return report, results


def scores_on(model, rows: list[dict]) -> dict:
    """The contract scores (without ``n``) of ``model`` on ``rows`` ({} when there are none)."""
    if not rows:
        return {}
    report, _ = evaluate_model(model, rows)
    return {k: v for k, v in report.scores().items() if k != "n"}


def robustness_scores(model) -> dict:
    """Scores on the robustness suite, overall and per category (typo, spacing, 초성, ...)."""
    from models.nlu.blind import robustness_rows  # noqa: PLC0415

    rows = robustness_rows()
    report, results = evaluate_model(model, rows)
    preds = [{"intent": r.intent, "entities": r.entities} for r in results]
    out: dict = {"all": {k: v for k, v in report.scores().items() if k != "n"}}
    for category in sorted({r["category"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["category"] == category]
        out[category] = score([rows[i] for i in idx], [preds[i] for i in idx]).scores()
    return out


def rank(scores: dict) -> tuple[float, ...]:
    return tuple(float(scores.get(k, -1.0)) for k in RANK_KEYS)


def decide(challenger: dict, champion: dict | None) -> bool:
    """Promote only on a strictly better blind rank; ties keep the champion."""
    return champion is None or rank(challenger) > rank(champion)


def _pyfunc_class():
    """The MLflow pyfunc wrapper (DataFrame with a ``text`` column → intent, confidence, entities),
    built lazily so importing this module does not import MLflow."""
    import mlflow.pyfunc  # noqa: PLC0415

    class _IntentPyfunc(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            from models.nlu.parser import NLUParser  # noqa: PLC0415

            config = context.model_config or {}
            model = registry.load_kind(config.get("kind", registry.KIND_CLASSIFIER), Path(context.artifacts["model"]))
            self.parser = NLUParser(model, use_cache=False, persist=False)

        def predict(self, context, model_input, params=None):
            import pandas as pd  # noqa: PLC0415

            texts = list(model_input["text"]) if hasattr(model_input, "columns") else list(model_input)
            results = self.parser.parse_many([str(t) for t in texts])
            return pd.DataFrame([{"intent": r.intent, "confidence": r.confidence, "entities": r.entities}
                                 for r in results])

    return _IntentPyfunc


#: what a reviewer sees as the model's input example (and what MLflow validates it with)
INPUT_EXAMPLE = ("배고픈데 5천원밖에 없어", "매운 거 말고 국물 있는 거")


def _signature():
    """One utterance in; intent, calibrated confidence and the entities (a free-form mapping) out."""
    from mlflow.models import ModelSignature  # noqa: PLC0415
    from mlflow.types import ColSpec, Schema  # noqa: PLC0415
    from mlflow.types.schema import AnyType  # noqa: PLC0415

    return ModelSignature(inputs=Schema([ColSpec("string", "text")]),
                          outputs=Schema([ColSpec("string", "intent"), ColSpec("double", "confidence"),
                                          ColSpec(AnyType(), "entities")]))


def log_pyfunc(kind: str, artifact: Path) -> str:
    """Log the model at ``artifact`` (file or folder) as a pyfunc in the active run; returns its URI."""
    import warnings  # noqa: PLC0415

    import mlflow.pyfunc  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # type-hint and cloudpickle advice, not problems of ours
        # MLflow loads the logged model and predicts the example once: a pyfunc that cannot
        # answer fails here, at training, instead of at the first request
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_pyfunc_class()(), artifacts={"model": str(artifact)},
            signature=_signature(), input_example=pd.DataFrame({"text": list(INPUT_EXAMPLE)}),
            model_config={"kind": kind}, pip_requirements=["scikit-learn", "kiwipiepy", "numpy", "torch", "peft"]
            if kind == registry.KIND_LORA else ["scikit-learn", "kiwipiepy", "numpy"],
        )
    return info.model_uri


def register(model_uri: str, kind: str, local_path: Path, metrics: dict, extra_tags: dict | None = None) -> str:
    """A new registry version tagged with its kind, local path (relative to the data dir) and scores
    (``blind_*``, ``dev_*``, ...)."""
    from models.tracking import register_model  # noqa: PLC0415

    tags = {"kind": kind, "local_path": registry.portable_path(local_path), **metrics, **(extra_tags or {})}
    return register_model(model_uri, registry.MODEL_NAME, tags=tags)


def promote_if_better(version: str, challenger_model, blind: list[dict]) -> dict:
    """Score the challenger and the current champion on ``blind`` and move ``champion`` when the
    challenger is strictly better. Returns the decision with its numbers."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from models.tracking import configure_mlflow, get_alias, set_alias  # noqa: PLC0415

    configure_mlflow()
    client = MlflowClient()
    current = get_alias(registry.MODEL_NAME, registry.CHAMPION)
    challenger = scores_on(challenger_model, blind)
    champion_scores: dict | None = None
    champion_version = None
    champion_path = registry.local_model_path(current.tags) if current is not None else None
    if champion_path is not None:
        champion_version = str(current.version)
        try:
            champion_model = registry.load_kind(current.tags.get("kind", registry.KIND_CLASSIFIER), champion_path)
            champion_scores = scores_on(champion_model, blind)
        except Exception as exc:  # noqa: BLE001 - a champion that cannot load cannot defend its title
            log.warning("cannot load champion v%s (%s); the challenger takes over", champion_version, exc)
    promoted = decide(challenger, champion_scores)
    decision = {"blind_size": len(blind), "challenger_version": version, "challenger_blind": challenger,
                "champion_version": champion_version, "champion_blind": champion_scores, "promoted": promoted,
                "rule": "strictly better on (" + ", ".join(RANK_KEYS) + ") over the blind split; ties keep the champion"}
    for key, value in {"gate_blind_size": len(blind), "gate_promoted": promoted,
                       "gate_against_version": champion_version or "none",
                       **{f"gate_champion_blind_{k}": v for k, v in (champion_scores or {}).items()}}.items():
        client.set_model_version_tag(registry.MODEL_NAME, version, key, str(value))
    if promoted:
        set_alias(registry.MODEL_NAME, registry.CHAMPION, version)
    decision["champion_after"] = version if promoted else champion_version
    log.info("NLU gate: %s", decision)
    return decision
