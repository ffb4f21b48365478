"""Search filters, and the small backend-neutral condition tree they compile to.

``SearchFilters`` speaks the NLU's language (shop categories, a budget in won, the
``dietary_restrictions`` labels of ``shared/spec/nlu_labels.md``). ``to_condition(target)`` turns it
into a ``Bool`` tree that each vector-store backend translates to its own filter type, so filtering
happens inside the Qdrant search, never after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal, Union

Target = Literal["menus", "shops"]


# --- the neutral condition tree --------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    key: str
    value: str | int


@dataclass(frozen=True)
class MatchAny:
    key: str
    values: tuple[str | int, ...]


@dataclass(frozen=True)
class Range:
    key: str
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None


@dataclass(frozen=True)
class GeoRadius:
    key: str
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Bool:
    must: tuple["Condition", ...] = ()
    should: tuple["Condition", ...] = ()
    must_not: tuple["Condition", ...] = ()

    def is_empty(self) -> bool:
        return not (self.must or self.should or self.must_not)


Condition = Union[Match, MatchAny, Range, GeoRadius, Bool]

# dietary_restrictions label → (menus must carry one of these tags, menus must carry none of these)
DIETARY_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "vegetarian": (("vegetarian", "vegan"), ()),
    "vegan": (("vegan",), ()),
    "halal": (("halal",), ("pork", "contains_pork")),
    "no_pork": ((), ("pork", "contains_pork")),
    "no_beef": ((), ("beef", "contains_beef")),
    "no_seafood": ((), ("seafood", "contains_seafood")),
    "no_spicy": ((), ("spicy",)),
    "no_nuts": ((), ("nuts", "contains_nuts")),
    "no_dairy": ((), ("dairy", "contains_dairy")),
}

OPEN_BUCKET_MINUTES = 5


@dataclass
class SearchFilters:
    """What a search must satisfy. Every field is optional; the default filters nothing.

    * ``categories``: shop categories (the 13 of the spec), any of them.
    * ``menu_categories``: 메인메뉴/세트메뉴/사이드메뉴/음료/디저트 (menu searches only).
    * ``meal_kinds``: meal/snack/side/drink/unknown, the dbt-derived ``menus.meal_kind`` (menu searches only).
    * ``food_card_only``: only shops whose ``is_food_card_shop`` is in ``food_card_values``
      (default Y and P: a partial shop accepts the card for some menus).
    * ``open_now``: open at ``at`` (default: now in the service's time zone), from the shop's hours,
      break time and overnight hours; shops without hours fall back to ``current_status == 'OPEN'``.
      The time is rounded down to 5 minutes so that cached results stay valid for that window.
    * ``statuses``: ``current_status`` in these values (as the warehouse computed it).
    * ``max_price`` / ``min_price``: menus: the menu's price; shops: the shop has a menu within
      budget (its cheapest menu ≤ ``max_price``).
    * ``good_influence_only``: 착한가게 only.
    * ``near``: (lat, lon, radius in metres).
    * ``dietary``: NLU ``dietary_restrictions`` labels (menus: tags; see ``DIETARY_RULES``).
    * ``shop_ids``: restrict to these shops.
    """

    categories: list[str] | None = None
    menu_categories: list[str] | None = None
    meal_kinds: list[str] | None = None
    food_card_only: bool = False
    food_card_values: tuple[str, ...] = ("Y", "P")
    open_now: bool = False
    at: datetime | None = None
    statuses: list[str] | None = None
    max_price: int | None = None
    min_price: int | None = None
    good_influence_only: bool = False
    near: tuple[float, float, float] | None = None
    dietary: list[str] | None = None
    shop_ids: list[int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # reserved; not part of the filter

    @classmethod
    def from_dict(cls, data: "SearchFilters | dict[str, Any] | None") -> "SearchFilters":
        if data is None:
            return cls()
        if isinstance(data, SearchFilters):
            return data
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown search filter(s): {sorted(unknown)}")
        return cls(**data)

    def open_minute(self, tz) -> int | None:
        """Minute of the day the ``open_now`` check uses (rounded down to 5 minutes)."""
        if not self.open_now:
            return None
        at = self.at or datetime.now(tz)
        if at.tzinfo is not None:
            at = at.astimezone(tz)
        minute = at.hour * 60 + at.minute
        return minute - minute % OPEN_BUCKET_MINUTES

    def cache_key(self, tz) -> dict[str, Any]:
        """A canonical, JSON-able form: equal filters give equal keys."""
        key: dict[str, Any] = {}
        if self.categories:
            key["categories"] = sorted(set(self.categories))
        if self.menu_categories:
            key["menu_categories"] = sorted(set(self.menu_categories))
        if self.meal_kinds:
            key["meal_kinds"] = sorted(set(self.meal_kinds))
        if self.food_card_only:
            key["food_card"] = sorted(set(self.food_card_values))
        if self.open_now:
            key["open_minute"] = self.open_minute(tz)
        if self.statuses:
            key["statuses"] = sorted(set(self.statuses))
        if self.max_price is not None:
            key["max_price"] = int(self.max_price)
        if self.min_price is not None:
            key["min_price"] = int(self.min_price)
        if self.good_influence_only:
            key["good_influence"] = 1
        if self.near:
            key["near"] = [round(float(v), 5) for v in self.near]
        if self.dietary:
            key["dietary"] = sorted(set(self.dietary))
        if self.shop_ids:
            key["shop_ids"] = sorted({int(i) for i in self.shop_ids})
        return key

    def to_condition(self, target: Target, tz) -> Bool:
        must: list[Condition] = []
        must_not: list[Condition] = []
        if self.categories:
            must.append(MatchAny("category", tuple(sorted(set(self.categories)))))
        if self.menu_categories and target == "menus":
            must.append(MatchAny("menu_category", tuple(sorted(set(self.menu_categories)))))
        if self.meal_kinds and target == "menus":
            must.append(MatchAny("meal_kind", tuple(sorted(set(self.meal_kinds)))))
        if self.food_card_only:
            must.append(MatchAny("is_food_card_shop", tuple(sorted(set(self.food_card_values)))))
        if self.statuses:
            must.append(MatchAny("current_status", tuple(sorted(set(self.statuses)))))
        if self.good_influence_only:
            must.append(Match("good_influence", 1))
        if self.shop_ids:
            must.append(MatchAny("shop_id", tuple(sorted({int(i) for i in self.shop_ids}))))
        if self.near:
            lat, lon, radius = self.near
            must.append(GeoRadius("location", float(lat), float(lon), float(radius)))
        if self.max_price is not None or self.min_price is not None:
            if target == "menus":
                must.append(Range("price", gte=self.min_price, lte=self.max_price))
            else:
                if self.max_price is not None:
                    must.append(Range("min_price", lte=self.max_price))
                if self.min_price is not None:
                    must.append(Range("max_price", gte=self.min_price))
        if self.dietary and target == "menus":
            for label in sorted(set(self.dietary)):
                required, forbidden = DIETARY_RULES.get(label, ((), ()))
                if required:
                    must.append(MatchAny("dietary_tags", required))
                if forbidden:
                    must_not.append(MatchAny("dietary_tags", forbidden))
        minute = self.open_minute(tz)
        if minute is not None:
            must.append(open_at_condition(minute))
            must_not.append(Bool(must=(Range("break_start_min", lte=minute), Range("break_end_min", gt=minute))))
        return Bool(must=tuple(must), must_not=tuple(must_not))


def open_at_condition(minute: int) -> Bool:
    """Open at ``minute`` of the day (break time is excluded separately)."""
    same_day = Bool(must=(
        Match("hours_known", 1), Match("overnight", 0),
        Range("open_min", lte=minute), Range("close_min", gt=minute),
    ))
    overnight = Bool(
        must=(Match("hours_known", 1), Match("overnight", 1)),
        should=(Range("open_min", lte=minute), Range("close_min", gt=minute)),
    )
    unknown_hours = Bool(must=(Match("hours_known", 0), Match("current_status", "OPEN")))
    return Bool(should=(same_day, overnight, unknown_hours))


# payload indexes each collection gets: field → schema kind
PAYLOAD_INDEXES: dict[str, dict[str, str]] = {
    "menus": {
        "category": "keyword", "menu_category": "keyword", "meal_kind": "keyword", "is_food_card_shop": "keyword",
        "current_status": "keyword", "dietary_tags": "keyword", "price": "integer",
        "good_influence": "integer", "shop_id": "integer", "hours_known": "integer", "overnight": "integer",
        "open_min": "integer", "close_min": "integer", "break_start_min": "integer",
        "break_end_min": "integer", "location": "geo", "dish": "keyword", "dish_rep": "integer",
    },
    "shops": {
        "category": "keyword", "is_food_card_shop": "keyword", "current_status": "keyword",
        "min_price": "integer", "max_price": "integer", "good_influence": "integer", "shop_id": "integer",
        "hours_known": "integer", "overnight": "integer", "open_min": "integer", "close_min": "integer",
        "break_start_min": "integer", "break_end_min": "integer", "location": "geo",
    },
}
