"""Shops and their menus, drawn from the catalog and placed in real neighbourhoods."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog, places
from .catalog import DESSERT, DRINK, MAIN, SET, SIDE, CategorySpec, Dish
from .columns import CATEGORIES

GOOD_SHOP_SHARE = 0.15
# Meal-card acceptance (Y, P, N, U): most neighbourhood restaurants are registered; cafés and
# barbecue places less often, good-influence shops almost always.
_CARD_P = {"default": (0.72, 0.10, 0.10, 0.08), "카페·디저트": (0.45, 0.10, 0.35, 0.10),
           "고기·구이": (0.45, 0.15, 0.30, 0.10), "good": (0.94, 0.04, 0.0, 0.02)}
_NO_SET = ("정식", "1인분", "조각")  # already a full meal, or too small to build a set on
_MAIN_TAILS = ("", "", "", " 가게 대표 메뉴예요.", " 학생들이 제일 많이 찾아요.", " 양이 넉넉해요.",
               " 포장도 돼요.")


@dataclass(frozen=True, slots=True)
class MenuItem:
    """A priced menu item with the hidden facts kept for retrieval evaluation."""

    shop_key: int
    name: str
    price: int
    description: str
    role: str
    dish_type: str
    spicy: bool
    attributes: tuple[str, ...] = ()  # catalog.DISH_ATTRIBUTES tags: hidden truth, never in the name


@dataclass(frozen=True, slots=True)
class Shop:
    key: int  # shop id (1-based, in generation order)
    name: str
    category: str
    address: str
    good: bool
    food_card: str
    open_hour: str
    close_hour: str
    break_start: str | None
    break_end: str | None
    phone: str
    owner_message: str
    lat: float
    lon: float
    district: str
    menus: tuple[MenuItem, ...]


def round_price(value: float) -> int:
    """Korean menu prices end in 00 (under 2,000원) or 500/000 (above)."""
    step = 100 if value < 2000 else 500
    return int(max(step, round(value / step) * step))


def _hours(rng: np.random.Generator, spec: CategorySpec) -> tuple[str, str, str | None, str | None]:
    h = spec.hours
    if rng.random() < h.allday_share:
        return "00:00", "00:00", None, None
    open_hour, close_hour = str(rng.choice(h.open)), str(rng.choice(h.close))
    if rng.random() < h.break_share and open_hour <= "12:00":
        return open_hour, close_hour, str(rng.choice(h.break_start)), str(rng.choice(h.break_end))
    return open_hour, close_hour, None, None


def _branch(hood: places.Neighbourhood) -> str:
    """'망원동' → '망원점'; one-syllable stems keep the suffix ('중동' → '중동점')."""
    stem = hood.dong.removesuffix("동")
    return f"{stem if len(stem) >= 2 else hood.dong}점"


def _name(rng: np.random.Generator, spec: CategorySpec, hood: places.Neighbourhood, allday: bool,
          taken: dict[tuple[str, str], int]) -> str:
    """An invented name; franchise-style branch names ('○○떡볶이 망원점') for some, and for
    any name already used in the district, so that names stay unique there."""
    name = str(rng.choice(spec.stems)) + str(rng.choice(spec.cores)) + (" 24시" if allday else "")
    if rng.random() < 0.3 or (hood.district_label, name) in taken:
        name += f" {_branch(hood)}"
    key = (hood.district_label, name)
    taken[key] = taken.get(key, 0) + 1
    if taken[key] > 1:
        name += f" {taken[key]}호점"
    return name


def _owner_message(rng: np.random.Generator, spec: CategorySpec, name: str, hood: places.Neighbourhood,
                   card: str, good: bool) -> str:
    if rng.random() < 0.08:
        return ""
    lines: list[str] = []
    if rng.random() < 0.5:
        lines.append(str(rng.choice(catalog.GREETINGS)).format(name=name, dong=hood.dong))
    lines.append(str(rng.choice(spec.pitch)))
    if card in ("Y", "P") and rng.random() < 0.5:
        lines.append(str(rng.choice(catalog.CARD_LINES)))
    if good and rng.random() < 0.8:
        lines.append(str(rng.choice(catalog.GOOD_SHOP_LINES)))
    return " ".join(lines)


def _pick(rng: np.random.Generator, items: list[Dish], low: int, high: int) -> list[Dish]:
    if not items:
        return []
    k = int(rng.integers(min(low, len(items)), min(high, len(items)) + 1))
    idx = np.sort(rng.choice(len(items), size=k, replace=False))
    return [items[i] for i in idx]


def _menus(rng: np.random.Generator, spec: CategorySpec, shop_key: int) -> tuple[MenuItem, ...]:
    """A plausible menu board: mains, a few sides and drinks, maybe desserts and sets."""
    by_role: dict[str, list[Dish]] = {r: [d for d in spec.dishes if d.role == r] for r in (MAIN, SIDE, DRINK, DESSERT)}
    snack = spec.name in ("카페·디저트", "베이커리")
    drinks = by_role[DRINK] + (list(catalog.COMMON_DRINKS) if spec.generic_drinks else [])
    chosen = (
        _pick(rng, by_role[MAIN], *spec.mains)
        + _pick(rng, by_role[SIDE], 1, 3)
        + _pick(rng, drinks, 5 if snack else 1, 9 if snack else 3)
        + _pick(rng, by_role[DESSERT], 2 if snack else 0, 5 if snack else 2)
    )
    level = float(np.clip(rng.normal(1.0, 0.06), 0.88, 1.15))  # the shop's price level
    position = float(np.clip(rng.normal(0.5, 0.2), 0.0, 1.0))  # where in each range it sits
    items: list[MenuItem] = []
    for dish in chosen:
        where = float(np.clip(position + rng.normal(0, 0.15), 0.0, 1.0))
        price = round_price((dish.low + (dish.high - dish.low) * where) * level)
        tail = str(rng.choice(_MAIN_TAILS)) if dish.role == MAIN else ""
        desc = dish.desc + ("." + tail if tail else "")
        items.append(MenuItem(shop_key, dish.name, price, desc, dish.role, dish.dish_type, dish.spicy,
                              dish.attributes))
    items.extend(_sets(rng, items, snack))
    return tuple(items)


def _sets(rng: np.random.Generator, items: list[MenuItem], snack: bool) -> list[MenuItem]:
    """0–2 combo sets (main + side + drink, about 10 % off) for restaurants that sell sides."""
    mains = [m for m in items if m.role == MAIN and m.price <= 12000 and not any(w in m.name for w in _NO_SET)]
    sides = [m for m in items if m.role == SIDE and 1500 <= m.price <= 5500]
    drinks = [m for m in items if m.role == DRINK]
    if snack or not (mains and sides and drinks):
        return []
    out: list[MenuItem] = []
    for i in rng.choice(len(mains), size=min(len(mains), int(rng.integers(0, 3))), replace=False):
        main = mains[int(i)]
        side, drink = sides[int(rng.integers(len(sides)))], drinks[int(rng.integers(len(drinks)))]
        heat = "매콤한 " if main.spicy and not catalog.looks_spicy(main.name) else ""
        desc = (f"{heat}{main.name}에 {catalog.josa(side.name, '과', '와')} "
                f"{catalog.josa(drink.name, '을', '를')} 더한 실속 세트")
        price = round_price((main.price + side.price + drink.price) * 0.9)
        out.append(MenuItem(main.shop_key, f"{main.name} 세트", price, desc, SET, main.dish_type, main.spicy,
                              catalog.set_attributes(main.attributes)))
    return out


def make_shops(rng: np.random.Generator, n_shops: int, hoods: list[places.Neighbourhood],
               hood_weights: np.ndarray) -> list[Shop]:
    """``n_shops`` shops spread over ``hoods`` (weighted), categories by their market share."""
    shares = np.array([catalog.CATALOG[c].share for c in CATEGORIES])
    cats = rng.choice(len(CATEGORIES), size=n_shops, p=shares / shares.sum())
    hood_idx = rng.choice(len(hoods), size=n_shops, p=hood_weights / hood_weights.sum())
    shops: list[Shop] = []
    taken: dict[tuple[str, str], int] = {}
    for i in range(n_shops):
        spec = catalog.CATALOG[CATEGORIES[int(cats[i])]]
        hood = hoods[int(hood_idx[i])]
        key = i + 1
        good = bool(rng.random() < GOOD_SHOP_SHARE * (1.3 if spec.name in ("한식", "분식", "도시락·죽") else 0.9))
        card_p = _CARD_P["good"] if good else _CARD_P.get(spec.name, _CARD_P["default"])
        card = str(rng.choice(["Y", "P", "N", "U"], p=card_p))
        open_hour, close_hour, b_start, b_end = _hours(rng, spec)
        name = _name(rng, spec, hood, open_hour == close_hour, taken)
        lat, lon = places.random_points(rng, hood, 1)[0]
        shops.append(Shop(
            key=key, name=name, category=spec.name, address=places.street_address(rng, hood),
            good=good, food_card=card, open_hour=open_hour, close_hour=close_hour,
            break_start=b_start, break_end=b_end, phone=places.phone_number(rng, hood),
            owner_message=_owner_message(rng, spec, name, hood, card, good),
            lat=float(lat), lon=float(lon), district=hood.district_label,
            menus=_menus(rng, spec, key),
        ))
    return shops


def neighbourhood_weights(rng: np.random.Generator, hoods: list[places.Neighbourhood]) -> np.ndarray:
    """How busy each neighbourhood is: bigger ones hold more, with some random variation."""
    size = np.array([min(h.radius_km, places.MAX_SPREAD_KM) for h in hoods]) ** 1.5
    return size * rng.lognormal(0.0, 0.35, len(hoods))
