"""Orchestration: seed → shops, people, six months of orders → workbook + hidden truth.

One ``numpy`` generator seeded once drives every draw, in a fixed order, so the same seed
and scale always give the same data. Nothing reads the clock: the reference time (the
"now" of the data set) is derived from the seed.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import places
from .columns import SHEETS
from .coupons import Coupon, coupon_catalogue
from .population import Person, make_people
from .shops import Shop, make_shops, neighbourhood_weights
from .simulation import Simulation, SimulationResult
from .workbook import write_workbook

SHOPS_PER_SCALE = 2500
USERS_PER_SCALE = 3000
WINDOW_DAYS = 183  # about six months of orders before the reference time
TRUTH_VERSION = 2  # 2: menus carry their attribute tags
WORKBOOK_NAME = "sample_data.xlsx"
TRUTH_NAME = "hidden_truth.json"


@dataclass(frozen=True)
class GenerationSummary:
    seed: int
    scale: float
    reference_time: datetime
    workbook: Path
    hidden_truth: Path
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def reference_time(seed: int) -> datetime:
    """The data set's 'now' (local Asia/Seoul, naive): the seed read as YYYYMMDD if it is one
    (the default seed 20261125 → 2026-11-25), else a day in November 2026 picked by the seed."""
    text = str(seed)
    if len(text) == 8:
        try:
            day = datetime.strptime(text, "%Y%m%d")
            if 2020 <= day.year <= 2035:
                return day
        except ValueError:
            pass
    return datetime(2026, 11, 1) + timedelta(days=seed % 28)


@dataclass(frozen=True)
class GeneratedData:
    """Everything ``generate`` produces, before it is written out."""

    tables: dict[str, pd.DataFrame]
    truth: dict
    reference: datetime


def build(seed: int, scale: float) -> GeneratedData:
    """Generate all tables and the hidden truth in memory (no files touched)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = np.random.default_rng(seed)
    reference = reference_time(seed)
    window_start = reference - timedelta(days=WINDOW_DAYS)
    hoods = places.neighbourhoods_in(places.districts_for_scale(scale))
    shops = make_shops(rng, max(20, round(SHOPS_PER_SCALE * scale)), hoods, neighbourhood_weights(rng, hoods))
    people = make_people(rng, max(30, round(USERS_PER_SCALE * scale)), hoods, neighbourhood_weights(rng, hoods),
                         window_start, reference)
    # User ids follow sign-up order, as an auto-increment key would.
    people = [dataclasses.replace(p, truth=dataclasses.replace(p.truth, user_id=i + 1))
              for i, p in enumerate(sorted(people, key=lambda p: (p.signup, p.key)))]
    good = [s.key for s in shops if s.good][:40]
    new = sorted(int(x) for x in rng.choice([s.key for s in shops], size=min(8, len(shops)), replace=False))
    coupons = coupon_catalogue(window_start.date(), reference.date(), good, new)
    result = Simulation(rng, shops, people, coupons, window_start, reference).run()
    tables = {
        "shops": _shops_table(shops),
        "menus": _menus_table(shops),
        "coupons": _coupons_table(coupons),
        "users": _users_table(people),
        "foodcard_users": _cards_table(rng, result, reference),
        "product_orders": _orders_table(result),
        "user_coupon_wallet": _wallet_table(result, reference),
    }
    truth = _truth(seed, scale, reference, window_start, shops, result)
    return GeneratedData(tables, truth, reference)


def generate(seed: int, scale: float, out_dir: Path) -> GenerationSummary:
    """Write ``sample_data.xlsx`` and ``hidden_truth.json`` into ``out_dir``."""
    started = time.perf_counter()
    data = build(seed, scale)
    out_dir = Path(out_dir)
    workbook = write_workbook(data.tables, out_dir / WORKBOOK_NAME)
    truth_path = write_truth(data.truth, out_dir / TRUTH_NAME)
    return GenerationSummary(seed, scale, data.reference, workbook, truth_path,
                             {k: len(v) for k, v in data.tables.items()}, time.perf_counter() - started)


def generate_from_settings() -> GenerationSummary:
    """``generate`` with the project settings (seed, scale, sample_dir)."""
    from infra.settings import get_settings

    s = get_settings()
    summary = generate(s.sample_seed, s.sample_scale, s.sample_dir)
    if summary.workbook != s.sample_workbook or summary.hidden_truth != s.hidden_truth_file:
        raise RuntimeError("settings name other sample files than the generator writes")
    return summary


def write_truth(truth: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(truth, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tmp.replace(path)
    return path


# --- tables ------------------------------------------------------------------------------
def _shops_table(shops: list[Shop]) -> pd.DataFrame:
    return pd.DataFrame(
        [[s.key, s.name, s.category, s.address, s.good, s.food_card, s.open_hour, s.close_hour,
          s.break_start, s.break_end, s.phone, s.owner_message or None, s.lat, s.lon] for s in shops],
        columns=SHEETS["shops"],
    )


def _menus_table(shops: list[Shop]) -> pd.DataFrame:
    rows = [[m.shop_key, m.name, m.price, m.description, m.role] for s in shops for m in s.menus]
    return pd.DataFrame([[i + 1, *r] for i, r in enumerate(rows)], columns=SHEETS["menus"])


def _coupons_table(coupons: dict[str, Coupon]) -> pd.DataFrame:
    frame = pd.DataFrame([c.row() for c in coupons.values()], columns=SHEETS["coupons"])
    frame["discount_amount"] = frame["discount_amount"].astype("Int64")
    return frame


def _users_table(people: list[Person]) -> pd.DataFrame:
    return pd.DataFrame([[p.truth.user_id, p.name, p.nickname, p.birthday, p.address] for p in people],
                        columns=SHEETS["users"])


def _cards_table(rng: np.random.Generator, result: SimulationResult, reference: datetime) -> pd.DataFrame:
    rows, seen = [], set()
    for i, user_id in enumerate(sorted(result.cards)):
        card = result.cards[user_id]
        while True:
            number = "9410-" + "-".join(f"{int(x):04d}" for x in rng.integers(0, 10000, 3))
            if number not in seen:
                seen.add(number)
                break
        balance = 0 if card.status == "EXPIRED" else card.balance(min(reference, card.usable_until))
        rows.append([i + 1, user_id, number, balance, card.status])
    return pd.DataFrame(rows, columns=SHEETS["foodcard_users"])


def _orders_table(result: SimulationResult) -> pd.DataFrame:
    ordered = sorted(result.orders, key=lambda o: (o[2], o[0]))  # stable: main before its add-on
    return pd.DataFrame([[i + 1, *o] for i, o in enumerate(ordered)], columns=SHEETS["product_orders"])


def _wallet_table(result: SimulationResult, reference: datetime) -> pd.DataFrame:
    entries = [(e, status) for w in result.wallets for e, status in w.final(reference)]
    entries.sort(key=lambda es: (es[0].acquired, es[0].user_key, es[0].coupon.id))
    rows = [[i + 1, e.user_key, e.coupon.id, e.acquired, e.expiry, e.used_at, status, e.used_shop, e.used_menu,
             e.order_amount, e.discount, e.source, json.dumps(e.context, ensure_ascii=False, sort_keys=True)]
            for i, (e, status) in enumerate(entries)]
    frame = pd.DataFrame(rows, columns=SHEETS["user_coupon_wallet"])
    for col in ("used_shop_id", "used_menu_id", "used_order_amount", "discount_applied"):
        frame[col] = frame[col].astype("Int64")
    return frame


def _truth(seed: int, scale: float, reference: datetime, window_start: datetime, shops: list[Shop],
           result: SimulationResult) -> dict:
    users = {}
    for uid, t in sorted(result.truths.items()):
        entry = t.to_json()
        entry.pop("user_id")
        card = result.cards.get(uid)
        if card is not None:
            entry["card"] = {"monthly_allowance": card.allowance, "offline_per_day": round(card.offline_per_day),
                             "status": card.status}
        users[str(uid)] = entry
    menus, menu_id = {}, 0
    for s in shops:
        for m in s.menus:
            menu_id += 1
            menus[str(menu_id)] = [m.dish_type, s.category, int(m.spicy), m.price, list(m.attributes)]
    return {
        "meta": {"version": TRUTH_VERSION, "seed": seed, "scale": scale, "timezone": "Asia/Seoul",
                 "reference_time": reference.isoformat(), "window_start": window_start.isoformat(),
                 "note": "evaluation only; never load into the warehouse"},
        "users": users,
        "menu_fields": ["dish_type", "shop_category", "spicy", "price", "attributes"],
        "menus": menus,
    }
