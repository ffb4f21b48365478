"""The dbt project's YAML covers every model: a description, described columns, and tests."""

from pathlib import Path

import pytest
import yaml

from orchestration.operational.writeback import WRITE_BACKS

DBT = Path(__file__).resolve().parents[3] / "dbt_project"


def _models() -> dict[str, dict]:
    found = {}
    for path in (DBT / "models").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text()).get("models", []):
            found[model["name"]] = model
    return found


MODELS = _models()
SQL = {p.stem: p for p in (DBT / "models").rglob("*.sql")}


def test_every_sql_model_is_documented():
    assert set(SQL) == set(MODELS)


@pytest.mark.parametrize("name", sorted(SQL))
def test_model_has_description_columns_and_tests(name):
    model = MODELS[name]
    assert model.get("description", "").strip()
    assert model.get("columns"), name
    for column in model["columns"]:
        assert column.get("description", "").strip(), f"{name}.{column['name']}"
    tested = bool(model.get("data_tests")) or any(c.get("data_tests") for c in model["columns"])
    assert tested, f"{name} has no tests"


def test_staging_models_are_one_per_source():
    sources = yaml.safe_load((DBT / "models/staging/_sources.yml").read_text())["sources"][0]["tables"]
    assert {f"stg_naviyam__{t['name']}" for t in sources} == {n for n in SQL if n.startswith("stg_")}


def test_write_backs_only_use_documented_mart_columns():
    for spec in WRITE_BACKS:
        documented = {c["name"] for c in MODELS[spec.mart]["columns"]}
        assert {spec.mart_key, *spec.columns} <= documented, spec.table


def test_rule_based_models_say_so():
    assert "RULE-BASED" in MODELS["menus"]["description"]
