"""The spec's scenarios through real HTTP against the running service (real PostgreSQL / Redis / Qdrant)."""

from __future__ import annotations

import concurrent.futures as cf
import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from e2e_seed import wait_rows
from serving.meal_card import is_month_end

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOME = {"lat": 37.5560, "lon": 126.9050}


def sid() -> str:
    return "s-" + uuid.uuid4().hex[:12]


# ---- health, auth, OpenAPI ----------------------------------------------------------------------

def test_health_probes_need_no_key_everything_else_does(service, client):
    assert client.get(service.url + "/healthz").status_code == 200
    assert client.get(service.url + "/readyz").status_code == 200
    body = {"user_id": "1", "session_id": sid(), "text": "안녕"}
    assert client.post(service.url + "/chat", json=body).status_code == 401
    assert client.post(service.url + "/chat", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get(service.url + "/docs.json").status_code == 401
    status = client.post(service.url + "/status", json={}, headers=service.headers())
    assert status.status_code == 200 and status.json()["ready"] is True


def test_openapi_document_matches_the_api(service, client):
    doc = client.get(service.url + "/docs.json", headers=service.headers()).json()
    assert {"/chat", "/feedback", "/healthz", "/readyz"} <= set(doc["paths"])
    schemas = doc["components"]["schemas"]

    def body(path: str) -> dict:  # operations point at their component schemas
        ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[1]]

    req = body("/chat")
    assert set(req["required"]) == {"user_id", "session_id", "text"}
    rec = schemas["Recommendation"]["properties"]
    for field in ("shop_name", "menu_name", "price", "coupon", "final_price", "meal_card_usable", "open_now",
                  "distance_m", "reason", "reason_breakdown", "score"):
        assert field in rec
    assert "action" in body("/feedback")["properties"]


# ---- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"session_id": "s1", "text": "안녕"},                              # missing user_id
    {"user_id": "1", "text": "안녕"},                                  # missing session_id
    {"user_id": "1", "session_id": "s1"},                              # missing text
    {"user_id": "a b", "session_id": "s1", "text": "안녕"},             # malformed id
    {"user_id": "../etc", "session_id": "s1", "text": "안녕"},
    {"user_id": "", "session_id": "s1", "text": "안녕"},
    {"user_id": "1", "session_id": "s 1", "text": "안녕"},
    {"user_id": 123, "session_id": "s1", "text": "안녕"},              # wrong type
    {"user_id": "1", "session_id": "s1", "text": 5000},
    {"user_id": "1", "session_id": "s1", "text": "   "},               # empty
    {"user_id": "1", "session_id": "s1", "text": "가" * 501},          # oversized
    {"user_id": "1", "session_id": "s1", "text": "안녕", "max_results": 0},
    {"user_id": "1", "session_id": "s1", "text": "안녕", "surprise": True},
])
def test_bad_chat_requests_get_clear_4xx(service, client, body):
    r = client.post(service.url + "/chat", json=body, headers=service.headers())
    assert r.status_code == 400, r.text
    assert "Traceback" not in r.text and "File \"" not in r.text
    assert "error" in r.json()


def test_malformed_and_oversized_bodies(service, client):
    h = {**service.headers(), "Content-Type": "application/json"}
    r = client.post(service.url + "/chat", content=b'{"user_id": "1", "text": ', headers=h)
    assert r.status_code == 400 and "Traceback" not in r.text
    r = client.post(service.url + "/chat", content=json.dumps({"user_id": "1", "session_id": "s", "text": "가" * 20000}),
                    headers=h)
    assert r.status_code == 413
    r = client.post(service.url + "/chat", content=b"[1, 2]", headers=h)
    assert r.status_code == 400


def test_first_time_user_starts_onboarding(service, client):
    r = service.ok_chat(client, "안녕하세요", "newkid_" + uuid.uuid4().hex[:6], sid())
    assert r["strategy"] == "onboarding" and r["user_turn"] == 1
    assert r["answer"] and r["recommendations"] == []


def test_feedback_validation(service, client):
    base = {"user_id": "1", "session_id": "s1", "recommendation_id": str(uuid.uuid4()), "shop_id": 101}
    for bad in ({**base, "action": "like"}, {**base, "action": "satisfaction"}, {**base, "action": "coupon_use"},
                {**base, "action": "satisfaction", "satisfaction": 9}, {**base, "action": "order", "shop_id": "x"}):
        r = client.post(service.url + "/feedback", json=bad, headers=service.headers())
        assert r.status_code == 400, (bad, r.text)


# ---- scenario 1: urgent + budget --------------------------------------------------------------------

def test_hungry_with_5000_won_urgent_meal_card_open_payable(service, client):
    r = service.ok_chat(client, "배고픈데 5천원밖에 없어", "1", sid(), location=HOME)
    assert r["intent"] == "budget_inquiry" and r["strategy"] == "urgent"
    assert r["entities"]["budget"] == 5000 and r["entities"]["urgency"] == "high"
    recs = r["recommendations"]
    assert 1 <= len(recs) <= 3
    for rec in recs:
        assert rec["final_price"] <= 5000 and rec["affordable"]
        assert rec["meal_card_usable"] and rec["open_now"]
        if rec["coupon"]:
            assert rec["final_price"] == rec["price"] - rec["coupon"]["discount"]
        else:
            assert rec["final_price"] == rec["price"]
        assert set(rec["reason_breakdown"]) >= {"budget_fit", "distance_score"}
    dists = [rec["distance_m"] for rec in recs]
    assert all(d is not None for d in dists) and dists[0] <= 1000  # nearest first
    assert recs[0]["shop_name"] in r["answer"] and f"{recs[0]['final_price']:,}원" in r["answer"]
    assert len(r["answer"]) < 200  # fewer words when urgent
    for stage in ("nlu", "retrieval", "ranking", "answer", "total"):
        assert stage in r["timings_ms"]


def test_nothing_fits_says_so_and_offers_alternatives(service, client):
    r = service.ok_chat(client, "피자 천원으로 먹을 수 있어?", "3", sid(), location=HOME)
    assert r["recommendations"] == []
    assert r["alternatives"] and all(not a["affordable"] for a in r["alternatives"])
    assert ("못 찾았어요" in r["answer"]) or ("없어요" in r["answer"])


# ---- scenario 2: onboarding → personalization ------------------------------------------------------------

def test_onboarding_to_personalization_over_12_turns(service, client):
    user, session = "kid_" + uuid.uuid4().hex[:8], sid()
    turns = ["안녕", "떡볶이 좋아해", "김밥도 좋아", "점심 뭐 먹을까", "분식 먹고 싶어", "만원으로 뭐 먹지",
             "근처 맛집 알려줘", "고마워", "저녁 추천해줘", "배불러", "뭐 먹을까?", "오늘 점심 추천"]
    results = [service.ok_chat(client, t, user, session, location=HOME) for t in turns]
    assert [r["user_turn"] for r in results] == list(range(1, 13))
    phases = [r["strategy"] for r in results]
    assert phases[:3] == ["onboarding"] * 3
    assert all(p == "data_building" for p in phases[3:10])
    assert phases[10:] == ["normal", "normal"]
    assert "좋아" in results[0]["answer"]  # onboarding asks what the child likes
    assert results[1]["recommendations"], "onboarding still recommends when asked"
    late = [r for r in results[10:] if r["recommendations"]]
    assert late, "the normal phase recommends"
    top = late[-1]["recommendations"][0]
    assert top["reason_breakdown"]["personal_preference"] >= 0.5 and top["category"] == "분식"


# ---- coupons, groups, refinement ----------------------------------------------------------------------------

def test_coupon_question_lists_wallet_and_applies_coupons(service, client):
    r = service.ok_chat(client, "할인 쿠폰 있어?", "1", sid(), location=HOME)
    assert r["intent"] == "coupon_inquiry"
    assert "분식 천원 할인" in r["answer"]
    assert r["recommendations"] and all(rec["coupon"] for rec in r["recommendations"])
    for rec in r["recommendations"]:
        assert rec["final_price"] == rec["price"] - rec["coupon"]["discount"] and rec["final_price"] <= 20000


def test_group_of_ten(service, client):
    r = service.ok_chat(client, "친구들 10명이서 같이 먹을 수 있는 곳 있어?", "2", sid(), location=HOME)
    assert r["intent"] == "group_dining"
    assert "10명" in r["answer"] and r["recommendations"]


def test_no_spicy_refinement_and_back_reference(service, client):
    user, session = "1", sid()
    first = service.ok_chat(client, "떡볶이 먹고 싶어", user, session, location=HOME)
    assert first["recommendations"]
    second = service.ok_chat(client, "매운 거 빼고", user, session, location=HOME)
    assert second["refinement"] is True
    assert second["entities"].get("food_type") == "분식"
    assert "no_spicy" in second["entities"]["dietary_restrictions"]
    menu_ids = [rec["menu_id"] for rec in second["recommendations"]]
    assert menu_ids
    with service.engine.connect() as conn:
        tags = conn.execute(text("SELECT dietary_tags FROM menus WHERE id = ANY(:ids)"), {"ids": menu_ids}).scalars().all()
    assert all("spicy" not in (t or []) for t in tags)
    third = service.ok_chat(client, "아까 거 어디야?", user, session, location=HOME)
    assert third["back_reference"] is True
    assert third["recommendations"][0]["shop_id"] == second["recommendations"][0]["shop_id"]


# ---- feedback, coupon race, emergency coupon ---------------------------------------------------------------------

def test_feedback_records_and_concurrent_coupon_use_succeeds_once(service, client):
    r = service.ok_chat(client, "떡볶이 먹고 싶어", "5", sid(), location=HOME)
    rec_id = r["event_id"]
    fb = {"user_id": "5", "session_id": r["session_id"], "recommendation_id": rec_id, "shop_id": 101}
    for action, extra in (("detail_view", {}), ("selection", {"menu_id": 1001}), ("satisfaction", {"satisfaction": 5})):
        x = client.post(service.url + "/feedback", json={**fb, "action": action, **extra}, headers=service.headers())
        assert x.status_code == 200 and x.json()["status"] == "recorded"
    body = {**fb, "action": "coupon_use", "coupon_id": "BUNSIK1000", "order_amount": 4000, "menu_id": 1003}

    def use(_):
        with httpx.Client() as c:
            return c.post(service.url + "/feedback", json=body, headers=service.headers(), timeout=30)

    with cf.ThreadPoolExecutor(2) as pool:
        codes = sorted(x.status_code for x in pool.map(use, range(2)))
    assert codes == [200, 409]
    with service.engine.connect() as conn:
        rows = conn.execute(text("SELECT status, discount_applied FROM user_coupon_wallet WHERE user_id = 5 "
                                 "AND coupon_id = 'BUNSIK1000'")).all()
    assert [tuple(r) for r in rows] == [("USED", 1000)]
    # this session's rows only: other e2e tests share the service and chat as user 5 too
    n = wait_rows(service.engine, "SELECT count(*) FROM user_interactions WHERE user_id = '5' AND session_id = :s "
                  "AND interaction_type <> 'text_input'", {"s": r["session_id"]}, 5)
    assert n == 5
    # the reactions reached the recommendation's own log row (what click-through and conversion count)
    assert wait_rows(service.engine, "SELECT count(*) FROM recommendations_log WHERE event_id = CAST(:e AS uuid) "
                     "AND user_final_selection = 101 AND user_viewed_details @> '[101]' AND time_to_decision_ms >= 0",
                     {"e": rec_id}, 1) == 1


def test_emergency_coupon_issued_exactly_once(service, client):
    today = datetime.now(ZoneInfo("Asia/Seoul")).date()
    if not is_month_end(today):
        pytest.skip("the emergency rule applies near month end only")
    session = sid()
    with cf.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda it: service.ok_chat(httpx.Client(), it[1], "4", f"{session}-{it[0]}"),
                                enumerate(["배고파", "밥 먹고 싶어", "뭐 먹지"])))
    assert sum(r["meal_card"]["emergency_coupon_issued"] for r in results) == 1
    issued = next(r for r in results if r["meal_card"]["emergency_coupon_issued"])
    assert "긴급" in issued["answer"]
    with service.engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM user_coupon_wallet WHERE user_id = 4 AND coupon_id = 'EMERGENCY_ASSIST' "
                              "AND acquisition_source = 'emergency_assist'")).scalar()
        eligible = conn.execute(text("SELECT emergency_coupon_eligible FROM foodcard_users WHERE user_id = 4")).scalar()
    assert n == 1 and eligible is False
    again = service.ok_chat(client, "배고파", "4", sid())
    assert again["meal_card"]["emergency_coupon_issued"] is False


# ---- logging and personal data -----------------------------------------------------------------------------------

def test_ranking_is_the_registered_wide_deep_with_a_stable_ab_split(service, client):
    seen = {}
    for i in range(12):
        user = f"ab{i}"
        r1 = service.ok_chat(client, "김밥 먹고 싶어", user, sid(), location=HOME)
        r2 = service.ok_chat(client, "김밥 먹고 싶어", user, sid(), location=HOME)
        assert r1["model_variant"] == r2["model_variant"]  # stable per user
        assert r1["ranking_model"].startswith(f"wide_deep:{r1['model_variant']}:")
        seen[user] = r1["model_variant"]
        top = r1["recommendations"][0]
        assert "_base" in top["feature_contributions"]
        assert sum(top["feature_contributions"].values()) == pytest.approx(top["score"], abs=5e-3)
    assert set(seen.values()) == {"champion", "challenger"}
    assert wait_rows(service.engine, "SELECT count(DISTINCT model_variant) FROM recommendations_log WHERE user_id LIKE 'ab%'",
                     {}, 2) == 2


def test_every_turn_is_logged_everywhere(service, client):
    user, session = "2", sid()
    results = [service.ok_chat(client, t, user, session, location=HOME) for t in ("떡볶이 먹고 싶어", "더 싼 거 없어?")]
    ids = [r["event_id"] for r in results]
    e = service.engine
    assert wait_rows(e, "SELECT count(*) FROM conversations WHERE session_id = :s", {"s": session}, 2) == 2
    assert wait_rows(e, "SELECT count(*) FROM conversation_contexts WHERE session_id = :s", {"s": session}, 2) == 2
    assert wait_rows(e, "SELECT count(*) FROM recommendations_log WHERE session_id = :s AND model_variant IN "
                        "('champion', 'challenger')", {"s": session}, 2) == 2
    assert wait_rows(e, "SELECT count(*) FROM user_interactions WHERE session_id = :s", {"s": session}, 2) == 2
    assert wait_rows(e, "SELECT count(*) FROM performance_logs WHERE session_id = :s AND success "
                        "AND bottleneck_component IS NOT NULL AND cache_hit_rate IS NOT NULL", {"s": session}, 2) == 2
    # with its quality score, so the NLU's database cache level can serve it to the next process
    assert wait_rows(e, "SELECT count(*) FROM nlu_training_data WHERE user_id = :u AND input_text = '더 싼 거 없어?'"
                        " AND quality_score IS NOT NULL AND model_version IS NOT NULL", {"u": user}, 1) >= 1
    n_recs = len(results[0]["recommendations"])
    assert wait_rows(e, "SELECT count(*) FROM recommendation_features WHERE recommendation_event_id = CAST(:i AS uuid) "
                        "AND feature_contributions IS NOT NULL", {"i": ids[0]}, n_recs) == n_recs
    # the cheaper refinement really is cheaper
    if results[1]["recommendations"]:
        assert max(r["final_price"] for r in results[1]["recommendations"]) < min(
            r["final_price"] for r in results[0]["recommendations"])


def test_no_card_number_name_or_birthday_in_responses_or_logs(service, client):
    r = client.post(service.url + "/chat", json={"user_id": "1", "session_id": sid(), "text": "뭐 먹지"},
                    headers=service.headers())
    forbidden = ["김하늘", "9410-1111-2222-3331", "941011112222", "2013-03-02"]
    assert not any(f in r.text for f in forbidden)
    log_text = service.log_path.read_text(errors="ignore")
    assert not any(f in log_text for f in forbidden)
    with service.engine.connect() as conn:
        dump = " ".join(str(x) for x in conn.execute(text(
            "SELECT string_agg(t::text, ' ') FROM (SELECT context_data::text AS t FROM conversation_contexts "
            "UNION ALL SELECT recommendations::text FROM recommendations_log "
            "UNION ALL SELECT response_text FROM conversations) x")).scalars())
    assert not any(f in dump for f in forbidden)
