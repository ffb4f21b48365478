"""Pure domain logic of the chat service: meal card, coupons, strategy, A/B, dialogue, answers."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from serving import ab, answer, coupon_wallet as cw, dialogue, meal_card as mc, strategy as st

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def coupon(cid="C", **kw) -> cw.WalletCoupon:
    base = dict(coupon_id=cid, name=cid, usage_type="ALL", discount_amount=1000, min_order_amount=0,
                valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31), expiry=NOW + timedelta(days=3))
    base.update(kw)
    return cw.WalletCoupon(**base)


def order(**kw) -> cw.Order:
    base = dict(shop_id=1, category="분식", price=5000, shop_takes_card=True, has_active_card=True, now=NOW)
    base.update(kw)
    return cw.Order(**base)


# ---- meal card -----------------------------------------------------------------------------

def test_spend_limit_is_budget_capped_by_active_balance():
    card = mc.MealCard(user_id=1, balance=3000)
    assert mc.spend_limit(5000, card) == 3000
    assert mc.spend_limit(2000, card) == 2000
    assert mc.spend_limit(None, card) == 3000
    assert mc.spend_limit(5000, None) == 5000
    assert mc.spend_limit(None, None) is None
    assert mc.spend_limit(5000, mc.MealCard(user_id=1, balance=100, status="SUSPENDED")) == 5000


@pytest.mark.parametrize("today,expected", [(date(2026, 11, 25), True), (date(2026, 11, 23), False),
                                            (date(2026, 11, 30), True), (date(2026, 2, 22), True),
                                            (date(2026, 2, 21), False), (date(2026, 11, 1), False)])
def test_month_end_window(today, expected):
    assert mc.is_month_end(today) is expected


def test_emergency_rule_needs_all_conditions():
    card = mc.MealCard(user_id=1, balance=2000)
    end = date(2026, 11, 28)
    assert mc.needs_emergency_coupon(card, end)
    assert not mc.needs_emergency_coupon(card, date(2026, 11, 10))
    assert not mc.needs_emergency_coupon(mc.MealCard(user_id=1, balance=9000), end)
    assert not mc.needs_emergency_coupon(mc.MealCard(user_id=1, balance=2000, emergency_coupon_eligible=False), end)
    assert not mc.needs_emergency_coupon(mc.MealCard(user_id=1, balance=2000, status="EXPIRED"), end)
    assert not mc.needs_emergency_coupon(None, end)


def test_card_shop_flags():
    assert mc.shop_takes_card("Y") and mc.shop_takes_card("P")
    assert not mc.shop_takes_card("N") and not mc.shop_takes_card("U") and not mc.shop_takes_card(None)


# ---- coupons -------------------------------------------------------------------------------

def test_discount_amount_capped_and_rate_rounded_down():
    assert cw.discount_for(coupon(discount_amount=3000), 2500) == 2500
    assert cw.discount_for(coupon(discount_amount=None, discount_rate=0.15), 5990) == 890
    assert cw.discount_for(coupon(discount_amount=None, discount_rate=0.1), 0) == 0


@pytest.mark.parametrize("kw,order_kw,ok", [
    ({"usage_type": "ALL"}, {}, True),
    ({"usage_type": "SHOP", "applicable_shops": (1, 2)}, {}, True),
    ({"usage_type": "SHOP", "applicable_shops": (2,)}, {}, False),
    ({"usage_type": "CATEGORY", "target_categories": ("분식",)}, {}, True),
    ({"usage_type": "CATEGORY", "target_categories": ("한식",)}, {}, False),
    ({"usage_type": "FOODCARD"}, {}, True),
    ({"usage_type": "FOODCARD"}, {"shop_takes_card": False}, False),
    ({"usage_type": "FOODCARD"}, {"has_active_card": False}, False),
    ({"min_order_amount": 6000}, {}, False),
    ({"min_order_amount": 5000}, {}, True),
    ({"valid_until": date(2026, 11, 24)}, {}, False),
    ({"valid_from": date(2026, 11, 26)}, {}, False),
    ({"is_active": False}, {}, False),
    ({"status": "USED"}, {}, False),
    ({"expiry": NOW - timedelta(seconds=1)}, {}, False),
    ({"usage_type": "BOGUS"}, {}, False),
])
def test_applicability_rules(kw, order_kw, ok):
    assert cw.applies(coupon(**kw), order(**order_kw)) is ok


def test_best_coupon_picks_largest_single_discount_never_stacks():
    coupons = [coupon("A", discount_amount=1000), coupon("B", discount_amount=None, discount_rate=0.3),
               coupon("C", discount_amount=2000, usage_type="CATEGORY", target_categories=("한식",))]
    best = cw.best_coupon(coupons, order(price=5000))
    assert best.coupon.coupon_id == "B" and best.discount == 1500 and best.final_price == 3500
    assert cw.best_coupon([], order()) is None
    # ties: priority, then sooner expiry
    t1 = coupon("T1", priority_score=0.2, expiry=NOW + timedelta(days=5))
    t2 = coupon("T2", priority_score=0.2, expiry=NOW + timedelta(days=1))
    assert cw.best_coupon([t1, t2], order()).coupon.coupon_id == "T2"


def test_max_discount_covers_rates_and_amounts():
    assert cw.max_discount([coupon(discount_amount=4000)], NOW, 5000) == 4000
    assert cw.max_discount([coupon(discount_amount=None, discount_rate=0.5)], NOW, 5000) == 5000
    assert cw.max_discount([coupon(status="USED", discount_amount=9000)], NOW, 5000) == 0


def test_coupon_from_row_parses_json_lists():
    c = cw.coupon_from_row({"coupon_id": "X", "coupon_name": "x", "usage_type": "SHOP",
                            "applicable_shops": "[1, 2]", "target_categories": None,
                            "discount_amount": 500, "discount_rate": None, "min_order_amount": None})
    assert c.applicable_shops == (1, 2) and c.min_order_amount == 0


# ---- strategy / A/B --------------------------------------------------------------------------

@pytest.mark.parametrize("turn,expected", [(1, "onboarding"), (3, "onboarding"), (4, "data_building"),
                                           (10, "data_building"), (11, "normal"), (500, "normal")])
def test_phase_by_turn(turn, expected):
    assert st.choose_strategy(turn, "food_request", {}) == expected


def test_urgent_overrides_phase_and_reweights():
    assert st.choose_strategy(12, "budget_inquiry", {"urgency": "high"}) == "urgent"
    assert st.choose_strategy(1, "emergency_food", {}) == "urgent"
    f = st.reweight_features({"distance_penalty": 0.4, "budget_compatibility": 0.6, "popularity_score": 0.5}, "urgent")
    assert f == pytest.approx({"distance_penalty": 0.8, "budget_compatibility": 0.9, "popularity_score": 0.5})
    score, contrib = st.reweight_score(1.0, {"distance_penalty": -0.2, "budget_compatibility": 0.4}, "urgent")
    assert score == pytest.approx(1.0 - 0.2 + 0.2) and contrib["distance_penalty"] == pytest.approx(-0.4)
    assert st.reweight_score(1.0, {"distance_penalty": -0.2}, "normal")[0] == 1.0


def test_ab_assignment_is_stable_and_balanced():
    users = [f"user_{i}" for i in range(4000)]
    first = [ab.assign_variant(u) for u in users]
    assert first == [ab.assign_variant(u) for u in users]
    share = first.count("challenger") / len(users)
    assert 0.45 < share < 0.55
    assert ab.assign_variant("x", challenger_available=False) == "champion"
    assert ab.assign_variant("x", challenger_share=0) == "champion"


def test_group_b_takes_its_share_first_and_independently_of_the_challenger_split():
    users = [f"user_{i}" for i in range(4000)]
    arms = [ab.assign_variant(u, lora_share=0.3, lora_available=True) for u in users]
    assert arms == [ab.assign_variant(u, lora_share=0.3, lora_available=True) for u in users]
    assert 0.27 < arms.count("lora_model") / len(users) < 0.33
    # group A is split between champion and challenger as before, in the same proportions
    rest = [a for a in arms if a != "lora_model"]
    assert 0.45 < rest.count("challenger") / len(rest) < 0.55
    # without a registered LoRA model (or with share 0) nobody is in group B
    assert "lora_model" not in {ab.assign_variant(u, lora_share=0.3, lora_available=False) for u in users[:500]}
    assert "lora_model" not in {ab.assign_variant(u, lora_share=0.0, lora_available=True) for u in users[:500]}


# ---- dialogue ----------------------------------------------------------------------------------

def _after_recommendation() -> dialogue.DialogueState:
    s = dialogue.DialogueState.new("s1", "u1")
    turn = dialogue.interpret(s, "떡볶이 먹고 싶어 5천원", "budget_inquiry", {"food_type": "분식", "budget": 5000})
    recs = [{"shop_id": 1, "menu_id": 10, "shop_name": "엄마손 분식", "menu_name": "매운 떡볶이", "price": 4000,
             "final_price": 4000}, {"shop_id": 2, "menu_id": 20, "shop_name": "김밥집", "menu_name": "김밥",
                                    "price": 3000, "final_price": 3000}]
    return dialogue.remember(s, turn=turn, intent="budget_inquiry", entities=turn.entities, strategy="onboarding",
                             recommendations=recs)


def test_refinement_keeps_previous_request():
    s = _after_recommendation()
    t = dialogue.interpret(s, "매운 거 빼고", "menu_option", {"dietary_restrictions": ["no_spicy"]})
    assert t.refinement and t.intent == "budget_inquiry"
    assert t.entities == {"food_type": "분식", "budget": 5000, "dietary_restrictions": ["no_spicy"]}
    assert t.query_text == "떡볶이 먹고 싶어 5천원"
    s2 = dialogue.remember(s, turn=t, intent="menu_option", entities=t.entities, strategy="onboarding", recommendations=[])
    # the restriction holds for the rest of the session
    t2 = dialogue.interpret(s2, "치킨 먹고 싶어", "food_request", {"food_type": "치킨"})
    assert not t2.refinement and t2.entities["dietary_restrictions"] == ["no_spicy"] and t2.entities["food_type"] == "치킨"


def test_cheaper_and_excluded_category():
    s = _after_recommendation()
    t = dialogue.interpret(s, "더 싼 거 없어?", "budget_inquiry", {})
    assert t.refinement and t.cheaper
    matches = lambda text: [(0, 2, "분식")] if text.startswith("분식") else []  # noqa: E731
    t2 = dialogue.interpret(s, "분식 말고", "menu_option", {}, food_matches=matches)
    assert t2.refinement and "food_type" not in t2.entities and t2.excluded_categories == ["분식"]


def test_back_reference():
    s = _after_recommendation()
    assert dialogue.interpret(s, "아까 거 어디야?", "location_inquiry", {}).back_reference == 0
    assert dialogue.interpret(s, "두 번째 거", "general_chat", {}).back_reference == 1
    assert dialogue.interpret(dialogue.DialogueState.new("s", "u"), "아까 거", "general_chat", {}).back_reference is None


def test_state_round_trips_and_counts_turns():
    s = _after_recommendation()
    again = dialogue.DialogueState.from_dict(s.to_dict())
    assert again == s and s.turn == 1 and s.user_turns == 1 and s.liked_categories == ["분식"]


# ---- answers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("word,pair,expected", [
    ("김밥", "이/가", "김밥이"), ("떡볶이", "이/가", "떡볶이가"), ("라면", "은/는", "라면은"),
    ("피자", "을/를", "피자를"), ("쿠폰", "으로/로", "쿠폰으로"), ("서울", "으로/로", "서울로"),
    ("4,000원", "이에요/예요", "4,000원이에요"), ("치즈버거 세트", "이에요/예요", "치즈버거 세트예요"),
    ("3", "이/가", "3이"), ("5", "은/는", "5는"),
])
def test_particles(word, pair, expected):
    assert answer.josa(word, pair) == expected


def _rec(**kw):
    base = dict(shop_name="엄마손 분식", menu_name="떡볶이", price=5000, final_price=4000, coupon_name="분식 천원 할인",
                meal_card_usable=True, distance_m=350.0, reason_breakdown={"budget_fit": 0.9, "distance_score": 0.8})
    base.update(kw)
    return base


def test_answer_names_shop_menu_final_price_and_varies():
    gen = answer.TemplateAnswerer()
    texts = {gen.generate(answer.AnswerPlan(strategy="normal", intent="food_request", recommendations=[_rec()], seed=i))
             for i in range(12)}
    assert len(texts) > 2
    for t in texts:
        assert "엄마손 분식" in t and "떡볶이" in t and "4,000원" in t
    same = answer.AnswerPlan(strategy="normal", intent="food_request", recommendations=[_rec()], seed=7)
    assert gen.generate(same) == gen.generate(same)


def test_urgent_answer_is_short():
    gen = answer.TemplateAnswerer()
    plan = answer.AnswerPlan(strategy="urgent", intent="budget_inquiry", recommendations=[_rec(), _rec(shop_name="김밥집")])
    normal = answer.AnswerPlan(strategy="normal", intent="budget_inquiry", recommendations=[_rec(), _rec(shop_name="김밥집")])
    assert len(gen.generate(plan)) < len(gen.generate(normal))


def test_nothing_fits_offers_alternatives_and_emergency_coupon_is_announced():
    gen = answer.TemplateAnswerer()
    plan = answer.AnswerPlan(strategy="normal", intent="budget_inquiry", spend_limit=2000, balance=2000, has_card=True,
                             alternatives=[{"kind": "cheapest", "shop_name": "김밥집", "menu_name": "김밥", "final_price": 3000}],
                             why_nothing={"reason": "over_budget", "binding": ["over_budget"], "shortfall": 1000},
                             emergency_coupon={"name": "월말 긴급 지원 쿠폰", "amount": 4000})
    text = gen.generate(plan)
    assert "못 찾았어요" in text or "없어요" in text
    assert "김밥집" in text and "4,000원" in text and "2,000원" in text


def test_wallet_answer_and_onboarding_question():
    gen = answer.TemplateAnswerer()
    text = gen.generate(answer.AnswerPlan(strategy="onboarding", intent="coupon_inquiry",
                                          wallet=[{"name": "분식 천원 할인", "discount_amount": 1000}]))
    assert "분식 천원 할인" in text and "1,000원" in text
    hello = gen.generate(answer.AnswerPlan(strategy="onboarding", intent="general_chat", ask_preference=True))
    assert "좋아" in hello
