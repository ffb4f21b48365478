"""Training with real tracking: MLflow runs, model_training_logs rows, the registry's champion."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from models.nlu import store
from models.nlu.normalize import normalize
from models.tracking import start_run

pytestmark = pytest.mark.integration


def _log_rows(engine, model_type):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM model_training_logs WHERE model_type = :t ORDER BY id"),
                            {"t": model_type}).mappings().all()


def test_start_run_writes_and_completes_a_row(migrated_engine):
    with start_run("naviyam-test", model_type="wide_deep", params={"lr": 0.01, "layers": [64, 32]},
                   model_name="unit", engine=migrated_engine) as run:
        run.log_metrics({"loss": 0.5}, step=1)
        run.log_training(training_samples_count=10, evaluation_metrics={"accuracy": 0.9}, class_balance={"a": 1})
    row = _log_rows(migrated_engine, "wide_deep")[-1]
    assert row["deployment_status"] == "completed" and row["mlflow_run_id"] == run.run_id
    assert row["training_samples_count"] == 10 and row["evaluation_metrics"] == {"accuracy": 0.9}
    assert row["hyperparameters"] == {"lr": 0.01, "layers": [64, 32]}
    assert row["training_end_time"] >= row["training_start_time"]


def test_start_run_marks_failures(migrated_engine):
    with pytest.raises(RuntimeError):
        with start_run("naviyam-test", model_type="embeddings", params={}, engine=migrated_engine):
            raise RuntimeError("boom")
    assert _log_rows(migrated_engine, "embeddings")[-1]["deployment_status"] == "failed"


def test_a_new_champion_retires_the_deployed_row(migrated_engine):
    serving = ("intent_classifier", "lora_adapter")
    with start_run("naviyam-test", model_type="intent_classifier", params={}, engine=migrated_engine) as old:
        old.mark_deployed(serving)
    with start_run("naviyam-test", model_type="lora_adapter", params={}, engine=migrated_engine) as new:
        new.mark_deployed(serving)
    with migrated_engine.connect() as conn:
        status = dict(conn.execute(text("SELECT mlflow_run_id, deployment_status FROM model_training_logs "
                                        "WHERE mlflow_run_id IN (:a, :b)"), {"a": old.run_id, "b": new.run_id}).all())
        deployed = conn.execute(text("SELECT count(*) FROM model_training_logs WHERE deployment_status = 'deployed' "
                                     "AND model_type IN ('intent_classifier', 'lora_adapter')")).scalar()
    assert status == {old.run_id: "completed", new.run_id: "deployed"} and deployed == 1


@pytest.mark.slow
def test_train_classifier_uses_corrections_and_registers(migrated_engine, tmp_path, data_dir):
    import mlflow

    from models.nlu.registry import MODEL_NAME, champion_info, local_model_path
    from models.nlu.train import train_intent_classifier

    row_id = store.record_correction(migrated_engine, "반 애들 다 같이 먹을 데", normalize("반 애들 다 같이 먹을 데"),
                                     "group_dining")
    # this correction hashes into the blind split: the gate scores it, training never sees it
    held_id = store.record_correction(migrated_engine, "우리 반 다 같이 갈 데", normalize("우리 반 다 같이 갈 데"),
                                      "group_dining")
    # saved under the data dir, as every trained model is: the version's path tag is relative to it
    save_path = data_dir / "models" / "nlu-test" / "clf.joblib"
    model, summary = train_intent_classifier(n_synthetic=1200, engine=migrated_engine, dev_path=tmp_path / "none.jsonl",
                                             save_path=save_path)
    # grammar rows less the blind split's held-out sentence patterns (about 30% of 1,200), plus the correction
    assert summary["train_size"] >= 700
    row = _log_rows(migrated_engine, "intent_classifier")[-1]
    assert row["mlflow_run_id"] == summary["mlflow_run_id"] and row["class_balance"]["group_dining"] > 0
    assert row["deployment_status"] in ("completed", "deployed")
    info = champion_info()
    assert info is not None and info["kind"] == "char_ngram_lr"
    assert summary["gate"]["blind_size"] >= 602  # the frozen grammar lines + the held-out correction(s)
    # the registered version as a reviewer finds it in MLflow
    client = mlflow.MlflowClient()
    version = client.get_model_version(MODEL_NAME, summary["registered_version"])
    assert version.tags["local_path"] == "models/nlu-test/clf.joblib"
    assert not any(value.startswith("/") for value in version.tags.values())
    assert local_model_path(version.tags) == save_path
    info = mlflow.models.get_model_info(f"models:/{MODEL_NAME}/{version.version}")
    assert info.signature.inputs.input_names() == ["text"]
    assert {"intent", "confidence", "entities"} <= set(info.signature.outputs.input_names())
    assert info.saved_input_example_info is not None
    assert list(mlflow.models.Model.load(info.model_uri).load_input_example()["text"])
    run = client.get_run(version.run_id)
    [dataset] = run.inputs.dataset_inputs
    assert dataset.dataset.name == "nlu-training" and {t.value for t in dataset.tags} == {"training"}
    assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} == {"plots/nlu_confusion_holdout.png"}
    assert "corrected nlu_training_data rows" in run.data.tags["mlflow.note.content"]
    # the Dagster asset shows the heatmap inline (what nlu_intent_classifier returns as metadata)
    from orchestration.metadata import mlflow_run_metadata

    plots_md = mlflow_run_metadata(summary["mlflow_run_id"])["plots"].value
    assert "**nlu_confusion_holdout.png**" in plots_md and "](data:image/png;base64," in plots_md
    with migrated_engine.connect() as conn:
        assert conn.execute(text("SELECT used_for_training FROM nlu_training_data WHERE id=:i"), {"i": row_id}).scalar()
        assert not conn.execute(text("SELECT used_for_training FROM nlu_training_data WHERE id=:i"),
                                {"i": held_id}).scalar()


@pytest.mark.slow
def test_lora_two_steps(migrated_engine, tmp_path):
    from models.nlu.lora import LoraConfigArgs, LoraIntentClassifier, train_lora_adapter

    store.record_correction(migrated_engine, "반 친구들 다 같이 갈 데", normalize("반 친구들 다 같이 갈 데"),
                            "group_dining")
    summary = train_lora_adapter(LoraConfigArgs(max_steps=2, n_synthetic=300, val_size=32, batch_size=8),
                                 engine=migrated_engine, dev_path=tmp_path / "none.jsonl", out_dir=tmp_path / "lora",
                                 register=True)
    assert summary["steps"] == 2 and summary["registered_version"]
    row = _log_rows(migrated_engine, "lora_adapter")[-1]
    assert (row["lora_rank"], row["lora_alpha"], float(row["lora_dropout"])) == (8, 16, 0.05)
    assert float(row["learning_rate"]) == pytest.approx(5e-4)
    assert row["training_loss"] is not None and row["validation_loss"] is not None
    assert row["class_balance"] and "holdout_intent_accuracy" in row["evaluation_metrics"]
    assert row["hyperparameters"]["n_collected"] >= 1  # corrected rows train the adapter too
    model = LoraIntentClassifier.load(tmp_path / "lora")
    assert model.predict_proba(["치킨 먹고 싶어"]).shape == (1, 9)
