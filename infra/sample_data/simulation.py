"""Acting out six months of life: orders, meal-card balances and coupons, user by user.

Each user's order times are drawn from their meal-time habits (school-day lunches are eaten
at school), every order is a draw from ``behaviour.choose`` over the menus of nearby open
shops, and the meal card is topped up monthly and drained by app orders plus spending the
app never sees, so balances run low towards month end. When a card holder's balance is
nearly gone in the last week, the service issues ``EMERGENCY_ASSIST``.
"""

from __future__ import annotations

import calendar
import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from . import behaviour
from .behaviour import Candidates, UserTruth
from .catalog import DESSERT, DRINK, MAIN, SET, SIDE
from .columns import CATEGORIES, EMERGENCY_COUPON_ID, MENU_CATEGORIES
from .coupons import PROMOTIONS, Coupon, Wallet
from .places import haversine_km
from .population import Person
from .shops import Shop

NEARBY_SHOPS = 40  # a user considers at most this many nearest shops
MAX_DISTANCE_KM = {"child": 2.0, "teen": 3.0, "young_adult": 3.5, "adult": 4.0}
MIN_NEARBY = 8  # ...but always at least this many, however far
CARD_STATUS_P = {"ACTIVE": 0.91, "INACTIVE": 0.04, "SUSPENDED": 0.02, "EXPIRED": 0.03}
MEAL_LIMIT = 9000  # won per meal the card is topped up for
COUPON_USE_P = 0.85
BROKE_SKIP_P = 0.85  # chance a card holder with an empty card gives up on ordering
ADDON_P = {"default": 0.15, "분식": 0.35, "치킨": 0.25, "패스트푸드": 0.35, "피자": 0.3, "카페·디저트": 0.3}
SNACK = frozenset({"카페·디저트", "베이커리"})
_ADDON_ROLES = [MENU_CATEGORIES.index(r) for r in (SIDE, DRINK, DESSERT)]


def school_holidays(year: int) -> set[date]:
    """Public holidays and school vacations of the simulated year (good enough, not official)."""
    days = {date(year, m, d) for m, d in [(1, 1), (3, 1), (5, 5), (6, 3), (6, 6), (8, 15), (10, 3),
                                           (10, 9), (12, 25), (9, 24), (9, 25), (9, 26)]}
    for start, end in [(date(year, 7, 20), date(year, 8, 20)), (date(year, 1, 1), date(year, 2, 28)),
                       (date(year, 12, 24), date(year, 12, 31))]:
        days |= {start + timedelta(days=i) for i in range((end - start).days + 1)}
    return days


@dataclass
class ShopIndex:
    """Shop and menu attributes as flat arrays, the form the choice model consumes."""

    shop_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    category: np.ndarray
    food_card: np.ndarray
    good: np.ndarray
    open_min: np.ndarray
    close_min: np.ndarray
    break_start: np.ndarray
    break_end: np.ndarray
    district: np.ndarray
    menu_id: np.ndarray
    menu_shop: np.ndarray  # position of the menu's shop in the shop arrays
    menu_price: np.ndarray
    menu_role: np.ndarray
    menu_spicy: np.ndarray
    menu_primary: np.ndarray  # orderable on its own as a meal
    menu_addon: np.ndarray  # a side, drink or dessert that can come with a meal
    shop_menus: list[np.ndarray]  # menu positions per shop position

    @classmethod
    def build(cls, shops: list[Shop]) -> ShopIndex:
        def minutes(v: str | None) -> int:
            m = behaviour.hhmm_to_minutes(v)
            return -1 if m is None else m

        menu_shop: list[int] = []
        price: list[int] = []
        role: list[int] = []
        spicy: list[bool] = []
        primary: list[bool] = []
        shop_menus: list[np.ndarray] = []
        for pos, s in enumerate(shops):
            start = len(menu_shop)
            for m in s.menus:
                menu_shop.append(pos)
                price.append(m.price)
                role.append(MENU_CATEGORIES.index(m.role))
                spicy.append(m.spicy)
                primary.append(m.role in (MAIN, SET) or (s.category in SNACK and m.role in (DRINK, DESSERT)))
            shop_menus.append(np.arange(start, len(menu_shop)))
        return cls(
            shop_id=np.array([s.key for s in shops]),
            lat=np.array([s.lat for s in shops]), lon=np.array([s.lon for s in shops]),
            category=np.array([CATEGORIES.index(s.category) for s in shops]),
            food_card=np.array([behaviour.FOOD_CARD_INDEX[s.food_card] for s in shops]),
            good=np.array([s.good for s in shops]),
            open_min=np.array([minutes(s.open_hour) for s in shops]),
            close_min=np.array([minutes(s.close_hour) for s in shops]),
            break_start=np.array([minutes(s.break_start) for s in shops]),
            break_end=np.array([minutes(s.break_end) for s in shops]),
            district=np.array([s.district for s in shops]),
            menu_id=np.arange(1, len(menu_shop) + 1),
            menu_shop=np.array(menu_shop), menu_price=np.array(price), menu_role=np.array(role),
            menu_spicy=np.array(spicy), menu_primary=np.array(primary),
            menu_addon=np.isin(np.array(role), _ADDON_ROLES), shop_menus=shop_menus,
        )

    def candidates(self, menus: np.ndarray, distance_km: np.ndarray | float, quantity: int,
                   minute: float) -> Candidates:
        """The given menus (positions) as choice candidates at ``minute`` of the day."""
        shop_pos = self.menu_shop[menus]
        is_open = behaviour.open_mask(self.open_min[shop_pos], self.close_min[shop_pos],
                                      self.break_start[shop_pos], self.break_end[shop_pos], minute)
        return Candidates(
            shop_id=self.shop_id[shop_pos], menu_id=self.menu_id[menus], category=self.category[shop_pos],
            food_card=self.food_card[shop_pos], good=self.good[shop_pos],
            price=self.menu_price[menus] * quantity, spicy=self.menu_spicy[menus], role=self.menu_role[menus],
            distance_km=np.broadcast_to(np.asarray(distance_km, dtype=float), menus.shape), is_open=is_open,
        )


@dataclass
class CardAccount:
    """A meal card: topped up to ``allowance`` on the 1st, drained by app and offline spending."""

    allowance: int
    offline_per_day: float
    status: str
    usable_until: datetime  # after this the card is not used (INACTIVE/SUSPENDED/EXPIRED)
    spent: dict[tuple[int, int], int] = field(default_factory=dict)

    def balance(self, when: datetime) -> int:
        key = (when.year, when.month)
        elapsed = (when.day - 1) + when.hour / 24
        left = self.allowance - self.offline_per_day * elapsed - self.spent.get(key, 0)
        return int(max(0, round(left / 10) * 10))

    def pay(self, when: datetime, amount: int) -> None:
        key = (when.year, when.month)
        self.spent[key] = self.spent.get(key, 0) + min(amount, self.balance(when))


@dataclass
class SimulationResult:
    orders: list[tuple[int, int, datetime, int, int]]  # user_id, menu_id, created_at, qty, price
    wallets: list[Wallet]
    cards: dict[int, CardAccount]  # by user id
    truths: dict[int, UserTruth]  # by user id


class Simulation:
    """Runs the order window for every user; one RNG, users in id order, so it is reproducible."""

    def __init__(self, rng: np.random.Generator, shops: list[Shop], people: list[Person],
                 coupons: dict[str, Coupon], window_start: datetime, reference: datetime) -> None:
        self.rng, self.people, self.coupons = rng, people, coupons
        self.window_start, self.reference = window_start, reference
        self.index = ShopIndex.build(shops)
        self.holidays = school_holidays(reference.year) | school_holidays(window_start.year)
        self._district_shops = {d: np.flatnonzero(self.index.district == d) for d in set(self.index.district)}

    # --- per-user setup ------------------------------------------------------------------
    def nearby(self, truth: UserTruth) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the shops the user considers, and their distances in km."""
        pool = self._district_shops.get(truth.district)
        if pool is None or len(pool) == 0:
            pool = np.arange(len(self.index.shop_id))
        dist = haversine_km(truth.home[0], truth.home[1], self.index.lat[pool], self.index.lon[pool])
        order = np.argsort(dist, kind="stable")[:NEARBY_SHOPS]
        keep = order[(dist[order] <= MAX_DISTANCE_KM[truth.segment]) | (np.arange(len(order)) < MIN_NEARBY)]
        return pool[keep], np.round(dist[keep], 3)

    def favourites(self, truth: UserTruth, shops: np.ndarray, dist: np.ndarray) -> tuple[int, ...]:
        """1–3 regular haunts among nearby shops, drawn by taste, distance and card acceptance."""
        score = truth.log_weights[self.index.category[shops]] - truth.distance_sensitivity * dist
        if truth.foodcard:
            score = score + np.array([behaviour.FOOD_CARD_PENALTY[f] for f in ("Y", "P", "U", "N")])[self.index.food_card[shops]]
        k = min(len(shops), int(self.rng.integers(1, 4)))
        p = np.exp(score - score.max())
        picked = self.rng.choice(len(shops), size=k, replace=False, p=p / p.sum())
        return tuple(sorted(int(self.index.shop_id[shops[i]]) for i in picked))

    def card_account(self, truth: UserTruth) -> CardAccount:
        meals = int(self.rng.integers(6, 23))
        allowance = MEAL_LIMIT * meals
        app_spend = truth.orders_per_month * truth.budget
        offline = max(0.0, allowance - app_spend) * float(self.rng.uniform(0.75, 1.15)) / 30.0
        status = str(self.rng.choice(list(CARD_STATUS_P), p=list(CARD_STATUS_P.values())))
        until = self.reference
        if status != "ACTIVE":
            span = (self.reference - self.window_start).total_seconds()
            until = self.window_start + timedelta(seconds=float(self.rng.uniform(0.2, 0.95)) * span)
        return CardAccount(allowance, offline, status, until)

    # --- time ----------------------------------------------------------------------------
    def order_times(self, truth: UserTruth, start: datetime, end: datetime) -> list[datetime]:
        months = max(0.0, (end - start).total_seconds() / (30.44 * 86400))
        n = int(self.rng.poisson(truth.orders_per_month * months))
        slots, weights = list(truth.meal_times), np.array(list(truth.meal_times.values()))
        school_age = truth.segment in ("child", "teen")
        times: list[datetime] = []
        span_days = (end - start).total_seconds() / 86400
        while len(times) < n:
            day = (start + timedelta(days=float(self.rng.random()) * span_days)).date()
            slot = slots[int(self.rng.choice(len(slots), p=weights / weights.sum()))]
            school_day = day.weekday() < 5 and day not in self.holidays
            if school_age and school_day and slot == "lunch" and self.rng.random() < 0.85:
                continue  # lunch is eaten at school
            lo, hi = behaviour.SLOT_WINDOWS[slot]
            if truth.segment == "child" and slot == "late_night":
                lo, hi = 21 * 60, 22 * 60
            minute = lo + (hi - lo) * float(self.rng.beta(2.0, 2.0))
            at = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
            at = at.replace(second=int(self.rng.integers(0, 60)), microsecond=0)
            if start <= at < end:
                times.append(at)
        return sorted(times)

    def issuances(self, person: Person, card: bool, start: datetime) -> list[tuple[datetime, str, str, dict]]:
        """(time, coupon id, source, context) of every non-order-driven coupon for a user."""
        events: list[tuple[datetime, str, str, dict]] = []
        if person.signup >= self.window_start:
            events.append((person.signup, "WELCOME3000", "welcome_bonus", {"channel": "app_signup"}))
        for year in {self.window_start.year, self.reference.year}:
            try:
                bday = datetime(year, person.birthday.month, person.birthday.day, 0, 5)
            except ValueError:  # 29 February
                bday = datetime(year, 3, 1, 0, 5)
            if start <= bday < self.reference:
                events.append((bday, "BIRTHDAY3000", "birthday", {"birthday": person.birthday.strftime("%m-%d")}))
        teen = person.truth.segment in ("teen", "child")
        for coupon_id, audience, share, campaign in PROMOTIONS:
            if (audience == "foodcard" and not card) or (audience == "teen" and not teen):
                continue
            if self.rng.random() >= share:
                continue
            c = self.coupons[coupon_id]
            lo = max(start, datetime.combine(c.valid_from, datetime.min.time()))
            hi = min(self.reference, datetime.combine(c.valid_until, datetime.min.time()) + timedelta(days=1))
            if lo >= hi:
                continue
            at = lo + timedelta(seconds=float(self.rng.random()) * (hi - lo).total_seconds())
            source = "welfare_center" if coupon_id == "EMERGENCY3000" else "event_promotion"
            channel = str(self.rng.choice(["push", "banner", "chatbot"]))
            events.append((at.replace(microsecond=0), coupon_id, source, {"campaign": campaign, "channel": channel}))
        return sorted(events, key=lambda e: e[0])

    # --- the run -------------------------------------------------------------------------
    def run(self) -> SimulationResult:
        orders: list[tuple[int, int, datetime, int, int]] = []
        wallets: list[Wallet] = []
        cards: dict[int, CardAccount] = {}
        truths: dict[int, UserTruth] = {}
        primary = self.index.menu_primary
        for person in self.people:
            truth = person.truth
            shops, dist = self.nearby(truth)
            truth = dataclasses.replace(truth, favourite_shops=self.favourites(truth, shops, dist))
            truths[truth.user_id] = truth
            account = self.card_account(truth) if truth.foodcard else None
            if account is not None:
                cards[truth.user_id] = account
            wallet = Wallet(truth.user_id)
            wallets.append(wallet)
            start = max(self.window_start, person.signup)
            end = account.usable_until if account is not None else self.reference
            menus = np.concatenate([self.index.shop_menus[s] for s in shops])
            menu_dist = np.concatenate([np.full(len(self.index.shop_menus[s]), d) for s, d in zip(shops, dist)])
            meal = primary[menus]
            menus, menu_dist = menus[meal], menu_dist[meal]
            events = self.issuances(person, account is not None, start)
            n_done = 0
            for at in self.order_times(truth, start, end):
                while events and events[0][0] <= at:
                    when, cid, source, ctx = events.pop(0)
                    wallet.issue(self.coupons[cid], when, source, ctx)
                placed = self.place_order(truth, wallet, account, at, menus, menu_dist, orders)
                if placed:
                    n_done += 1
                    if n_done % 10 == 0:
                        wallet.issue(self.coupons["LOYALTY5"], at + timedelta(minutes=1), "loyalty_reward",
                                     {"order_count": n_done})
            for when, cid, source, ctx in events:
                wallet.issue(self.coupons[cid], when, source, ctx)
        return SimulationResult(orders, wallets, cards, truths)

    def place_order(self, truth: UserTruth, wallet: Wallet, account: CardAccount | None, at: datetime,
                    menus: np.ndarray, menu_dist: np.ndarray,
                    orders: list[tuple[int, int, datetime, int, int]]) -> bool:
        """Choose and record one order (and maybe an add-on); False if nothing fit."""
        minute = at.hour * 60 + at.minute
        balance = account.balance(at) if account is not None else None
        if account is not None and balance is not None and balance < 3000:
            days_left = calendar.monthrange(at.year, at.month)[1] - at.day
            if days_left <= 7:
                wallet.issue(self.coupons[EMERGENCY_COUPON_ID], at - timedelta(minutes=2), "emergency_assist",
                             {"trigger": "low_balance", "balance": balance, "days_to_month_end": days_left},
                             expiry=datetime(at.year, at.month, calendar.monthrange(at.year, at.month)[1], 23, 59, 59))
            emergency = [e for e in wallet.entries if e.coupon.id == EMERGENCY_COUPON_ID and e.live(at)]
            balance += sum(e.coupon.amount or 0 for e in emergency)
            if balance < 3000 and self.rng.random() < BROKE_SKIP_P:
                return False  # the card is empty: most children simply do not order
        quantity = self.quantity(truth)
        cand = self.index.candidates(menus, menu_dist, quantity, minute)
        pick = behaviour.choose(self.rng, truth, cand, minute, balance=balance)
        if pick is None:
            return False
        shop_id, menu_id = int(cand.shop_id[pick]), int(cand.menu_id[pick])
        category, takes_card = CATEGORIES[int(cand.category[pick])], int(cand.food_card[pick]) <= 1
        amount = int(cand.price[pick])
        discount = 0
        best = wallet.best(at, category=category, shop_id=shop_id, takes_card=takes_card, amount=amount,
                           foodcard_user=account is not None)
        if best is not None and (best.coupon.id == EMERGENCY_COUPON_ID or self.rng.random() < COUPON_USE_P):
            discount = wallet.redeem(best, at, shop_id, menu_id, amount)
        paid = amount - discount
        orders.append((truth.user_id, menu_id, at, quantity, paid))
        card = account if account is not None and takes_card else None
        if card is not None:
            card.pay(at, paid)
        self.add_on(truth, card, at, shop_id, menu_id, category, truth.budget - paid,
                    float(cand.distance_km[pick]), orders)
        return True

    def add_on(self, truth: UserTruth, account: CardAccount | None, at: datetime, shop_id: int,
               main_menu_id: int, category: str, budget_left: int, distance_km: float,
               orders: list[tuple[int, int, datetime, int, int]]) -> None:
        """Sometimes a side, drink or dessert from the same shop, in the same minute."""
        if self.rng.random() >= ADDON_P.get(category, ADDON_P["default"]):
            return
        menus = self.index.shop_menus[int(np.searchsorted(self.index.shop_id, shop_id))]
        menus = menus[self.index.menu_addon[menus] & (self.index.menu_id[menus] != main_menu_id)]
        if len(menus) == 0:
            return
        minute = at.hour * 60 + at.minute
        cand = self.index.candidates(menus, distance_km, 1, minute)
        balance = account.balance(at) if account is not None else None
        pick = behaviour.choose(self.rng, truth, cand, minute, balance=balance, budget=max(budget_left, 2000))
        if pick is None:
            return
        price = int(cand.price[pick])
        orders.append((truth.user_id, int(cand.menu_id[pick]), at, 1, price))
        if account is not None:
            account.pay(at, price)

    def quantity(self, truth: UserTruth) -> int:
        """Mostly one portion; sometimes for a sibling or friends."""
        p_group = 0.06 if truth.segment == "child" else 0.1
        if self.rng.random() >= p_group:
            return 1
        return int(self.rng.choice([2, 2, 2, 3, 4]))
