"""Pure parts of tracking and the registry (no MLflow server, no database)."""

import pytest

from models.nlu import gate
from models.tracking import TRAINING_LOG_COLUMNS, insert_training_log


def test_unknown_training_log_column_is_rejected():
    with pytest.raises(ValueError, match="not columns of model_training_logs"):
        insert_training_log(object(), "s", {"lora_rnak": 8})


def test_training_log_columns_cover_the_spec():
    for column in ("lora_rank", "lora_alpha", "lora_dropout", "learning_rate", "training_loss", "validation_loss",
                   "class_balance", "evaluation_metrics", "model_type", "deployment_status", "mlflow_run_id"):
        assert column in TRAINING_LOG_COLUMNS


def test_gate_needs_a_strictly_better_blind_score_and_a_tie_keeps_the_champion():
    champion = {"intent_accuracy": 0.95, "intent_macro_f1": 0.94, "frame_exact_match": 0.80}
    better_acc = {"intent_accuracy": 0.97, "intent_macro_f1": 0.90, "frame_exact_match": 0.70}
    tie = dict(champion)
    better_f1 = {"intent_accuracy": 0.95, "intent_macro_f1": 0.95, "frame_exact_match": 0.70}
    assert gate.decide(better_acc, champion) and gate.decide(better_f1, champion)
    assert not gate.decide(tie, champion)  # ties keep the champion, whatever its kind or age
    assert not gate.decide({}, champion)
    assert gate.decide(tie, None)  # no champion yet


def test_a_version_tags_its_model_path_relative_to_the_data_dir(data_dir, tmp_path):
    from models.nlu import registry

    inside = data_dir / "models" / "nlu" / "lora" / "lora-1"
    assert registry.portable_path(inside) == "models/nlu/lora/lora-1"
    assert registry.local_model_path({"local_path": "models/nlu/lora/lora-1"}) is None  # not on this machine
    inside.mkdir(parents=True)
    assert registry.local_model_path({"local_path": "models/nlu/lora/lora-1"}) == inside
    # an explicit folder outside the data dir, and versions registered before the tag was relative
    assert registry.portable_path(tmp_path) == str(tmp_path.resolve())
    assert registry.local_model_path({"local_path": str(tmp_path)}) == tmp_path
    assert registry.local_model_path({}) is None
