"""The chat pipeline with in-repo fakes behind its ports (no database, no models)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from serving import coupon_wallet as cw, dialogue
from serving.meal_card import MealCard
from serving.pipeline import ChatPipeline
from serving.ports import Account, Candidate, NluFrame, SearchOutcome
from serving.schemas import ChatRequest, FeedbackRequest
from serving.scoring import LinearFallbackScorer

NOW = datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc)  # 12:00 in Seoul, not month end
HOME = {"lat": 37.556, "lon": 126.905}

FRAMES = {
    "배고픈데 5천원밖에 없어": ("budget_inquiry", {"budget": 5000, "urgency": "high"}),
    "떡볶이 먹고 싶어": ("food_request", {"food_type": "분식"}),
    "매운 거 빼고": ("menu_option", {"dietary_restrictions": ["no_spicy"]}),
    "천원으로 먹을 거": ("budget_inquiry", {"budget": 1000}),
    "안녕": ("general_chat", {}),
    "망원동 근처 떡볶이": ("location_inquiry", {"location_preference": "망원동", "food_type": "분식"}),
    "친구 4명이랑 먹을 건데": ("group_dining", {"companions": "group"}),
    "4명이서 2만원으로 먹을래": ("group_dining", {"companions": "group", "budget": 20000}),
}
MENUS = [
    Candidate(1, 11, "먼 분식", "떡볶이", 4500, "분식", "Y", 37.570, 126.905, dietary_tags=("spicy",)),
    Candidate(2, 21, "가까운 김밥", "김밥", 3000, "분식", "Y", 37.5562, 126.9052),
    Candidate(3, 31, "비싼 한식", "불고기", 9000, "한식", "Y", 37.5565, 126.9050),
    Candidate(4, 41, "카드 안 되는 곳", "라면", 3500, "분식", "N", 37.5561, 126.9051),
    Candidate(5, 51, "쿠폰 분식", "우동", 5500, "분식", "Y", 37.5570, 126.9060),
]


class FakeNlu:
    version, wants_embedding = "fake", False

    def parse(self, text, *, user_id=None, embedding=None):
        intent, ents = FRAMES.get(text, ("general_chat", {}))
        return NluFrame(intent=intent, confidence=0.9, entities=dict(ents), normalized_text=text, source="model")

    def party_size(self, text):
        import re

        m = re.search(r"(\d+)명", text)
        return int(m.group(1)) if m else None

    def food_matches(self, text):
        return []


class FakeRetrieval:
    def __init__(self):
        self.calls = []

    def embed(self, text):
        return [0.0], "miss"

    def search(self, query_text, filters, limit, query_vector=None):
        self.calls.append(dict(filters))
        out = []
        for c in MENUS:
            if filters.get("categories") and c.category not in filters["categories"]:
                continue
            if filters.get("max_price") is not None and c.price > filters["max_price"]:
                continue
            if filters.get("food_card_only") and c.food_card_flag not in ("Y", "P"):
                continue
            if "no_spicy" in (filters.get("dietary") or []) and "spicy" in c.dietary_tags:
                continue
            out.append(c)
        return SearchOutcome(out[:limit], cache="miss", embedding="miss")

    def search_each(self, query_text, filters, limit, query_vector=None):
        return [self.search(query_text, f, limit).candidates for f in filters]

    def ready(self):
        return True


class FakeAccounts:
    def __init__(self, balance=20000, coupons=(), fail=False):
        self.balance, self.coupons, self.fail = balance, list(coupons), fail
        self.used = []
        self.orders = []

    def load(self, user_id, now):
        if self.fail:
            raise ConnectionError("database down")
        return Account(user_key=1, card=MealCard(1, self.balance), coupons=self.coupons)

    def issue_emergency_coupon(self, user_key, context, now):
        return False

    def use_coupon(self, user_key, coupon_id, shop_id, menu_id, order_amount, discount, now):
        if coupon_id in self.used:
            return False
        self.used.append(coupon_id)
        return True

    def record_order(self, user_key, shop_id, menu_id, amount, at):
        from serving.orders import OrderResult

        self.orders.append((user_key, shop_id, menu_id, amount, at))
        return OrderResult(True, self.balance)


class FakeShops:
    def get(self, ids):
        return {i: {"shop_id": i, "popularity_score": 0.5} for i in ids}


class FakeUsers:
    def __init__(self):
        self.asked: list[tuple[str, list[int]]] = []

    def get(self, user_id, shop_ids=()):
        self.asked.append((user_id, list(shop_ids)))
        return {"total_orders": 0}, "l1"


class FakeContexts:
    def __init__(self):
        self.data = {}

    def load(self, session_id, user_id):
        s = self.data.get(session_id)
        return (dict(s), "l1", s["user_turns"]) if s else (None, "none", 0)

    def save(self, state):
        self.data[state["session_id"]] = dict(state)


class FakeEvents:
    def __init__(self):
        self.events = []

    def emit_many(self, events):
        self.events.extend(events)


def make(accounts=None):
    events = FakeEvents()
    p = ChatPipeline(nlu=FakeNlu(), retrieval=FakeRetrieval(), accounts=accounts or FakeAccounts(),
                     shop_features=FakeShops(), user_features=FakeUsers(), contexts=FakeContexts(), events=events,
                     scorers={"champion": LinearFallbackScorer(), "challenger": LinearFallbackScorer("lin-b")},
                     clock=lambda: NOW)
    return p, events


def chat(p, text, session="s1", user="1", location=HOME):
    return p.chat(ChatRequest.model_validate({"user_id": user, "session_id": session, "text": text, "location": location}))


def test_urgent_budget_recommends_only_payable_meal_card_shops_nearest_first():
    p, events = make()
    r = chat(p, "배고픈데 5천원밖에 없어")
    assert r["strategy"] == "urgent"
    assert r["recommendations"]
    assert all(x["final_price"] <= 5000 and x["meal_card_usable"] for x in r["recommendations"])
    assert r["recommendations"][0]["shop_name"] == "가까운 김밥"
    assert p.retrieval.calls[0]["food_card_only"] and p.retrieval.calls[0]["open_now"]
    tables = {t for t, _ in events.events}
    assert tables == {"conversations", "conversation_contexts", "user_interactions", "nlu_training_data",
                      "recommendations_log", "recommendation_features", "performance_logs"}
    nlu_row = next(row for t, row in events.events if t == "nlu_training_data")
    assert nlu_row["quality_score"] == round(nlu_row["intent_confidence"], 2) and nlu_row["user_id"] == "1"
    rec_log = next(row for t, row in events.events if t == "recommendations_log")
    assert rec_log["model_variant"] in ("champion", "challenger") and rec_log["event_id"] == r["event_id"]
    perf = next(row for t, row in events.events if t == "performance_logs")
    assert perf["success"] and perf["bottleneck_component"] and perf["operation_type"] == "emergency_recommendation"
    # user features: one read per turn, for the shops being scored (not one per candidate)
    assert len(p.user_features.asked) == 1
    user, shops = p.user_features.asked[0]
    assert user == "1" and {x["shop_id"] for x in r["recommendations"]} <= set(shops)
    assert r["cache"]["user_features"] == "l1"


def test_a_group_splits_the_partys_money_not_the_childs_own():
    p, _ = make()
    # said before any group came up: the child's own 5,000 won, whole through the group turns
    assert chat(p, "배고픈데 5천원밖에 없어", session="own")["meal_card"]["spend_limit"] == 5000
    assert chat(p, "친구 4명이랑 먹을 건데", session="own")["meal_card"]["spend_limit"] == 5000
    assert chat(p, "떡볶이 먹고 싶어", session="own")["meal_card"]["spend_limit"] == 5000
    # said with the group: the party's 20,000 won, a quarter each, also on the next turn
    assert chat(p, "4명이서 2만원으로 먹을래", session="party")["meal_card"]["spend_limit"] == 5000
    assert chat(p, "떡볶이 먹고 싶어", session="party")["meal_card"]["spend_limit"] == 5000


def test_coupon_brings_a_menu_within_the_balance():
    coupon = cw.WalletCoupon("BUNSIK1000", "분식 천원 할인", "CATEGORY", discount_amount=1000, min_order_amount=4000,
                             target_categories=("분식",), expiry=NOW + timedelta(days=1))
    p, _ = make(FakeAccounts(balance=4500, coupons=[coupon]))
    r = chat(p, "떡볶이 먹고 싶어")
    assert r["meal_card"]["spend_limit"] == 4500
    by_shop = {x["shop_name"]: x for x in r["recommendations"]}
    assert by_shop["쿠폰 분식"]["final_price"] == 4500 and by_shop["쿠폰 분식"]["coupon"]["coupon_id"] == "BUNSIK1000"
    assert all(x["final_price"] <= 4500 for x in r["recommendations"])
    assert p.retrieval.calls[0]["max_price"] == 5500  # looks above the limit by the largest discount


def test_nothing_fits_gives_alternatives_not_recommendations():
    p, _ = make()
    r = chat(p, "천원으로 먹을 거")
    assert r["recommendations"] == [] and r["alternatives"]
    assert all(not a["affordable"] for a in r["alternatives"])
    assert "1,000원" in r["answer"]


def test_refinement_reuses_the_previous_request():
    p, _ = make()
    chat(p, "떡볶이 먹고 싶어", session="r1")
    r = chat(p, "매운 거 빼고", session="r1")
    assert r["refinement"] and r["entities"]["food_type"] == "분식"
    assert all(x["menu_name"] != "떡볶이" for x in r["recommendations"])
    assert p.retrieval.calls[-1]["dietary"] == ["no_spicy"]


def test_database_down_still_answers_and_says_the_balance_is_unknown():
    p, events = make(FakeAccounts(fail=True))
    r = chat(p, "떡볶이 먹고 싶어")
    assert r["meal_card"]["balance_checked"] is False and "잔액" in r["answer"]


def test_general_chat_in_onboarding_asks_preferences_without_searching():
    p, _ = make()
    r = chat(p, "안녕", session="g1", user="new-kid")
    assert r["strategy"] == "onboarding" and r["recommendations"] == [] and p.retrieval.calls == []
    assert "좋아" in r["answer"]


def _feedback(p, body: dict, **fields):
    first = body["recommendations"][0]
    req = {"user_id": body["user_id"], "session_id": body["session_id"], "recommendation_id": body["event_id"],
           "action": "selection", "shop_id": first["shop_id"], **fields}
    return p.feedback(FeedbackRequest.model_validate(req))


def test_feedback_coupon_use_twice_conflicts():
    coupon = cw.WalletCoupon("C1", "c", "ALL", discount_amount=500, expiry=NOW + timedelta(days=1))
    p, events = make(FakeAccounts(coupons=[coupon]))
    body = chat(p, "떡볶이 먹고 싶어")
    assert _feedback(p, body, action="coupon_use", coupon_id="C1", order_amount=3000)[1] == 200
    reply, code = _feedback(p, body, action="coupon_use", coupon_id="C1", order_amount=3000)
    assert code == 409 and reply["status"] == "coupon_unavailable"
    assert [row["interaction_type"] for t, row in events.events if t == "user_interactions"
            and row["interaction_type"] != "text_input"] == ["coupon_use"] * 2


def test_feedback_only_about_a_shop_this_session_was_shown():
    p, events = make()
    body = chat(p, "떡볶이 먹고 싶어", session="mine")
    recorded = lambda: [r for t, r in events.events if t == "user_interactions" and r["interaction_type"] != "text_input"]  # noqa: E731
    shown = {r["shop_id"] for r in body["recommendations"]}
    reply, code = _feedback(p, body, shop_id=max(shown) + 1000)  # a shop the answer did not contain
    assert (code, reply["status"], reply["event_id"]) == (409, "shop_not_recommended", None)
    reply, code = _feedback(p, {**body, "session_id": "theirs"})  # the same id from another session
    assert (code, reply["status"]) == (404, "recommendation_not_found")
    reply, code = _feedback(p, {**body, "event_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12})  # never answered
    assert code == 404
    assert recorded() == [], "a refused reaction records nothing"
    reply, code = _feedback(p, body)
    assert code == 200 and reply["status"] == "recorded" and len(recorded()) == 1


def test_feedback_about_an_older_answer_is_checked_against_the_log():
    class Log:
        def __init__(self, rows):
            self.rows, self.asked = rows, []

        def shown(self, rid, *, since):
            self.asked.append(since)
            return self.rows.get(rid)

    p, _ = make()
    body = chat(p, "떡볶이 먹고 싶어", session="old")
    for _ in range(dialogue.SHOWN_KEPT):  # later answers push the first out of the session context
        assert chat(p, "떡볶이 먹고 싶어", session="old")["recommendations"]
    assert _feedback(p, body)[1] == 404  # no log to ask
    shops = [r["shop_id"] for r in body["recommendations"]]
    p.recommendation_log = Log({body["event_id"]: ("1", "old", shops)})
    assert _feedback(p, body)[1] == 200
    assert p.recommendation_log.asked == [NOW - timedelta(days=7)]
    p.recommendation_log = Log({body["event_id"]: ("2", "old", shops)})  # logged for another child
    assert _feedback(p, body)[1] == 404


@pytest.mark.parametrize("bad", [{"user_id": "1", "session_id": "s", "text": ""}, {"user_id": 1, "session_id": "s", "text": "a"},
                                 {"user_id": "1", "session_id": "s", "text": "가" * 501}])
def test_request_validation(bad):
    with pytest.raises(ValueError):
        ChatRequest.model_validate(bad)


def test_back_reference_is_priced_again_against_the_card_of_now():
    accounts = FakeAccounts(balance=20000)
    p, _ = make(accounts)
    first = chat(p, "떡볶이 먹고 싶어")["recommendations"][0]
    assert first["affordable"]
    accounts.balance = 1000  # the child spent the card since
    again = chat(p, "아까 거 어디야?")
    assert again["back_reference"]
    [recalled] = again["recommendations"]
    assert recalled["shop_id"] == first["shop_id"] and recalled["final_price"] == first["price"]
    assert not recalled["affordable"] and recalled["coupon"] is None
    assert "모자라" in again["answer"]  # shown, and said to be over the balance


class EmergencyAccounts(FakeAccounts):
    """An eligible card whose one emergency coupon, once issued, is in the wallet."""

    def __init__(self, balance):
        super().__init__(balance=balance)
        self.eligible, self.issued = True, 0

    def load(self, user_id, now):
        card = MealCard(1, self.balance, emergency_coupon_eligible=self.eligible)
        return Account(user_key=1, card=card, coupons=self.coupons)

    def issue_emergency_coupon(self, user_key, context, now):
        if not self.eligible:
            return False
        self.eligible, self.issued = False, self.issued + 1
        self.coupons.append(cw.WalletCoupon(cw.EMERGENCY_COUPON_ID, "월말 긴급 지원 쿠폰", "FOODCARD",
                                            discount_amount=cw.EMERGENCY_DISCOUNT_WON,
                                            acquisition_source=cw.EMERGENCY_SOURCE))
        return True


@pytest.mark.parametrize("utc_now, issued", [
    (datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc), 1),  # 27 November: month end
    (datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc), 0),  # mid-month: the balance is low, but no
])
def test_emergency_coupon_near_month_end_once(utc_now, issued):
    accounts = EmergencyAccounts(balance=1500)
    p, _ = make(accounts)
    p.clock = lambda: utc_now
    first = chat(p, "떡볶이 먹고 싶어")
    second = chat(p, "떡볶이 먹고 싶어", session="s2")
    assert accounts.issued == issued
    assert [first["meal_card"]["emergency_coupon_issued"], second["meal_card"]["emergency_coupon_issued"]] == \
        [bool(issued), False]
    if issued:
        assert "긴급" in first["answer"]
        # with the 4,000-won coupon a 4,500-won 떡볶이 costs 500 won: within the 1,500-won balance
        assert first["recommendations"] and all(r["final_price"] <= 1500 for r in first["recommendations"])
        assert any(r["coupon_id"] == cw.EMERGENCY_COUPON_ID for r in first["recommendations"])


def test_a_named_place_is_searched_around_that_place():
    p, _ = make()
    chat(p, "망원동 근처 떡볶이", location={"lat": 37.60, "lon": 126.93})  # the child is elsewhere now
    lat, lon, radius = p.retrieval.calls[0]["near"]
    assert abs(lat - 37.5555) < 0.01 and abs(lon - 126.8999) < 0.01 and radius >= 1500
