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


def test_ranking_vars_are_the_python_feature_contract():
    """The feature-history marts take the ranker's constants from dbt vars; they must be the
    Python ones (models.ranking), in the same order, since an array position is an index."""
    import pandas as pd

    from models.ranking import raw_features
    from models.ranking.features import CATEGORIES, SLOTS, slot_of_minute

    dbt_vars = yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]
    assert tuple(dbt_vars["ranking_categories"]) == CATEGORIES
    assert tuple(dbt_vars["ranking_slots"]) == SLOTS
    assert dbt_vars["ranking_basket_minutes"] * 60 == pd.Timedelta(raw_features.BASKET_WINDOW).total_seconds()
    assert dbt_vars["ranking_recent_shops"] == raw_features.RECENT_SHOPS
    assert tuple(dbt_vars["ranking_main_menu_roles"]) == raw_features.MAIN_ROLES
    assert dbt_vars["ranking_default_median_price"] == raw_features.DEFAULT_MEDIAN_PRICE

    # slot i starts at ranking_slot_starts[i]; the last runs past midnight to the first
    slots = slot_of_minute(list(range(24 * 60)))
    starts = dbt_vars["ranking_slot_starts"]
    assert [m for m in range(24 * 60) if slots[m] != slots[m - 1]] == starts
    assert [int(slots[m]) for m in starts] == list(range(len(SLOTS)))
