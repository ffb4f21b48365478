"""The answer rules on their own: opening hours and the time rule, the search area, why nothing fits."""

from __future__ import annotations

from datetime import datetime, timezone

from serving import nothing_fits, opening, search_area
from serving.ports import Account, Candidate
from serving.pricing import PriceContext

MANGWON = (37.55548877, 126.8998605)


def test_opening_hours_breaks_overnight_and_next_opening():
    lunch = (11 * 60, 21 * 60, 15 * 60, 17 * 60)
    assert opening.open_at(12 * 60, *lunch) and not opening.open_at(15 * 60 + 40, *lunch)
    assert opening.next_opening(15 * 60 + 40, *lunch) == 80  # after the break, at 17:00
    assert opening.next_opening(9 * 60, *lunch) == 120
    assert opening.next_opening(22 * 60, *lunch) == 13 * 60  # tomorrow 11:00
    assert opening.open_at(1 * 60, 12 * 60, 0) is False and opening.open_at(23 * 60, 12 * 60, 0)
    assert opening.open_at(3 * 60, 0, 0)  # 24 hours
    assert opening.open_at(100, None, None) is None


def test_korean_opening_times():
    assert opening.opens_text(11 * 60) == "11시에 문 열어요"
    assert opening.korean_time(11 * 60 + 30) == "11시 30분"
    assert opening.korean_time(17 * 60) == "오후 5시" and opening.korean_time(12 * 60) == "12시"
    assert opening.korean_time(6 * 60) == "6시"


def test_time_rule():
    assert opening.search_time(10 * 60 + 45, None, urgent=False).rule == "opening_soon"
    assert opening.search_time(10 * 60 + 45, "now", urgent=False).rule == "now"
    assert opening.search_time(10 * 60 + 45, None, urgent=True).rule == "now"
    assert opening.search_time(9 * 60 + 30, None, urgent=False).rule == "now"  # lunch is 90 min away
    later = opening.search_time(9 * 60, "lunch", urgent=False)
    assert later.rule == "meal_later" and later.minute == 11 * 60 and later.offset_min == 120
    assert opening.search_time(12 * 60, "lunch", urgent=False).rule == "now"


def test_search_area_order_request_place_home_orders_region():
    class Loc:
        lat, lon = 37.60, 126.93

    home = Account(user_key=1, home_address="서울특별시 마포구 망원동", orders_centroid=(35.0, 128.0))
    a = search_area.resolve(location=Loc, place=None, account=home, walk_m=2000)
    assert a.source == "request" and a.radius_m == 2000
    a = search_area.resolve(location=None, place="범어동", account=home, walk_m=2000)
    assert a.source == "place" and abs(a.lat - 35.858) < 0.01  # the 범어동 nearest home is in 대구
    a = search_area.resolve(location=None, place=None, account=home, walk_m=3000)
    assert a.source == "home" and abs(a.lat - MANGWON[0]) < 1e-6 and a.radius_m == 3000
    short = Account(user_key=1, home_address="서울 마포구 망원동 123-4")
    assert search_area.resolve(location=None, place=None, account=short, walk_m=1).source == "home"
    orders = Account(user_key=1, home_address=None, orders_centroid=(35.0, 128.0))
    assert search_area.resolve(location=None, place=None, account=orders, walk_m=1).source == "orders"
    nobody = search_area.resolve(location=None, place=None, account=Account(user_key=None), walk_m=1)
    assert nobody.source == "region" and nobody.near() is None and nobody.distance_m(37.5, 127.0) is None


def test_walking_radius_by_age_group():
    class S:
        walk_radius_child_m, walk_radius_teen_m, walk_radius_adult_m = 2000.0, 3000.0, 4000.0

    assert [search_area.walk_radius_m(a, S) for a in (None, 9, 12, 13, 18, 19)] == [2000, 2000, 2000, 3000, 3000, 4000]


def _cand(shop_id, price, category="치킨", lat=MANGWON[0], lon=MANGWON[1], hours=(11 * 60, 23 * 60)):
    return Candidate(shop_id, shop_id * 10, f"가게{shop_id}", "메뉴", price, category, "Y", lat, lon,
                     open_min=hours[0], close_min=hours[1])


def test_diagnose_finds_the_binding_constraint_and_the_alternative():
    area = search_area.SearchArea("home", *MANGWON, 2000)
    ctx = PriceContext(coupons=[], has_card=True, limit=10000, area=area, minute=9 * 60,
                       now=datetime(2026, 11, 10, tzinfo=timezone.utc))
    world = [_cand(1, 6000), _cand(2, 20000, hours=(0, 0)), _cand(3, 5000, lat=MANGWON[0] + 0.03, hours=(0, 0))]

    def search(filters):
        out = []
        for c in world:
            open_now = opening.open_at(9 * 60, c.open_min, c.close_min)
            if filters.get("open_now") and not open_now:
                continue
            if "max_price" in filters and c.price > filters["max_price"]:
                continue
            near = filters.get("near")
            if near and area.distance_m(c.lat, c.lon) > near[2]:
                continue
            out.append(c)
        return out

    filters = {"open_now": True, "max_price": 10000, "near": area.near(), "categories": ["치킨"]}
    assert search(filters) == []
    asked = []

    def search_each(sets):
        asked.append(sets)
        return [search(f) for f in sets]

    why = nothing_fits.diagnose(search_each, filters, ctx)
    # every relaxation the turn has (time, price, distance, category), each alone, asked together
    assert len(asked) == 1 and len(asked[0]) == 4
    assert all(sum(f.get(k) != filters.get(k) for k in ("open_now", "max_price", "near", "categories")) == 1
               for f in asked[0])
    assert why.reason == "closed_now" and set(why.binding) == {"closed_now", "over_budget", "too_far"}
    kinds = dict(why.alternatives)
    assert kinds["opens_soonest"].cand.shop_id == 1 and kinds["opens_soonest"].opens_at(9 * 60) == "11:00"
    assert kinds["cheapest"].cand.shop_id == 2 and why.shortfall == 10000
    assert kinds["a_bit_farther"].cand.shop_id == 3 and kinds["a_bit_farther"].distance_m > 2000
    assert nothing_fits.diagnose(lambda sets: [[] for _ in sets], filters, ctx).reason == "several"


def test_meal_kinds_agree_across_migration_dbt_and_vocabulary():
    import importlib.util
    from pathlib import Path

    import yaml

    from infra import vocabulary as V

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("m0002", root / "infra/migrations/versions/0002_menu_meal_kind.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert tuple(mod.MEAL_KINDS) == V.MEAL_KINDS
    core = yaml.safe_load((root / "dbt_project/models/marts/core/_core.yml").read_text())
    menus = next(m for m in core["models"] if m["name"] == "menus")
    column = next(c for c in menus["columns"] if c["name"] == "meal_kind")
    accepted = next(t["accepted_values"] for t in column["data_tests"] if isinstance(t, dict) and "accepted_values" in t)
    assert tuple(accepted["arguments"]["values"]) == V.MEAL_KINDS
