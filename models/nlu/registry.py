"""Which intent model the service runs: the MLflow registry's ``naviyam-nlu-intent@champion``.

Each trained model (the char n-gram classifier, the LoRA adapter) is logged to MLflow as a pyfunc
model and registered as a new version of ``naviyam-nlu-intent``, tagged with its kind, its local
path and its dev-set scores. ``promote_if_better`` moves the ``champion`` alias to the new version
when it beats the current champion on the dev set (intent accuracy, then macro-F1; on a tie the
char n-gram classifier is kept, being ~100× cheaper per request).

``load_intent_model()`` resolves the champion; when the registry is empty or unreachable it falls
back to the last classifier saved under ``data/models/nlu/``; when there is none either, it trains
one on the fly from the grammar (about 10–20 s, logged as a warning; run ``naviyam nlu train`` to
do it ahead of time).
"""

from __future__ import annotations

import logging
from pathlib import Path

from infra.settings import PROJECT_ROOT, get_settings
from infra.vocabulary import CHAMPION
from models.nlu.classifier import MODEL_FILENAME

log = logging.getLogger(__name__)

MODEL_NAME = "naviyam-nlu-intent"
#: the model_training_logs types whose runs compete for this registered model's champion alias
SERVING_MODEL_TYPES = ("intent_classifier", "lora_adapter")
KIND_CLASSIFIER = "char_ngram_lr"
KIND_LORA = "lora_adapter"


def model_dir() -> Path:
    return get_settings().data_dir / "models" / "nlu"


def default_model_path() -> Path:
    return model_dir() / MODEL_FILENAME


def default_dev_path() -> Path | None:
    """The public dev set, when this checkout can see it (for measuring, never for training)."""
    for candidate in (PROJECT_ROOT / "shared" / "eval" / "nlu_dev.jsonl",
                      PROJECT_ROOT.parent / "shared" / "eval" / "nlu_dev.jsonl"):
        if candidate.exists():
            return candidate
    return None


def _pyfunc_class():
    """The MLflow pyfunc wrapper (DataFrame with a ``text`` column → intent, confidence, entities),
    built lazily so importing this module does not import MLflow."""
    import mlflow.pyfunc  # noqa: PLC0415

    class _IntentPyfunc(mlflow.pyfunc.PythonModel):
        def load_context(self, context):
            from models.nlu.parser import NLUParser  # noqa: PLC0415

            kind = context.model_config.get("kind", KIND_CLASSIFIER) if context.model_config else KIND_CLASSIFIER
            model = _load_kind(kind, Path(context.artifacts["model"]))
            self.parser = NLUParser(model, use_cache=False, persist=False)

        def predict(self, context, model_input, params=None):
            import pandas as pd  # noqa: PLC0415

            texts = list(model_input["text"]) if hasattr(model_input, "columns") else list(model_input)
            results = self.parser.parse_many([str(t) for t in texts])
            return pd.DataFrame([{"intent": r.intent, "confidence": r.confidence, "entities": r.entities}
                                 for r in results])

    return _IntentPyfunc


def _load_kind(kind: str, path: Path):
    if kind == KIND_LORA:
        from models.nlu.lora import LoraIntentClassifier  # noqa: PLC0415

        return LoraIntentClassifier.load(path)
    from models.nlu.classifier import load  # noqa: PLC0415

    return load(path if path.is_file() else path / MODEL_FILENAME)


def log_pyfunc(kind: str, artifact: Path) -> str:
    """Log the model at ``artifact`` (file or folder) as a pyfunc in the active run; returns its URI."""
    import warnings  # noqa: PLC0415

    import mlflow.pyfunc  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415
    from mlflow.models import ModelSignature  # noqa: PLC0415
    from mlflow.types import ColSpec, Schema  # noqa: PLC0415

    # one utterance in; the frame out (entities are a JSON-like object, so typed as such loosely)
    signature = ModelSignature(inputs=Schema([ColSpec("string", "text")]),
                               outputs=Schema([ColSpec("string", "intent"), ColSpec("double", "confidence")]))
    example = pd.DataFrame({"text": ["배고픈데 5천원밖에 없어", "매운 거 빼고 떡볶이 말고 다른 거"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # type-hint and cloudpickle advice, not problems of ours
        info = mlflow.pyfunc.log_model(
            name="model", python_model=_pyfunc_class()(), artifacts={"model": str(artifact)},
            signature=signature, input_example=example,
            model_config={"kind": kind}, pip_requirements=["scikit-learn", "kiwipiepy", "numpy", "torch", "peft"]
            if kind == KIND_LORA else ["scikit-learn", "kiwipiepy", "numpy"],
        )
    return info.model_uri


def register(model_uri: str, kind: str, local_path: Path, dev_metrics: dict, extra_tags: dict | None = None) -> str:
    from models.tracking import register_model  # noqa: PLC0415

    tags = {"kind": kind, "local_path": portable_path(local_path), **{f"dev_{k}": v for k, v in dev_metrics.items()},
            **(extra_tags or {})}
    return register_model(model_uri, MODEL_NAME, tags=tags)


def portable_path(path: Path) -> str:
    """The model's folder relative to the data dir (a version tag must not carry this machine's layout)."""
    from infra.settings import get_settings  # noqa: PLC0415

    try:
        return Path(path).resolve().relative_to(get_settings().data_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def local_model_path(tags: dict) -> Path:
    """Where a version's files are here: ``local_path`` relative to the data dir (older ones: absolute)."""
    from infra.settings import get_settings  # noqa: PLC0415

    raw = tags.get("local_path", "")
    if not raw:
        return Path("/nonexistent")
    path = Path(raw)
    return path if path.is_absolute() else get_settings().data_dir / path


def _rank(tags: dict) -> tuple[float, float, int]:
    acc = float(tags.get("dev_intent_accuracy", -1))
    f1 = float(tags.get("dev_intent_macro_f1", -1))
    return (acc, f1, 1 if tags.get("kind") == KIND_CLASSIFIER else 0)


def promote_if_better(version: str) -> tuple[bool, str]:
    """Move ``champion`` to ``version`` if it ranks above the current champion. Returns
    (promoted, champion version after the decision)."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from models.tracking import configure_mlflow, get_alias, set_alias  # noqa: PLC0415

    configure_mlflow()
    client = MlflowClient()
    new = client.get_model_version(MODEL_NAME, version)
    current = get_alias(MODEL_NAME, CHAMPION)
    promote = (
        current is None
        or not local_model_path(current.tags).exists()
        or _rank(new.tags) > _rank(current.tags)
        # same scores, same kind: the newer model (trained on more collected data) takes over
        or (_rank(new.tags) == _rank(current.tags) and new.tags.get("kind") == current.tags.get("kind"))
    )
    if promote:
        set_alias(MODEL_NAME, CHAMPION, version)
        return True, version
    return False, str(current.version)


def champion_info() -> dict | None:
    from models.tracking import get_alias  # noqa: PLC0415

    mv = get_alias(MODEL_NAME, CHAMPION)
    if mv is None:
        return None
    return {"name": MODEL_NAME, "version": mv.version, **mv.tags}


def load_intent_model():
    """The champion model (see module doc for the fallbacks)."""
    try:
        info = champion_info()
    except Exception as exc:  # noqa: BLE001 - the registry is optional at run time
        log.warning("MLflow registry unavailable (%s); using the local classifier", exc)
        info = None
    if info and local_model_path(info).exists():
        try:
            return _load_kind(info.get("kind", KIND_CLASSIFIER), local_model_path(info))
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot load champion %s v%s (%s); using the local classifier", MODEL_NAME,
                        info.get("version"), exc)
    path = default_model_path()
    if path.exists():
        from models.nlu.classifier import load  # noqa: PLC0415

        return load(path)
    log.warning("no trained NLU model at %s: training one now from the grammar "
                "(run `naviyam nlu train` to do this ahead of time)", path)
    from models.nlu.train import train_intent_classifier  # noqa: PLC0415

    model, _ = train_intent_classifier(log_mlflow=False)
    return model
