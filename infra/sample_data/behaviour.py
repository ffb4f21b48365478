"""The choice model that generated every order: a multinomial logit over (shop, menu) pairs.

It is public so later code (impression simulation, offline evaluation of the recommender)
can ask "how much would this user have liked this item at this hour" with the very model
that produced the data. The utility is a sum of readable terms:

* taste: ``log`` of the user's weight for the shop category (``CATEGORY_FLOOR`` if absent)
* time of day: a small category × meal-slot affinity shared by everybody (bakeries at
  breakfast, chicken late at night)
* money: a steep penalty above the user's budget (or meal-card balance, if lower), a mild one
  far below it (a 1,000원 side is not a meal)
* spice: spicy dishes please tolerant users and repel the others
* distance: linear in km, steeper for younger children
* meal card: card holders avoid shops that do not take the card
* loyalty: a bonus for the user's favourite shops, proportional to their loyalty
* good-influence shops (착한가게) get a small bonus; closed shops are infeasible

``choose`` samples one candidate from the softmax of these utilities.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .catalog import DESSERT, DRINK, MAIN, SET, SIDE, looks_spicy
from .columns import CATEGORIES, MENU_CATEGORIES

SLOTS: tuple[str, ...] = ("breakfast", "lunch", "dinner", "late_night")
# Minute-of-day windows in which orders of each slot are placed ([start, end), may wrap).
SLOT_WINDOWS: dict[str, tuple[int, int]] = {
    "breakfast": (7 * 60, 9 * 60 + 30),
    "lunch": (11 * 60 + 30, 13 * 60 + 45),
    "dinner": (17 * 60 + 30, 20 * 60 + 15),
    "late_night": (21 * 60 + 30, 24 * 60 + 60),  # until 01:00
}

CATEGORY_FLOOR = 0.003  # taste weight of a category the user never thinks of
PRICE_OVER_BUDGET = 4.0  # utility lost per 100 % over budget
PRICE_UNDER_BUDGET = 0.6  # utility lost per 100 % under budget (too small to be a meal)
SPICE_STRENGTH = 3.0  # spicy dish: + SPICE_STRENGTH * (tolerance - 0.5)
GOOD_SHOP_BONUS = 0.25
FAVOURITE_BONUS = 3.0  # × loyalty
FOOD_CARD_PENALTY: dict[str, float] = {"Y": 0.0, "P": -0.6, "U": -1.8, "N": -3.5}
# Menu role: what is a plausible thing to order on its own. Cafés and bakeries sell drinks
# and desserts as the main thing, so their roles are neutral.
ROLE_BONUS: dict[str, float] = {MAIN: 0.0, SET: -0.2, SIDE: -1.5, DRINK: -1.5, DESSERT: -1.0}
SNACK_CATEGORIES = frozenset({"카페·디저트", "베이커리"})

_SLOT_AFFINITY: dict[str, dict[str, float]] = {
    "breakfast": {"베이커리": 1.2, "카페·디저트": 0.8, "도시락·죽": 0.8, "분식": 0.3, "패스트푸드": 0.2,
                  "고기·구이": -2.0, "치킨": -2.0, "피자": -1.5, "중식": -0.8, "양식": -0.8, "일식": -0.6},
    "lunch": {"한식": 0.3, "분식": 0.2, "중식": 0.3, "일식": 0.2, "도시락·죽": 0.3, "고기·구이": -0.5},
    "dinner": {"치킨": 0.3, "피자": 0.3, "고기·구이": 0.4, "베이커리": -0.5, "카페·디저트": -0.4},
    "late_night": {"치킨": 1.0, "피자": 0.6, "분식": 0.3, "패스트푸드": 0.4, "고기·구이": 0.3,
                   "한식": -0.5, "베이커리": -1.5, "도시락·죽": -1.0, "카페·디저트": -0.3},
}
CATEGORY_INDEX = {c: i for i, c in enumerate(CATEGORIES)}
ROLE_INDEX = {r: i for i, r in enumerate(MENU_CATEGORIES)}
FOOD_CARD_INDEX = {"Y": 0, "P": 1, "U": 2, "N": 3}
SLOT_AFFINITY = np.array([[_SLOT_AFFINITY[s].get(c, 0.0) for c in CATEGORIES] for s in SLOTS])
_FC_PENALTY = np.array([FOOD_CARD_PENALTY[f] for f in ("Y", "P", "U", "N")])
_ROLE_BONUS = np.array([ROLE_BONUS[r] for r in MENU_CATEGORIES])
_SNACK_MASK = np.array([c in SNACK_CATEGORIES for c in CATEGORIES])


@dataclass(frozen=True)
class UserTruth:
    """What really drives one user's orders; serialised into the hidden-truth file."""

    user_id: int
    segment: str  # 'child' | 'teen' | 'young_adult' | 'adult'
    foodcard: bool
    home: tuple[float, float]
    district: str
    category_weights: dict[str, float]
    budget: int
    meal_times: dict[str, float]
    spice_tolerance: float
    loyalty: float
    distance_sensitivity: float  # utility lost per km
    orders_per_month: float
    favourite_shops: tuple[int, ...] = ()
    _weights: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        w = np.array([self.category_weights.get(c, 0.0) for c in CATEGORIES]) + CATEGORY_FLOOR
        object.__setattr__(self, "_weights", np.log(w))

    @property
    def log_weights(self) -> np.ndarray:
        """``log(weight + floor)`` per category, in ``CATEGORIES`` order."""
        return self._weights

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("_weights")
        out["home"] = list(self.home)
        out["favourite_shops"] = list(self.favourite_shops)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UserTruth:
        known = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        kwargs = {k: v for k, v in data.items() if k in known}  # e.g. the truth file's 'card'
        kwargs["home"] = tuple(kwargs["home"])
        kwargs["favourite_shops"] = tuple(kwargs.get("favourite_shops", ()))
        return cls(**kwargs)


def as_truth(user: UserTruth | Mapping[str, Any]) -> UserTruth:
    return user if isinstance(user, UserTruth) else UserTruth.from_json(user)


@dataclass(frozen=True)
class Candidates:
    """Column arrays describing (shop, menu) pairs a user could order, one element each."""

    shop_id: np.ndarray
    menu_id: np.ndarray
    category: np.ndarray  # index into CATEGORIES
    food_card: np.ndarray  # index into ('Y', 'P', 'U', 'N')
    good: np.ndarray  # bool
    price: np.ndarray  # won, for the quantity being ordered
    spicy: np.ndarray  # bool
    role: np.ndarray  # index into MENU_CATEGORIES
    distance_km: np.ndarray
    is_open: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.menu_id)

    def take(self, idx: np.ndarray) -> Candidates:
        return Candidates(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


def slot_of_minute(minute_of_day: float) -> str:
    """The meal slot an order time falls in (late night covers 21:00–05:00)."""
    m = minute_of_day % (24 * 60)
    if 5 * 60 <= m < 10 * 60 + 30:
        return "breakfast"
    if 10 * 60 + 30 <= m < 15 * 60 + 30:
        return "lunch"
    if 15 * 60 + 30 <= m < 21 * 60:
        return "dinner"
    return "late_night"


def hhmm_to_minutes(value: str | None) -> int | None:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    hours, minutes = str(value).split(":")
    return int(hours) * 60 + int(minutes)


def open_mask(open_min: np.ndarray, close_min: np.ndarray, break_start: np.ndarray,
              break_end: np.ndarray, minute_of_day: float) -> np.ndarray:
    """Which shops are open at ``minute_of_day``. Breaks use -1 for 'no break'.

    ``close < open`` wraps past midnight; ``close == open`` means open around the clock.
    """
    m = minute_of_day % (24 * 60)
    wraps = close_min < open_min
    in_hours = np.where(wraps, (m >= open_min) | (m < close_min), (m >= open_min) & (m < close_min))
    in_hours |= open_min == close_min
    on_break = (break_start >= 0) & (m >= break_start) & (m < break_end)
    return in_hours & ~on_break


def utilities(user: UserTruth | Mapping[str, Any], cand: Candidates, minute_of_day: float,
              balance: float | None = None, budget: float | None = None) -> np.ndarray:
    """Utility of every candidate for ``user`` at ``minute_of_day`` (vectorised).

    ``balance`` is the meal-card balance; it caps the budget at shops that take the card.
    ``budget`` overrides the user's typical budget (e.g. what is left for an add-on).
    """
    truth = as_truth(user)
    slot = SLOTS.index(slot_of_minute(minute_of_day))
    cap = np.full(len(cand), float(budget if budget is not None else truth.budget))
    if truth.foodcard and balance is not None:
        takes_card = cand.food_card <= FOOD_CARD_INDEX["P"]
        cap = np.where(takes_card, np.minimum(cap, max(balance, 1.0)), cap)
    price = cand.price.astype(float)
    over = np.maximum(price - cap, 0.0) / cap
    under = np.maximum(cap - price, 0.0) / cap
    role_bonus = np.where(_SNACK_MASK[cand.category], 0.0, _ROLE_BONUS[cand.role])
    u = (truth.log_weights[cand.category]
         + SLOT_AFFINITY[slot, cand.category]
         - PRICE_OVER_BUDGET * over
         - PRICE_UNDER_BUDGET * under
         + cand.spicy * SPICE_STRENGTH * (truth.spice_tolerance - 0.5)
         - truth.distance_sensitivity * cand.distance_km
         + cand.good * GOOD_SHOP_BONUS
         + role_bonus)
    if truth.foodcard:
        u = u + _FC_PENALTY[cand.food_card]
    if truth.favourite_shops:
        favourite = (cand.shop_id[:, None] == np.asarray(truth.favourite_shops)[None, :]).any(axis=1)
        u = u + favourite * (FAVOURITE_BONUS * truth.loyalty)
    return np.where(cand.is_open, u, -np.inf)


def choose(rng: np.random.Generator, user: UserTruth | Mapping[str, Any], cand: Candidates,
           minute_of_day: float, balance: float | None = None, budget: float | None = None,
           temperature: float = 1.0) -> int | None:
    """Sample one candidate index from the softmax of utilities; None if nothing is feasible."""
    u = utilities(user, cand, minute_of_day, balance=balance, budget=budget)
    return sample_softmax(rng, u, temperature)


def sample_softmax(rng: np.random.Generator, u: np.ndarray, temperature: float = 1.0) -> int | None:
    finite = np.isfinite(u)
    if not finite.any():
        return None
    z = np.where(finite, (u - u[finite].max()) / temperature, -np.inf)
    cdf = np.cumsum(np.exp(z))
    # Inverse-CDF draw; zero-probability (infeasible) items can never be hit.
    return int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))


def choice_probabilities(user: UserTruth | Mapping[str, Any], cand: Candidates,
                         minute_of_day: float, balance: float | None = None) -> np.ndarray:
    """Softmax probabilities over the candidates (for labelled-impression simulation)."""
    u = utilities(user, cand, minute_of_day, balance=balance)
    finite = np.isfinite(u)
    p = np.zeros(len(u))
    if finite.any():
        p[finite] = np.exp(u[finite] - u[finite].max())
        p /= p.sum()
    return p


def candidates_from_rows(shops: Sequence[Mapping[str, Any]], menus: Sequence[Mapping[str, Any]],
                         distances_km: Sequence[float], minute_of_day: float,
                         quantity: int = 1) -> Candidates:
    """Build ``Candidates`` from workbook-shaped rows (dicts or pandas Series), pairwise.

    ``menus[i]`` is sold by ``shops[i]``. A menu row may carry ``spicy`` (from the hidden
    truth); otherwise spiciness is read off its name and description, as the generator wrote
    them so that both agree.
    """
    def spicy(menu: Mapping[str, Any]) -> bool:
        if "spicy" in menu and menu["spicy"] is not None:
            return bool(menu["spicy"])
        return looks_spicy(f"{menu.get('menu_name', '')} {menu.get('description', '') or ''}")

    def minutes(shop: Mapping[str, Any], key: str) -> int:
        value = hhmm_to_minutes(shop.get(key))
        return -1 if value is None else value

    opens = np.array([minutes(s, "open_hour") for s in shops])
    closes = np.array([minutes(s, "close_hour") for s in shops])
    bstart = np.array([minutes(s, "break_start_hour") for s in shops])
    bend = np.array([minutes(s, "break_end_hour") for s in shops])
    return Candidates(
        shop_id=np.array([int(s["id"]) for s in shops]),
        menu_id=np.array([int(m["id"]) for m in menus]),
        category=np.array([CATEGORY_INDEX[s["category"]] for s in shops]),
        food_card=np.array([FOOD_CARD_INDEX.get(s.get("is_food_card_shop") or "U", 2) for s in shops]),
        good=np.array([bool(s.get("is_good_influence_shop")) for s in shops]),
        price=np.array([int(m["price"]) * quantity for m in menus]),
        spicy=np.array([spicy(m) for m in menus]),
        role=np.array([ROLE_INDEX[m["category"]] for m in menus]),
        distance_km=np.asarray(distances_km, dtype=float),
        is_open=open_mask(opens, closes, bstart, bend, minute_of_day),
    )


def utility(user_truth: UserTruth | Mapping[str, Any], shop_row: Mapping[str, Any],
            menu_row: Mapping[str, Any], hour: float, distance_km: float,
            balance: float | None = None, quantity: int = 1) -> float:
    """Utility of one menu of one shop for one user at ``hour`` (e.g. 12.5 = 12:30).

    ``-inf`` when the shop is closed then. Same model as ``utilities``, for one pair.
    """
    cand = candidates_from_rows([shop_row], [menu_row], [distance_km], hour * 60, quantity)
    return float(utilities(user_truth, cand, hour * 60, balance=balance)[0])
