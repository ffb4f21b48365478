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
