"""Who uses Naviyam: meal-card children and teenagers, plus some adult regular users.

Each person gets public attributes (name, nickname, birthday, address) and a hidden
``UserTruth`` (taste, budget, habits) that the simulation then acts out. Segment priors encode
common sense: children order 분식 and fast food, spend little and rarely eat late; adults
lean to 한식, cafés and 고기; meal-card holders' budgets sit under the per-meal card limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from . import catalog, places
from .behaviour import SLOTS, UserTruth
from .columns import CATEGORIES

# Prior taste per segment (relative popularity of each category, CATEGORIES order).
_TASTE: dict[str, dict[str, float]] = {
    "child": {"분식": 20, "패스트푸드": 15, "치킨": 13, "피자": 10, "한식": 8, "중식": 8, "카페·디저트": 5,
              "베이커리": 7, "도시락·죽": 6, "일식": 4, "양식": 2.5, "아시안": 0.7, "고기·구이": 0.8},
    "teen": {"분식": 18, "패스트푸드": 14, "치킨": 12, "카페·디저트": 10, "피자": 7, "한식": 8, "중식": 7,
             "일식": 6, "도시락·죽": 6, "베이커리": 5, "양식": 3, "아시안": 2, "고기·구이": 2},
    "adult": {"한식": 18, "카페·디저트": 12, "중식": 8, "일식": 8, "분식": 8, "고기·구이": 8, "치킨": 8,
              "양식": 6, "아시안": 6, "패스트푸드": 5, "베이커리": 5, "피자": 4, "도시락·죽": 4},
}
_TASTE["young_adult"] = {c: (_TASTE["teen"][c] + _TASTE["adult"][c]) / 2 for c in CATEGORIES}
TASTE_CONCENTRATION = 5.0  # lower → more idiosyncratic tastes

_MEALS: dict[str, tuple[float, float, float, float]] = {  # breakfast, lunch, dinner, late_night
    "child": (0.12, 0.33, 0.52, 0.03),
    "teen": (0.10, 0.30, 0.45, 0.15),
    "young_adult": (0.08, 0.35, 0.40, 0.17),
    "adult": (0.10, 0.42, 0.35, 0.13),
}
# (mean, sd, low, high) of the typical spend per order, in won.
_BUDGET: dict[str, tuple[float, float, float, float]] = {
    "child": (6500, 1300, 3500, 9000),
    "teen": (7500, 1500, 4000, 10000),
    "young_adult": (8500, 1500, 5000, 11000),
    "adult": (11500, 3500, 6000, 25000),
}
_SPICE: dict[str, tuple[float, float]] = {  # Beta(a, b) of spice tolerance
    "child": (1.5, 3.5), "teen": (2.5, 2.5), "young_adult": (3.0, 2.2), "adult": (3.0, 2.0),
}
_DISTANCE: dict[str, float] = {"child": 1.8, "teen": 1.2, "young_adult": 0.9, "adult": 0.7}
_BIRTH_YEARS: dict[str, tuple[int, int]] = {
    "child": (2014, 2017), "teen": (2008, 2013), "young_adult": (2002, 2007), "adult": (1965, 2001),
}
HOME_SPREAD_KM = 0.7  # users live close to their neighbourhood centre


@dataclass(frozen=True)
class Person:
    """Public attributes of a user (the ``users`` sheet) plus sign-up time and card flag."""

    key: int  # generation order; user ids are assigned later by sign-up time
    name: str
    nickname: str
    birthday: date
    address: str
    signup: datetime
    truth: UserTruth  # user_id is a placeholder until ids are assigned


def segment_mix(n_users: int, rng: np.random.Generator) -> list[tuple[str, bool]]:
    """(segment, holds a meal card) for each user: ~2/3 card holders, mostly school-age."""
    out: list[tuple[str, bool]] = []
    for _ in range(n_users):
        if rng.random() < 2 / 3:
            seg = rng.choice(["child", "teen", "young_adult"], p=[0.42, 0.53, 0.05])
            out.append((str(seg), True))
        else:
            seg = rng.choice(["teen", "young_adult", "adult"], p=[0.2, 0.2, 0.6])
            out.append((str(seg), False))
    return out


def korean_name(rng: np.random.Generator, young: bool) -> str:
    surnames, weights = zip(*catalog.SURNAMES)
    p = np.asarray(weights) / sum(weights)
    first = catalog.GIVEN_FIRST_YOUNG if young else catalog.GIVEN_FIRST_ADULT
    second = catalog.GIVEN_SECOND_YOUNG if young else catalog.GIVEN_SECOND_ADULT
    given = str(rng.choice(first)) + str(rng.choice(second))
    if given[0] == given[1]:
        given = given[0] + str(rng.choice(second))
    return str(rng.choice(surnames, p=p)) + given


def nickname(rng: np.random.Generator) -> str:
    nick = str(rng.choice(catalog.NICK_ADJECTIVES)) + str(rng.choice(catalog.NICK_NOUNS))
    return nick + str(int(rng.integers(1, 1000))) if rng.random() < 0.6 else nick


def _taste(rng: np.random.Generator, segment: str) -> dict[str, float]:
    prior = np.array([_TASTE[segment][c] for c in CATEGORIES], dtype=float)
    w = rng.dirichlet(prior / prior.sum() * TASTE_CONCENTRATION * len(CATEGORIES) / 4)
    # Store what the model uses: rounded, tiny weights dropped (CATEGORY_FLOOR covers them).
    return {c: round(float(x), 3) for c, x in sorted(zip(CATEGORIES, w), key=lambda t: -t[1]) if x >= 0.005}


def _truth(rng: np.random.Generator, segment: str, foodcard: bool,
           hood: places.Neighbourhood, home: tuple[float, float]) -> UserTruth:
    mean, sd, low, high = _BUDGET[segment]
    budget = int(round(float(np.clip(rng.normal(mean, sd), low, high)) / 500) * 500)
    meals = rng.dirichlet(np.asarray(_MEALS[segment]) * 12)
    a, b = _SPICE[segment]
    activity = rng.gamma(2.0, 1.5) if foodcard else rng.gamma(1.5, 0.9)
    return UserTruth(
        user_id=-1,
        segment=segment,
        foodcard=foodcard,
        home=home,
        district=hood.district_label,
        category_weights=_taste(rng, segment),
        budget=budget,
        meal_times={s: round(float(x), 3) for s, x in zip(SLOTS, meals)},
        spice_tolerance=round(float(rng.beta(a, b)), 3),
        loyalty=round(float(rng.beta(2.0, 2.0)), 3),
        distance_sensitivity=round(_DISTANCE[segment] * float(rng.lognormal(0.0, 0.2)), 3),
        orders_per_month=round(float(np.clip(activity, 0.3, 15.0)), 2),
    )


def _birthday(rng: np.random.Generator, segment: str) -> date:
    first, last = _BIRTH_YEARS[segment]
    start = date(first, 1, 1)
    return start + timedelta(days=int(rng.integers(0, (date(last, 12, 31) - start).days + 1)))


def _signup(rng: np.random.Generator, window_start: datetime, reference: datetime) -> datetime:
    """55 % joined before the order window (since spring 2024), the rest during it."""
    if rng.random() < 0.55:
        first = datetime(2024, 3, 1)
        span = (window_start - first).total_seconds()
        at = first + timedelta(seconds=float(rng.random()) * span)
    else:
        span = (reference - window_start).total_seconds() * 0.9
        at = window_start + timedelta(seconds=float(rng.random()) * span)
    return at.replace(microsecond=0)


def make_people(rng: np.random.Generator, n_users: int, hoods: list[places.Neighbourhood],
                hood_weights: np.ndarray, window_start: datetime, reference: datetime) -> list[Person]:
    """Draw ``n_users`` people living in ``hoods`` (weighted), with hidden preferences."""
    people: list[Person] = []
    hood_idx = rng.choice(len(hoods), size=n_users, p=hood_weights / hood_weights.sum())
    for key, (segment, card) in enumerate(segment_mix(n_users, rng)):
        hood = hoods[int(hood_idx[key])]
        lat, lon = places.random_points(rng, hood, 1, HOME_SPREAD_KM)[0]
        truth = _truth(rng, segment, card, hood, (float(lat), float(lon)))
        people.append(Person(
            key=key,
            name=korean_name(rng, young=segment != "adult"),
            nickname=nickname(rng),
            birthday=_birthday(rng, segment),
            address=places.street_address(rng, hood),
            signup=_signup(rng, window_start, reference),
            truth=truth,
        ))
    return people
