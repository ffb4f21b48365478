"""Pure parts of tracking and the registry (no MLflow server, no database)."""

import pytest

from models.nlu import registry
from models.tracking import TRAINING_LOG_COLUMNS, insert_training_log


def test_unknown_training_log_column_is_rejected():
    with pytest.raises(ValueError, match="not columns of model_training_logs"):
        insert_training_log(object(), "s", {"lora_rnak": 8})


def test_training_log_columns_cover_the_spec():
    for column in ("lora_rank", "lora_alpha", "lora_dropout", "learning_rate", "training_loss", "validation_loss",
                   "class_balance", "evaluation_metrics", "model_type", "deployment_status", "mlflow_run_id"):
        assert column in TRAINING_LOG_COLUMNS


def test_rank_prefers_accuracy_then_f1_then_the_cheap_model():
    clf = {"kind": registry.KIND_CLASSIFIER, "dev_intent_accuracy": "0.95", "dev_intent_macro_f1": "0.94"}
    lora_better = {"kind": registry.KIND_LORA, "dev_intent_accuracy": "0.97", "dev_intent_macro_f1": "0.90"}
    lora_tie = {"kind": registry.KIND_LORA, "dev_intent_accuracy": "0.95", "dev_intent_macro_f1": "0.94"}
    assert registry._rank(lora_better) > registry._rank(clf)
    assert registry._rank(clf) > registry._rank(lora_tie)
    assert registry._rank({}) < registry._rank(clf)
