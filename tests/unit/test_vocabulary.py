"""infra.vocabulary is the one spelling of the product's closed value sets; the two places that may
not import it (the frozen Alembic migration, the dbt vars) must still agree with it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import yaml

from infra import vocabulary as V

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = ROOT / "infra/migrations/versions/0001_initial_schema.py"


def _migration_in_checks() -> dict[str, set[tuple[str, ...]]]:
    """``column → {allowed values}`` of every ``CHECK (col [IS NULL OR col] IN (...))`` the
    migration creates, read from its rendered DDL (a column name may appear in several tables)."""
    spec = importlib.util.spec_from_file_location("migration_0001", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ddl = "\n".join(v for k, v in vars(module).items() if k.isupper() and isinstance(v, str))
    pattern = re.compile(r"CHECK \((\w+) (?:IS NULL OR \1 )?IN\s*\(([^)]*)\)\)")
    found: dict[str, set[tuple[str, ...]]] = {}
    for column, values in pattern.findall(ddl):
        found.setdefault(column, set()).add(tuple(re.findall(r"'([^']*)'", values)))
    return found


CHECKS = _migration_in_checks()
DBT_VARS = yaml.safe_load((ROOT / "dbt_project/dbt_project.yml").read_text())["vars"]


def test_migration_checks_allow_exactly_the_vocabulary():
    assert CHECKS["category"] == {V.CATEGORIES, V.MENU_ROLES}  # shops.category, menus.category
    assert CHECKS["is_food_card_shop"] == {V.FOOD_CARD_FLAGS}
    for column in ("extracted_intent", "predicted_intent", "true_intent"):
        assert CHECKS[column] == {V.INTENT_VALUES}, column
    for column in ("user_strategy", "context_type"):
        assert CHECKS[column] == {V.STRATEGIES}, column


def test_dbt_vars_are_the_vocabulary_in_the_same_order():
    # an array position in category_share / customer_taste is an index into the categories
    assert tuple(DBT_VARS["ranking_categories"]) == V.CATEGORIES
    assert tuple(DBT_VARS["ranking_slots"]) == V.MEAL_SLOTS
    assert tuple(DBT_VARS["ranking_main_menu_roles"]) == V.MAIN_MENU_ROLES
    assert DBT_VARS["ranking_food_card_weights"] == V.FOOD_CARD_WEIGHTS


def test_food_card_weight_treats_anything_unknown_as_unknown():
    assert set(V.FOOD_CARD_WEIGHTS) == set(V.FOOD_CARD_FLAGS)
    assert [V.food_card_weight(f) for f in ("Y", "P", "U", "N")] == [1.0, 0.6, 0.3, 0.0]
    assert V.food_card_weight(None) == V.food_card_weight("?") == V.FOOD_CARD_WEIGHTS["U"]


def test_main_roles_are_menu_roles_and_everyone_imports_the_same_objects():
    from infra.sample_data import columns
    from models.nlu import labels
    from models.ranking import features, raw_features
    from serving import ab

    assert set(V.MAIN_MENU_ROLES) < set(V.MENU_ROLES)
    assert labels.Intent is V.Intent and labels.FOOD_CATEGORIES is V.CATEGORIES
    assert features.CATEGORIES is V.CATEGORIES and columns.CATEGORIES is V.CATEGORIES
    assert columns.MENU_CATEGORIES is V.MENU_ROLES and raw_features.MAIN_ROLES is V.MAIN_MENU_ROLES
    assert (ab.CHAMPION, ab.CHALLENGER) == V.MODEL_ALIASES
    assert [i.value for i in V.INTENT_ORDER] == list(V.INTENT_VALUES) and V.Intent.GENERAL_CHAT.precedence == 8
