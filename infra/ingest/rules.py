"""What a valid row of each sample-data sheet is: the rules, declared once, in order of checking.

Column rules become great-expectations 1.x expectations (``infra.ingest.validate`` runs them with
``result_format=COMPLETE`` to learn exactly which rows fail). The few rules that span several
columns or tables are plain functions over the DataFrame. Every rule carries the reason a person
reads in the quarantine table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from infra.pii import normalize_card_number
from infra.sample_data.columns import (
    CARD_STATUSES,
    CATEGORIES,
    COUPON_USAGE_TYPES,
    FOOD_CARD_FLAGS,
    KOREA_LAT,
    KOREA_LON,
    MENU_CATEGORIES,
    WALLET_STATUSES,
)

HOUR_REGEX = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"
MAX_MENU_PRICE = 1_000_000


@dataclass(frozen=True)
class ColumnRule:
    """One great-expectations expectation on one column, with the reason shown on failure."""

    expectation: str  # class name in great_expectations.expectations
    column: str
    reason: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RowRule:
    """A rule over whole rows: returns a boolean mask of the rows that break it."""

    name: str
    reason: str
    broken: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``column`` must name a row of ``sheet`` that is valid (in this file or the DB)."""

    column: str
    sheet: str
    nullable: bool = False


@dataclass(frozen=True)
class SheetRules:
    columns: tuple[ColumnRule, ...]
    rows: tuple[RowRule, ...] = ()
    references: tuple[Reference, ...] = ()


def not_null(column: str) -> ColumnRule:
    return ColumnRule("ExpectColumnValuesToNotBeNull", column, f"{column} is missing")


def in_set(column: str, values: tuple[str, ...]) -> ColumnRule:
    return ColumnRule(
        "ExpectColumnValuesToBeInSet", column, f"{column} is not one of {', '.join(values)}", {"value_set": list(values)}
    )


def between(column: str, low: float | None, high: float | None, reason: str, **extra: Any) -> ColumnRule:
    return ColumnRule("ExpectColumnValuesToBeBetween", column, reason, {"min_value": low, "max_value": high, **extra})


def hour(column: str) -> ColumnRule:
    return ColumnRule("ExpectColumnValuesToMatchRegex", column, f"{column} is not a 24-hour HH:MM time", {"regex": HOUR_REGEX})


# ---- multi-column rules ------------------------------------------------------------------


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | (series.astype(str).str.strip() == "")


def _break_unpaired(df: pd.DataFrame) -> pd.Series:
    return _blank(df["break_start_hour"]) != _blank(df["break_end_hour"])


def _not_one_discount(df: pd.DataFrame) -> pd.Series:
    return df["discount_amount"].isna() == df["discount_rate"].isna()


def _validity_reversed(df: pd.DataFrame) -> pd.Series:
    start, end = pd.to_datetime(df["valid_from"], errors="coerce"), pd.to_datetime(df["valid_until"], errors="coerce")
    return start.notna() & end.notna() & (end < start)


def _json_list_of(kind: Callable[[Any], bool]) -> Callable[[pd.Series], pd.Series]:
    def broken(series: pd.Series) -> pd.Series:
        def bad(value: Any) -> bool:
            if _is_blank(value):
                return False
            try:
                parsed = json.loads(value) if isinstance(value, str) else value
            except (TypeError, ValueError):
                return True
            return not isinstance(parsed, list) or not all(kind(v) for v in parsed)

        return series.map(bad).astype(bool)

    return broken


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (isinstance(value, str) and not value.strip())


_categories_list = _json_list_of(lambda v: v in CATEGORIES)
_ids_list = _json_list_of(lambda v: isinstance(v, int) and not isinstance(v, bool))


def _json_object_broken(series: pd.Series) -> pd.Series:
    def bad(value: Any) -> bool:
        if _is_blank(value):
            return False
        try:
            return not isinstance(json.loads(value) if isinstance(value, str) else value, dict)
        except (TypeError, ValueError):
            return True

    return series.map(bad).astype(bool)


def _card_malformed(df: pd.DataFrame) -> pd.Series:
    def bad(value: Any) -> bool:
        try:
            normalize_card_number(str(value))
            return False
        except ValueError:
            return True

    return df["card_number"].map(bad).astype(bool)


def _second_live_copy(df: pd.DataFrame) -> pd.Series:
    active = df["status"] == "ACTIVE"
    return active & df[["user_id", "coupon_id"]].where(active).duplicated(keep="first")


def _used_without_date(df: pd.DataFrame) -> pd.Series:
    return (df["status"] == "USED") & df["usage_date"].isna()


def _timestamp_unparseable(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    def broken(df: pd.DataFrame) -> pd.Series:
        raw = df[column]
        return raw.notna() & pd.to_datetime(raw, errors="coerce").isna()

    return broken


RULES: dict[str, SheetRules] = {
    "shops": SheetRules(
        columns=(
            not_null("id"),
            not_null("shop_name"),
            not_null("category"),
            in_set("category", CATEGORIES),
            in_set("is_food_card_shop", FOOD_CARD_FLAGS),
            hour("open_hour"),
            hour("close_hour"),
            hour("break_start_hour"),
            hour("break_end_hour"),
            not_null("latitude"),
            not_null("longitude"),
            between("latitude", *KOREA_LAT, "latitude is outside Korea"),
            between("longitude", *KOREA_LON, "longitude is outside Korea"),
        ),
        rows=(RowRule("break_pair", "break_start_hour and break_end_hour must both be set or both empty", _break_unpaired),),
    ),
    "menus": SheetRules(
        columns=(
            not_null("id"),
            not_null("shop_id"),
            not_null("menu_name"),
            not_null("price"),
            between("price", 1, MAX_MENU_PRICE, f"price must be between 1 and {MAX_MENU_PRICE:,} won"),
            in_set("category", MENU_CATEGORIES),
        ),
        references=(Reference("shop_id", "shops"),),
    ),
    "coupons": SheetRules(
        columns=(
            not_null("id"),
            not_null("coupon_name"),
            not_null("usage_type"),
            in_set("usage_type", COUPON_USAGE_TYPES),
            between("discount_amount", 1, None, "discount_amount must be positive"),
            between("discount_rate", 0, 1, "discount_rate must be in (0, 1]", strict_min=True),
            between("min_order_amount", 0, None, "min_order_amount must not be negative"),
        ),
        rows=(
            RowRule("one_discount", "exactly one of discount_amount and discount_rate must be set", _not_one_discount),
            RowRule("validity", "valid_until is before valid_from", _validity_reversed),
            RowRule(
                "target_categories",
                "target_categories must be a JSON list of shop categories",
                lambda df: _categories_list(df["target_categories"]),
            ),
            RowRule(
                "applicable_shops", "applicable_shops must be a JSON list of shop ids", lambda df: _ids_list(df["applicable_shops"])
            ),
        ),
    ),
    "users": SheetRules(
        columns=(not_null("id"),),
        rows=(RowRule("birthday", "birthday is not a date", _timestamp_unparseable("birthday")),),
    ),
    "foodcard_users": SheetRules(
        columns=(
            not_null("id"),
            not_null("user_id"),
            not_null("card_number"),
            between("balance", 0, None, "balance must not be negative"),
            in_set("status", CARD_STATUSES),
        ),
        rows=(RowRule("card_number", "card_number must have 12 to 19 digits", _card_malformed),),
        references=(Reference("user_id", "users"),),
    ),
    "product_orders": SheetRules(
        columns=(
            not_null("id"),
            not_null("user_id"),
            not_null("created_at"),
            between("quantity", 1, None, "quantity must be at least 1"),
            between("price", 0, None, "price must not be negative"),
        ),
        rows=(RowRule("created_at", "created_at is not a date-time", _timestamp_unparseable("created_at")),),
        references=(Reference("user_id", "users"), Reference("product_id", "menus", nullable=True)),
    ),
    "user_coupon_wallet": SheetRules(
        columns=(
            not_null("id"),
            not_null("user_id"),
            not_null("coupon_id"),
            in_set("status", WALLET_STATUSES),
        ),
        rows=(
            RowRule("usage_date", "a USED coupon needs a usage_date", _used_without_date),
            RowRule("live_copy", "the user already holds an ACTIVE copy of this coupon", _second_live_copy),
            RowRule(
                "acquisition_context",
                "acquisition_context must be a JSON object",
                lambda df: _json_object_broken(df["acquisition_context"]),
            ),
        ),
        references=(
            Reference("user_id", "users"),
            Reference("coupon_id", "coupons"),
            Reference("used_shop_id", "shops", nullable=True),
            Reference("used_menu_id", "menus", nullable=True),
        ),
    ),
}

# Parents before children, so a child row can be checked against its parents' valid ids.
LOAD_ORDER: tuple[str, ...] = ("shops", "menus", "coupons", "users", "foodcard_users", "product_orders", "user_coupon_wallet")
