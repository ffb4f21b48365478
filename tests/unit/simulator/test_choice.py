"""The simulated child's choice model: position bias, hidden utility, hard feasibility, satisfaction."""

from __future__ import annotations

import numpy as np
import pytest

from infra.sample_data.behaviour import UserTruth
from infra.simulator import choice
from infra.simulator.choice import Shown
from infra.simulator.world import Child, Menu, Shop, World

HOME = (37.5560, 126.9050)
LUNCH = 12 * 60 + 30


def truth(**over) -> UserTruth:
    base = dict(user_id=1, segment="child", foodcard=True, home=HOME, district="마포구",
                category_weights={"분식": 0.6, "치킨": 0.3, "한식": 0.1}, budget=7000,
                meal_times={"lunch": 0.5, "dinner": 0.5}, spice_tolerance=0.5, loyalty=0.2,
                distance_sensitivity=1.8, orders_per_month=8.0)
    return UserTruth(**{**base, **over})


def world(extra_shops=()) -> World:
    shops = {
        1: Shop(1, "분식집", "분식", 37.5565, 126.9055, "Y", False, 9 * 60, 22 * 60, None, None),
        2: Shop(2, "치킨집", "치킨", 37.5570, 126.9040, "Y", False, 9 * 60, 22 * 60, None, None),
        3: Shop(3, "한식당", "한식", 37.5575, 126.9060, "Y", False, 9 * 60, 22 * 60, None, None),
        4: Shop(4, "밤 분식", "분식", 37.5566, 126.9056, "Y", False, 18 * 60, 23 * 60, None, None),  # closed at lunch
        5: Shop(5, "먼 분식", "분식", 37.6200, 126.9900, "Y", False, 9 * 60, 22 * 60, None, None),  # ~10 km away
        **{s.id: s for s in extra_shops},
    }
    menus = {10 + sid: Menu(10 + sid, sid, f"메뉴{sid}", 5000, "메인메뉴", spicy=(sid == 1)) for sid in shops}
    return World(shops=shops, menus=menus, children=[], reference="2026-11-25T00:00:00")


def child(**over) -> Child:
    return Child(user_id=1, truth=truth(**over), allowance=90000, offline_per_day=0.0, max_walk_km=2.0)


def shown(shop_id: int, rank: int = 1, price: int = 5000) -> Shown:
    return Shown(rank=rank, shop_id=shop_id, menu_id=10 + shop_id, price=price, final_price=price, coupon_id=None)


def test_views_follow_the_position_bias_whatever_the_items():
    w, c = world(), child()
    items = [shown(1, 1), shown(2, 2), shown(3, 3)]
    counts = np.zeros(3)
    n = 3000
    for i in range(n):
        r = choice.react(np.random.default_rng(i), c, w, items, LUNCH, balance=50000)
        for rank in r.viewed:
            counts[rank - 1] += 1
    assert counts[0] / n > 0.97
    assert abs(counts[1] / n - choice.EXAMINE[1]) < 0.04 and abs(counts[2] / n - choice.EXAMINE[2]) < 0.04


def test_picks_follow_hidden_utility():
    w, c = world(), child(category_weights={"분식": 0.9, "치킨": 0.05, "한식": 0.05}, spice_tolerance=0.9)
    # same position both ways: the liked category wins whichever rank it has
    picks = {1: 0, 3: 0}
    for i in range(2000):
        items = [shown(1, 1), shown(3, 2)] if i % 2 else [shown(3, 1), shown(1, 2)]
        r = choice.react(np.random.default_rng(i), c, w, items, LUNCH, balance=50000)
        if r.chosen is not None:
            picks[items[r.chosen - 1].shop_id] += 1
    assert picks[1] > 3 * picks[3]


def test_spice_intolerant_child_avoids_the_spicy_menu_and_asks_for_none():
    w = world()
    tolerant, intolerant = child(spice_tolerance=0.95), child(spice_tolerance=0.05)
    items = [shown(1, 1)]  # shop 1's menu is spicy
    u_t = choice.item_utilities(tolerant, w, items, LUNCH, 50000)[0]
    u_i = choice.item_utilities(intolerant, w, items, LUNCH, 50000)[0]
    assert u_t - u_i == pytest.approx(3.0 * 0.9, abs=1e-6)
    assert choice.refinement_for(intolerant, w, items, LUNCH, 50000, np.random.default_rng(0)) == "no_spicy"


@pytest.mark.parametrize("item, balance, why", [
    (shown(4), 50000, "closed at lunch"),
    (shown(1, price=9000), 6000, "over the card balance"),
    (shown(5), 50000, "beyond walking distance"),
])
def test_infeasible_items_are_never_buyable(item, balance, why):
    w, c = world(), child()
    assert not choice.buyable(c, w, item, LUNCH, balance), why
    if why != "beyond walking distance":  # far is unattractive, closed or unpayable is impossible
        for i in range(300):
            assert choice.react(np.random.default_rng(i), c, w, [item], LUNCH, balance).chosen is None


def test_an_unaffordable_first_answer_asks_for_cheaper():
    w, c = world(), child(budget=4000)
    assert choice.refinement_for(c, w, [shown(2, price=6000)], LUNCH, 50000, np.random.default_rng(0)) == "cheaper"


def test_novelty_pulls_exploratory_children_only():
    w = world()
    explorer, loyal = child(loyalty=0.0), child(loyalty=1.0)
    items = [shown(2)]
    fresh_e = choice.item_utilities(explorer, w, items, LUNCH, 50000)[0]
    explorer.ordered_shops.add(2)
    assert fresh_e - choice.item_utilities(explorer, w, items, LUNCH, 50000)[0] == pytest.approx(choice.NOVELTY)
    fresh_l = choice.item_utilities(loyal, w, items, LUNCH, 50000)[0]
    loyal.ordered_shops.add(2)
    assert fresh_l == pytest.approx(choice.item_utilities(loyal, w, items, LUNCH, 50000)[0])


def test_satisfaction_grows_with_utility_and_stays_in_range():
    rng = np.random.default_rng(0)
    low = [choice.satisfaction(rng, choice.OUTSIDE_UTILITY) for _ in range(500)]
    high = [choice.satisfaction(rng, choice.OUTSIDE_UTILITY + 4) for _ in range(500)]
    assert set(low) | set(high) <= {1, 2, 3, 4, 5}
    assert np.mean(high) > np.mean(low) + 1.5


def test_oracle_orders_by_hidden_utility_and_reactions_are_seeded():
    w, c = world(), child(category_weights={"분식": 0.05, "치킨": 0.9, "한식": 0.05})
    items = [shown(1, 1), shown(2, 2), shown(4, 3)]
    order = choice.oracle_order(c, w, items, LUNCH, 50000)
    assert order[0] == 1 and order[-1] == 2  # chicken first, the closed shop last
    a = choice.react(np.random.default_rng(42), c, w, items, LUNCH, 50000)
    b = choice.react(np.random.default_rng(42), c, w, items, LUNCH, 50000)
    assert a == b
