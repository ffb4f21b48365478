"""Ingest validation without a database: each kind of bad row is refused with its reason, the good
rows pass, and a child of a refused parent is refused as such."""

from __future__ import annotations

import pandas as pd
import pytest

from infra.ingest.validate import validate_sheet
from infra.sample_data.generator import build

SEED, SCALE = 20261125, 0.02


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return build(SEED, SCALE).tables


def _shops(tables, n=6) -> pd.DataFrame:
    return tables["shops"].head(n).reset_index(drop=True).copy()


def test_clean_rows_pass(tables):
    shops = _shops(tables)
    verdict = validate_sheet("shops", shops, {}, {})
    assert verdict.quarantined.empty and len(verdict.valid) == len(shops)


@pytest.mark.parametrize("column, value, reason", [
    ("category", "우주음식", "category"),
    ("latitude", 51.5, "latitude is outside Korea"),
    ("longitude", -0.12, "longitude is outside Korea"),
    ("open_hour", "25:99", "open_hour"),
    ("shop_name", None, "shop_name"),
])
def test_one_bad_shop_is_quarantined_with_its_reason(tables, column, value, reason):
    shops = _shops(tables)
    shops[column] = shops[column].astype(object)
    shops.at[2, column] = value
    verdict = validate_sheet("shops", shops, {}, {})
    assert list(verdict.quarantined.index) == [2]
    assert any(reason in r for r in verdict.reasons[2]), verdict.reasons[2]
    assert len(verdict.valid) == len(shops) - 1  # nothing else is dropped


def test_break_times_come_in_pairs(tables):
    shops = _shops(tables)
    shops["break_start_hour"] = shops["break_start_hour"].astype(object)
    shops["break_end_hour"] = shops["break_end_hour"].astype(object)
    shops.at[1, "break_start_hour"], shops.at[1, "break_end_hour"] = "15:00", None
    verdict = validate_sheet("shops", shops, {}, {})
    assert 1 in verdict.reasons and any("both" in r for r in verdict.reasons[1])


def test_duplicate_id_keeps_the_first(tables):
    shops = _shops(tables)
    shops.at[4, "id"] = shops.at[0, "id"]
    verdict = validate_sheet("shops", shops, {}, {})
    assert list(verdict.quarantined.index) == [4]
    assert "duplicate id" in verdict.reasons[4][0]


def test_menus_price_and_dangling_or_quarantined_shop(tables):
    shops = _shops(tables)
    menus = tables["menus"][tables["menus"]["shop_id"].isin(shops["id"])].head(6).reset_index(drop=True).copy()
    assert len(menus) >= 4
    good_shop, refused_shop = int(shops.at[0, "id"]), int(shops.at[1, "id"])
    menus["shop_id"] = good_shop
    menus.at[0, "price"] = 0
    menus.at[1, "shop_id"] = 999_999
    menus.at[2, "shop_id"] = refused_shop
    verdict = validate_sheet("menus", menus, {"shops": {good_shop}}, {"shops": {refused_shop}})
    assert sorted(verdict.quarantined.index) == [0, 1, 2]
    assert any("price" in r for r in verdict.reasons[0])
    assert verdict.reasons[1] == ["shop_id 999999 refers to no shops row"]
    assert verdict.reasons[2] == [f"shop_id {refused_shop} refers to a shops row that was quarantined"]
    assert len(verdict.valid) == len(menus) - 3
