"""Simulated days against the real service: who opens the app when, what they type, how they react.

Each simulated day the card issuer moves balances (top-up on the 1st, offline spending), then every
child opens the app at their own meal times (the hidden ``meal_times`` slot weights, lunch mostly
eaten at school on school days, a time drawn inside the slot's window), types an opening message,
reacts to the answer (``choice.react``), refines up to ``max_turns`` times when nothing suited, and
orders through ``/feedback`` (``detail_view`` per item looked at, ``coupon_use`` when the shown
price used a coupon, ``order``, ``satisfaction``). All calls carry ``as_of`` = the simulated time.

Determinism: each child-day draws from its own generator seeded by (seed, day, child), so a seed
reproduces every message and reaction whatever order the worker threads run in; the service's
answers are the only other input. A day's children run on ``concurrency`` threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from infra.progress import Progress
from infra.sample_data.behaviour import SLOT_WINDOWS
from infra.sample_data.simulation import school_holidays
from infra.simulator import choice
from infra.simulator.client import ChatClient, ServiceError
from infra.simulator.phrasing import Phraser, Want
from infra.simulator.world import CardIssuer, Child, World

Policy = Literal["service", "oracle"]
SEOUL = ZoneInfo("Asia/Seoul")
ORACLE_POOL = 10  # the oracle re-ranks this many of the service's candidates


@dataclass(frozen=True)
class SimulationConfig:
    days: int = 14
    children: int = 300
    seed: int = 7
    start: date | None = None  # default: the day after the sample data's reference time
    max_turns: int = 3
    concurrency: int = 4
    policy: Policy = "service"
    max_results: int = 3
    #: the app is opened this many times per order the child would place in the generator's world
    sessions_per_order: float = 2.0
    max_error_share: float = 0.2  # a day with more failed sessions than this stops the run


@dataclass
class DayStats:
    """Counters of one simulated day (summed over children; ratios are computed at the end)."""

    day: str = ""
    sessions: int = 0
    chats: int = 0
    feedbacks: int = 0
    impressions: int = 0
    views: int = 0
    orders: int = 0
    satisfaction_sum: int = 0
    satisfaction_n: int = 0
    buyable: int = 0
    refinements: int = 0
    spend_to_balance_sum: float = 0.0
    spend_to_balance_n: int = 0
    nlu_food_asked: int = 0
    nlu_food_agree: int = 0
    nlu_budget_asked: int = 0
    nlu_budget_agree: int = 0
    errors: int = 0
    seconds: float = 0.0
    by_variant: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, other: "DayStats") -> None:
        for k, v in other.__dict__.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "seconds":
                setattr(self, k, getattr(self, k) + v)
        for variant, counts in other.by_variant.items():
            mine = self.by_variant.setdefault(variant, {})
            for k, v in counts.items():
                mine[k] = mine.get(k, 0) + v

    def row(self) -> dict[str, Any]:
        def ratio(a: float, b: float) -> float | None:
            return round(a / b, 4) if b else None

        requests = self.chats + self.feedbacks
        return {
            "day": self.day, "sessions": self.sessions, "requests": requests, "impressions": self.impressions,
            "ctr": ratio(self.views, self.impressions), "order_rate": ratio(self.orders, self.sessions),
            "satisfaction": ratio(self.satisfaction_sum, self.satisfaction_n),
            "buyable_share": ratio(self.buyable, self.impressions),
            "spend_to_balance": ratio(self.spend_to_balance_sum, self.spend_to_balance_n),
            "refinements_per_session": ratio(self.refinements, self.sessions),
            "nlu_food_agreement": ratio(self.nlu_food_agree, self.nlu_food_asked),
            "nlu_budget_agreement": ratio(self.nlu_budget_agree, self.nlu_budget_asked),
            "errors": self.errors, "seconds": round(self.seconds, 2),
            "req_per_s": ratio(requests, self.seconds),
        }


@dataclass
class SimulationResult:
    config: SimulationConfig
    days: list[DayStats]
    children: int
    started: date

    def table(self) -> list[dict[str, Any]]:
        return [d.row() for d in self.days]


# ---- when a child opens the app ------------------------------------------------------------
def session_times(rng: np.random.Generator, child: Child, day: date, holidays: set[date],
                  sessions_per_order: float) -> list[datetime]:
    """Local times the child opens the app on ``day`` (sorted)."""
    t = child.truth
    expected = t.orders_per_month / 30.44 * sessions_per_order
    n = int(rng.poisson(expected))
    slots, weights = list(t.meal_times), np.array(list(t.meal_times.values()), dtype=float)
    school_day = day.weekday() < 5 and day not in holidays
    out = []
    for _ in range(n):
        slot = slots[int(rng.choice(len(slots), p=weights / weights.sum()))]
        if t.segment in ("child", "teen") and school_day and slot == "lunch" and rng.random() < 0.85:
            continue  # lunch is eaten at school
        lo, hi = SLOT_WINDOWS[slot]
        if t.segment == "child" and slot == "late_night":
            lo, hi = 21 * 60, 22 * 60
        minute = lo + (hi - lo) * float(rng.beta(2.0, 2.0))
        at = datetime.combine(day, datetime.min.time(), SEOUL) + timedelta(minutes=minute)
        out.append(at.replace(second=int(rng.integers(0, 60)), microsecond=0))
    return sorted(out)


def draw_want(rng: np.random.Generator, child: Child, phraser: Phraser, balance: int | None) -> Want:
    """What this child wants this time: maybe a dish of a category they like, a budget, nearby."""
    t = child.truth
    category = dish = None
    if rng.random() < 0.55 and t.category_weights:
        cats = list(t.category_weights)
        w = np.array([t.category_weights[c] for c in cats], dtype=float)
        category = cats[int(rng.choice(len(cats), p=w / w.sum()))]
        dish = phraser.dish_for(category)
    budget = None
    if rng.random() < 0.35:
        money = t.budget if balance is None or child.allowance is None else min(t.budget, balance)
        budget = int(max(1000, round(money / 500) * 500))
    return Want(category=category, dish=dish, budget=budget, near=bool(rng.random() < 0.25))


# ---- one child's day -------------------------------------------------------------------------
class ChildDay:
    def __init__(self, client: ChatClient, world: World, cfg: SimulationConfig, holidays: set[date]) -> None:
        self.client, self.world, self.cfg, self.holidays = client, world, cfg, holidays
        self.balances: dict[int, int | None] = {}

    def run(self, child: Child, day: date, day_index: int) -> DayStats:
        rng = np.random.default_rng([self.cfg.seed, day_index, child.user_id])
        stats = DayStats(day=day.isoformat())
        for k, at in enumerate(session_times(rng, child, day, self.holidays, self.cfg.sessions_per_order)):
            try:
                self.session(rng, child, at, f"sim{self.cfg.seed}-{day:%m%d}-{child.user_id}-{k}", stats)
            except ServiceError as exc:  # counted, not fatal (a day with too many stops the run)
                stats.errors += 1
                key = str(exc)[:160]
                stats.by_variant.setdefault("_errors", {}).setdefault(key, 0)
                stats.by_variant["_errors"][key] += 1
        return stats

    def session(self, rng: np.random.Generator, child: Child, at: datetime, session_id: str, stats: DayStats) -> None:
        phraser = Phraser(rng)
        uid = child.platform_id
        minute = at.hour * 60 + at.minute
        want = draw_want(rng, child, phraser, self.balances.get(child.user_id))
        utterance = phraser.opening(want)
        location = {"lat": child.truth.home[0], "lon": child.truth.home[1]}
        pool = ORACLE_POOL if self.cfg.policy == "oracle" else self.cfg.max_results
        stats.sessions += 1
        clock = at
        resp = self.client.chat(uid, session_id, utterance.text, clock, location=location, max_results=pool)
        stats.chats += 1
        self._grade_nlu(want, resp, stats)
        for turn in range(self.cfg.max_turns):
            balance = resp["meal_card"].get("balance")
            self.balances[child.user_id] = balance
            items = choice.shown_from_response(resp["recommendations"])
            if self.cfg.policy == "oracle":  # the hidden utility re-ranks what the service retrieved
                order = choice.oracle_order(child, self.world, items, minute, balance)[: self.cfg.max_results]
                items = [items[i] for i in order]
            reaction = choice.react(rng, child, self.world, items, minute, balance)
            variant = stats.by_variant.setdefault(resp.get("model_variant") or "?", {})
            variant["impressions"] = variant.get("impressions", 0) + len(items)
            variant["views"] = variant.get("views", 0) + len(reaction.viewed)
            stats.impressions += len(items)
            stats.buyable += sum(reaction.feasible)
            for rank in reaction.viewed:
                clock += timedelta(seconds=20)
                self.client.feedback(uid, session_id, resp["event_id"], "detail_view", items[rank - 1].shop_id, clock,
                                     menu_id=items[rank - 1].menu_id)
                stats.views += 1
                stats.feedbacks += 1
            if reaction.chosen is not None:
                self._order(child, uid, session_id, resp, items[reaction.chosen - 1], reaction, clock, balance, stats)
                variant["orders"] = variant.get("orders", 0) + 1
                break
            kind = choice.refinement_for(child, self.world, items, minute, balance, rng)
            if kind is None or turn == self.cfg.max_turns - 1:
                break
            clock += timedelta(seconds=30)
            stats.refinements += 1
            resp = self.client.chat(uid, session_id, phraser.refine(kind).text, clock, location=location,
                                    max_results=pool)
            stats.chats += 1
        self.balances[child.user_id] = resp["meal_card"].get("balance")

    def _order(self, child: Child, uid: str, session_id: str, resp: dict, item: choice.Shown,
               reaction: choice.Reaction, clock: datetime, balance: int | None, stats: DayStats) -> None:
        event = resp["event_id"]
        clock += timedelta(seconds=40)
        if item.coupon_id:
            self.client.feedback(uid, session_id, event, "coupon_use", item.shop_id, clock, coupon_id=item.coupon_id,
                                 menu_id=item.menu_id, order_amount=item.price)
            stats.feedbacks += 1
        self.client.feedback(uid, session_id, event, "order", item.shop_id, clock, menu_id=item.menu_id,
                             order_amount=item.final_price)
        self.client.feedback(uid, session_id, event, "satisfaction", item.shop_id, clock + timedelta(minutes=40),
                             menu_id=item.menu_id, satisfaction=reaction.satisfaction)
        stats.feedbacks += 2
        stats.orders += 1
        stats.satisfaction_sum += int(reaction.satisfaction or 0)
        stats.satisfaction_n += 1
        money = balance if child.allowance is not None and balance else child.truth.budget
        if money:
            stats.spend_to_balance_sum += item.final_price / money
            stats.spend_to_balance_n += 1
        child.ordered_shops.add(item.shop_id)

    @staticmethod
    def _grade_nlu(want: Want, resp: dict, stats: DayStats) -> None:
        """Did the service read what the child meant? (the phrasing model knows the meaning)"""
        ents = resp.get("nlu_entities") or {}
        if want.category:
            stats.nlu_food_asked += 1
            stats.nlu_food_agree += int(ents.get("food_type") == want.category)
        if want.budget is not None:
            stats.nlu_budget_asked += 1
            stats.nlu_budget_agree += int(ents.get("budget") == want.budget)


# ---- the run -------------------------------------------------------------------------------
Say = Callable[[str], None]
Night = Callable[[int, date], None]


def first_day(world: World) -> date:
    if world.reference:
        return datetime.fromisoformat(world.reference).date() + timedelta(days=1)
    return date.today()


def simulate(client: ChatClient, world: World, cfg: SimulationConfig, issuer: CardIssuer | None = None,
             say: Say = print, nightly: Night | None = None) -> SimulationResult:
    """Run ``cfg.days`` simulated days; ``nightly(day_index, day)`` runs after each day (the retrain)."""
    start = cfg.start or first_day(world)
    holidays = school_holidays(start.year) | school_holidays(start.year + 1)
    runner = ChildDay(client, world, cfg, holidays)
    days: list[DayStats] = []
    say(f"simulate: {len(world.children)} children, {cfg.days} days from {start}, policy {cfg.policy}, "
        f"seed {cfg.seed}, {cfg.concurrency} threads")
    with ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix="sim") as pool, \
            Progress("simulate", total=cfg.days * len(world.children), unit="child-days") as bar:
        for i in range(cfg.days):
            day = start + timedelta(days=i)
            t0 = time.perf_counter()
            if issuer is not None:
                issuer.start_of_day(day, world.children)
            total = DayStats(day=day.isoformat())
            for s in pool.map(lambda c: runner.run(c, day, i), world.children):
                total.add(s)
                bar.update(1, day=i + 1)
            total.seconds = time.perf_counter() - t0
            days.append(total)
            r = total.row()
            say(f"day {i + 1}/{cfg.days} {day}: {r['sessions']} sessions, {r['requests']} requests, "
                f"CTR {r['ctr']}, order rate {r['order_rate']}, satisfaction {r['satisfaction']}, "
                f"buyable {r['buyable_share']}, {r['seconds']} s, {r['req_per_s']} req/s"
                + (f", {total.errors} failed sessions" if total.errors else ""))
            if total.sessions and total.errors / total.sessions > cfg.max_error_share:
                raise RuntimeError(f"day {day}: {total.errors} of {total.sessions} sessions failed "
                                   f"({total.by_variant.get('_errors')}); stopping")
            if nightly is not None and i < cfg.days - 1:
                nightly(i, day)
    return SimulationResult(config=cfg, days=days, children=len(world.children), started=start)
