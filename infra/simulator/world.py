"""The simulated world: which children take part, the shop catalogue as it really is, and the card
issuer that tops meal cards up and drains them offline.

Children are sample-data users with their hidden truth (``hidden_truth.json``): home, tastes,
budget, meal times, spice tolerance, loyalty, distance sensitivity, card allowance. The catalogue
(shops with coordinates and opening hours, menus with prices) is read from the database the
service answers from; spiciness comes from the hidden truth's menu table, as the generator wrote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from infra.geo import haversine_m
from infra.sample_data.behaviour import UserTruth, hhmm_to_minutes
from infra.sample_data.simulation import MAX_DISTANCE_KM

SCHOOL_AGE = ("child", "teen")
CARD_SHOP_FLAGS = frozenset({"Y", "P"})


@dataclass(frozen=True)
class Shop:
    id: int
    name: str
    category: str
    lat: float
    lon: float
    food_card: str
    good: bool
    open_min: int | None
    close_min: int | None
    break_start: int | None
    break_end: int | None

    def is_open(self, minute: int) -> bool:
        """Open at ``minute`` of the local day, breaks excluded (the same rule as the generator)."""
        if self.open_min is None or self.close_min is None:
            return True
        m = minute % 1440
        if self.open_min == self.close_min:
            inside = True
        elif self.close_min > self.open_min:
            inside = self.open_min <= m < self.close_min
        else:
            inside = m >= self.open_min or m < self.close_min
        on_break = self.break_start is not None and self.break_end is not None and self.break_start <= m < self.break_end
        return inside and not on_break

    @property
    def takes_card(self) -> bool:
        return self.food_card in CARD_SHOP_FLAGS


@dataclass(frozen=True)
class Menu:
    id: int
    shop_id: int
    name: str
    price: int
    role: str
    spicy: bool


@dataclass
class Child:
    user_id: int
    truth: UserTruth
    allowance: int | None  # monthly meal-card top-up (None: no card)
    offline_per_day: float
    max_walk_km: float
    ordered_shops: set[int] = field(default_factory=set)  # in this simulation: what is novel and what is not

    @property
    def platform_id(self) -> str:
        return str(self.user_id)


@dataclass
class World:
    shops: dict[int, Shop]
    menus: dict[int, Menu]
    children: list[Child]
    reference: str  # the sample data's "now" (local ISO), the day before the first simulated day

    def distance_km(self, child: Child, shop_id: int) -> float:
        s = self.shops[shop_id]
        return haversine_km(child.truth.home[0], child.truth.home[1], s.lat, s.lon)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return haversine_m(lat1, lon1, lat2, lon2) / 1000.0


SHOPS_SQL = text("""
    SELECT id, shop_name, category, latitude, longitude, is_food_card_shop, is_good_influence_shop,
           open_hour, close_hour, break_start_hour, break_end_hour
    FROM shops WHERE latitude IS NOT NULL AND longitude IS NOT NULL
""")
MENUS_SQL = text("SELECT id, shop_id, menu_name, price, category FROM menus")
USERS_SQL = text("SELECT id FROM users")


def read_truth(path: Path) -> dict[str, Any]:
    if not Path(path).exists():
        raise FileNotFoundError(f"{path} is missing: the simulator needs the sample data's hidden truth "
                                "(`naviyam data generate` writes it)")
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_world(engine: Engine, truth: dict[str, Any], n_children: int, seed: int) -> World:
    """``n_children`` school-age users known to both the database and the hidden truth, drawn with
    ``seed`` (meal-card holders first, as the product serves them first); fewer when fewer exist."""
    with engine.connect() as conn:
        shop_rows = conn.execute(SHOPS_SQL).mappings().all()
        menu_rows = conn.execute(MENUS_SQL).mappings().all()
        user_ids = {int(r[0]) for r in conn.execute(USERS_SQL)}
    truth_menus = truth.get("menus", {})
    shops = {int(r["id"]): Shop(
        id=int(r["id"]), name=r["shop_name"], category=r["category"], lat=float(r["latitude"]),
        lon=float(r["longitude"]), food_card=r["is_food_card_shop"] or "U", good=bool(r["is_good_influence_shop"]),
        open_min=hhmm_to_minutes(r["open_hour"]), close_min=hhmm_to_minutes(r["close_hour"]),
        break_start=hhmm_to_minutes(r["break_start_hour"]), break_end=hhmm_to_minutes(r["break_end_hour"]),
    ) for r in shop_rows}
    menus = {}
    for r in menu_rows:
        if int(r["shop_id"]) not in shops:
            continue
        spicy_flag = truth_menus.get(str(r["id"]), [None, None, 0])[2]
        menus[int(r["id"])] = Menu(id=int(r["id"]), shop_id=int(r["shop_id"]), name=r["menu_name"],
                                   price=int(r["price"]), role=r["category"] or "메인메뉴", spicy=bool(spicy_flag))
    candidates = []
    for key, entry in truth.get("users", {}).items():
        uid = int(key)
        if uid not in user_ids:
            continue
        t = UserTruth.from_json({**entry, "user_id": uid})
        card = entry.get("card") or {}
        has_card = bool(t.foodcard and card and card.get("status") == "ACTIVE")
        candidates.append((t.segment in SCHOOL_AGE, has_card, uid, t, card))
    # school-age first, then card holders, then a seeded shuffle: the same seed draws the same children
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(candidates))
    ranked = sorted(zip(order, candidates), key=lambda p: (not p[1][0], not p[1][1], p[0]))
    children = []
    for _, (_school, has_card, uid, t, card) in ranked[:n_children]:
        children.append(Child(user_id=uid, truth=t, allowance=int(card["monthly_allowance"]) if has_card else None,
                              offline_per_day=float(card.get("offline_per_day", 0.0)) if has_card else 0.0,
                              max_walk_km=MAX_DISTANCE_KM[t.segment]))
    children.sort(key=lambda c: c.user_id)
    return World(shops=shops, menus=menus, children=children,
                 reference=str(truth.get("meta", {}).get("reference_time", "")))


class CardIssuer:
    """The meal-card system outside the app: on the 1st of a month it tops every active card up to
    its allowance, and every day the child spends some of it offline (at the school store, with
    family). These writes are the world's, not the service's: the service only reads the balance
    and records what was paid through the app (``serving/orders.py``)."""

    TOPUP_SQL = text("UPDATE foodcard_users SET balance = :allowance, emergency_coupon_eligible = true "
                     "WHERE user_id = :user_id AND status = 'ACTIVE'")
    SPEND_SQL = text("UPDATE foodcard_users SET balance = greatest(0, balance - :amount) "
                     "WHERE user_id = :user_id AND status = 'ACTIVE'")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start_of_day(self, day: date, children: list[Child]) -> None:
        with self.engine.begin() as conn:
            for c in children:
                if c.allowance is None:
                    continue
                if day.day == 1:
                    conn.execute(self.TOPUP_SQL, {"allowance": c.allowance, "user_id": c.user_id})
                if c.offline_per_day > 0:
                    conn.execute(self.SPEND_SQL, {"amount": int(round(c.offline_per_day / 10) * 10),
                                                  "user_id": c.user_id})
