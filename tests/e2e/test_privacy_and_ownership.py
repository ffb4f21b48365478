"""Personal data typed into chat reaches no log, table or Redis key, and /feedback only ever touches
the asker's own recommendation."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from sqlalchemy import text

from e2e_seed import wait_rows

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CARD = "9410 5555 6666 7777"
PHONE = "010-4321-8765"
NAME = "박구름"  # user 3's own name (e2e_seed.USERS)


def _secrets() -> list[str]:
    return [CARD, CARD.replace(" ", ""), "5555 6666", PHONE, PHONE.replace("-", ""), "4321-8765", NAME, "130304-4123456"]


def test_card_phone_and_name_typed_into_chat_are_stored_and_logged_nowhere(service, client, settings):
    run = uuid.uuid4().hex[:6]
    said = f"내 이름은 {NAME}이고 카드번호 {CARD}, 폰 {PHONE}, 주민번호 130304-4123456 인데 떡볶이 먹고 싶어"
    body = service.ok_chat(client, said, "3", f"pii{run}")
    assert body["recommendations"] or body["answer"]
    # a refused request (unknown field) carrying the same text: BentoML logs validation errors
    r = client.post(service.url + "/chat", headers=service.headers(), timeout=30,
                    json={"user_id": "3", "session_id": f"pii{run}", "text": said, "nickname": NAME})
    assert r.status_code == 400
    assert wait_rows(service.engine, "SELECT count(*) FROM conversations WHERE session_id = :s", {"s": f"pii{run}"},
                     1, timeout=30) == 1
    time.sleep(0.5)  # the retrieval cache and NLU writers run behind the turn

    with service.engine.connect() as conn:
        stored = conn.execute(text("SELECT input_text FROM conversations WHERE session_id = :s"),
                              {"s": f"pii{run}"}).scalar()
        assert "떡볶이" in stored and "[카드번호]" in stored, stored
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
        for table in tables:
            for secret in _secrets():
                if table == "users" and secret == NAME:
                    continue  # the profile itself is where the name belongs
                n = conn.execute(text(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE :s'),
                                 {"s": f"%{secret}%"}).scalar()
                assert n == 0, f"{secret!r} stored in {table}"

    r = redis.Redis.from_url(settings.redis_url)
    for key in r.scan_iter(match=settings.redis_key_prefix + "*", count=500):
        kind = r.type(key)
        values = {b"string": lambda k: [r.get(k) or b""], b"hash": lambda k: list(r.hgetall(k).values()),
                  b"list": lambda k: r.lrange(k, 0, -1), b"set": lambda k: list(r.smembers(k)),
                  b"zset": lambda k: r.zrange(k, 0, -1)}.get(kind, lambda k: [])(key)
        blob = key + b"".join(v if isinstance(v, bytes) else str(v).encode() for v in values)
        for secret in _secrets():
            assert secret.encode() not in blob, f"{secret!r} in Redis key {key!r}"

    logged = service.log_path.read_text(errors="replace")
    files = [p for p in (service.data_dir / "spool").rglob("*") if p.is_file()]
    for secret in _secrets():
        assert secret not in logged, f"{secret!r} in the service log"
        for p in files:
            assert secret not in p.read_text(errors="replace"), f"{secret!r} in {p.name}"


def test_feedback_cannot_touch_another_users_recommendation(service, client):
    run = uuid.uuid4().hex[:6]
    owner_session = f"own{run}"
    body = service.ok_chat(client, "떡볶이 먹고 싶어", "5", owner_session, location={"lat": 37.556, "lon": 126.905})
    assert body["recommendations"], body
    rec_id, shop = body["event_id"], body["recommendations"][0]["shop_id"]
    assert wait_rows(service.engine, "SELECT count(*) FROM recommendations_log WHERE event_id = CAST(:e AS uuid)",
                     {"e": rec_id}, 1, timeout=30) == 1
    never_shown = 999_999
    attempts = [("6", f"other{run}", shop, 404, "recommendation_not_found"),   # another user
                ("5", f"elsewhere{run}", shop, 404, "recommendation_not_found"),  # the owner, from another session
                ("5", owner_session, never_shown, 409, "shop_not_recommended")]  # a shop that was never recommended
    for user, session, shop_id, status, reason in attempts:
        for action in ("selection", "coupon_use"):
            body = {"user_id": user, "session_id": session, "recommendation_id": rec_id, "action": action,
                    "shop_id": shop_id, **({"coupon_id": "ANY"} if action == "coupon_use" else {})}
            r = client.post(service.url + "/feedback", headers=service.headers(), timeout=30, json=body)
            assert (r.status_code, r.json()["status"], r.json()["event_id"]) == (status, reason, None), r.text
    # the owner's own reaction is recorded: wait for it, then nothing the refused ones sent may be there
    r = client.post(service.url + "/feedback", headers=service.headers(), timeout=30,
                    json={"user_id": "5", "session_id": owner_session, "recommendation_id": rec_id,
                          "action": "detail_view", "shop_id": shop})
    assert r.status_code == 200, r.text
    assert wait_rows(service.engine, "SELECT count(*) FROM user_interactions WHERE user_selection->>'recommendation_id' = :e",
                     {"e": rec_id}, 1, timeout=30) == 1  # only the owner's: the refused attempts recorded nothing
    with service.engine.connect() as conn:  # ... and changed nothing on the recommendation
        final = conn.execute(text("SELECT user_final_selection FROM recommendations_log "
                                  "WHERE event_id = CAST(:e AS uuid)"), {"e": rec_id}).scalar()
    assert final is None, final
    # the owner's own choice is recorded
    r = client.post(service.url + "/feedback", headers=service.headers(), timeout=30,
                    json={"user_id": "5", "session_id": owner_session, "recommendation_id": rec_id,
                          "action": "selection", "shop_id": shop})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    final = None
    while time.monotonic() < deadline:
        with service.engine.connect() as conn:
            final, viewed = conn.execute(text("SELECT user_final_selection, user_viewed_details FROM recommendations_log "
                                              "WHERE event_id = CAST(:e AS uuid)"), {"e": rec_id}).one()
        if final is not None:
            break
        time.sleep(0.2)
    assert final == shop
    assert never_shown not in (viewed or [])
