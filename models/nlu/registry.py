"""Which intent model the service runs: the MLflow registry's ``naviyam-nlu-intent@champion``.

This module only *loads*: ``load_intent_model()`` resolves the champion; when the registry is
empty or unreachable it falls back to the last classifier saved under ``data/models/nlu/``, and
when there is none either it returns None. Whether to train one then is the caller's decision
(``models.nlu.train.load_or_train``). Logging, registering and the promotion gate live in
``models.nlu.gate``.
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


def portable_path(path: Path) -> str:
    """``path`` relative to the data dir, for the registry's ``local_path`` tag: a version must not
    carry one machine's layout, and the data dir moves (NAVIYAM_DATA_DIR, a copied demo). A model
    saved outside the data dir (an explicit ``--out``) can only be found by its absolute path."""
    try:
        return Path(path).resolve().relative_to(get_settings().data_dir.resolve()).as_posix()
    except ValueError:
        return str(Path(path).resolve())


def local_model_path(tags: dict) -> Path | None:
    """Where a registered version's files are on this machine: its ``local_path`` tag resolved
    against the data dir (versions registered before the tag was relative carry an absolute path).
    None when the tag is missing or the files are not here."""
    raw = tags.get("local_path")
    if not raw:
        return None
    path = get_settings().data_dir / raw  # an absolute tag replaces the data dir
    return path if path.exists() else None


def load_kind(kind: str, path: Path):
    """A saved model of ``kind`` (the classifier's joblib file or folder, or a LoRA folder)."""
    if kind == KIND_LORA:
        from models.nlu.lora_model import LoraIntentClassifier  # noqa: PLC0415

        return LoraIntentClassifier.load(path)
    from models.nlu.classifier import load  # noqa: PLC0415

    return load(path if path.is_file() else path / MODEL_FILENAME)


def champion_info() -> dict | None:
    from models.tracking import get_alias  # noqa: PLC0415

    mv = get_alias(MODEL_NAME, CHAMPION)
    if mv is None:
        return None
    return {"name": MODEL_NAME, "version": mv.version, **mv.tags}


def load_intent_model():
    """The champion model, else the last local classifier, else None (see the module doc)."""
    try:
        info = champion_info()
    except Exception as exc:  # noqa: BLE001 - the registry is optional at run time
        log.warning("MLflow registry unavailable (%s); using the local classifier", exc)
        info = None
    path = local_model_path(info) if info else None
    if path is not None:
        try:
            return load_kind(info.get("kind", KIND_CLASSIFIER), path)
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot load champion %s v%s (%s); using the local classifier", MODEL_NAME,
                        info.get("version"), exc)
    path = default_model_path()
    if path.exists():
        from models.nlu.classifier import load  # noqa: PLC0415

        return load(path)
    return None
