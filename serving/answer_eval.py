"""Are the answers near home and honest? ``python -m serving.answer_eval --samples 500``

Samples random (user, local time, request) triples over the sample data in the configured
database (after ``naviyam demo`` / ``naviyam assets materialize``), runs each through the real
pipeline in-process with the clock set to that time, and prints:

* **within radius**: of the recommendations made to users whose home is known (an address that
  geocodes), the share within the walking radius of their age group from that home, measured
  here from the address (not from what the service says); and the same share measured from the
  generator's hidden true home (``hidden_truth.json``: a point up to 0.7 km from the
  neighbourhood centre an address resolves to), when that file is there;
* **correct reason**: of the turns where nothing fits, the share whose stated reason is true by
  an independent SQL oracle over ``shops``/``menus``: relaxing that constraint alone finds a
  menu (``several``: relaxing any one alone finds none). The oracle ignores coupons (a coupon can
  only make more fit), so it may disagree on a coupon-made fit; disagreements are listed.

Requests avoid named places and dietary words, so every triple's search is around the home.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

REQUESTS = (
    "배고픈데 5천원밖에 없어", "배고파", "점심 뭐 먹지", "저녁 뭐 먹을까", "떡볶이 먹고 싶어", "치킨 먹고 싶다",
    "돈까스 먹을래", "짜장면 먹고 싶어", "김밥 먹을래", "국밥 먹고 싶어", "피자 먹고 싶어", "3천원으로 먹을 거",
    "만원으로 뭐 먹지", "햄버거 먹고 싶어", "라면 먹고 싶어", "도시락 먹을래", "7천원 있어", "아침 먹을 데 있어?",
)
#: (first minute, last minute) of each time of day sampled, local time
SLOTS = {"breakfast": (7 * 60, 9 * 60), "lunch": (11 * 60 + 30, 13 * 60 + 30), "after_school": (15 * 60, 17 * 60),
         "dinner": (18 * 60, 20 * 60), "late_night": (22 * 60, 25 * 60 + 30)}

USERS_SQL = text("""
    SELECT u.id, u.current_address, extract(year FROM age(current_date, u.birthday))::int AS age
    FROM users u ORDER BY u.id
""")
# menus that fit every constraint of a turn except the relaxed one (the oracle; coupons ignored)
ORACLE_SQL = """
    WITH s AS (
        SELECT s.*, 6371008.8 * 2 * asin(sqrt(power(sin(radians(s.latitude - :lat) / 2), 2)
               + cos(radians(:lat)) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - :lon) / 2), 2)))
               AS dist,
               (substr(open_hour, 1, 2)::int * 60 + substr(open_hour, 4, 2)::int) AS o,
               (substr(close_hour, 1, 2)::int * 60 + substr(close_hour, 4, 2)::int) AS c,
               (substr(break_start_hour, 1, 2)::int * 60 + substr(break_start_hour, 4, 2)::int) AS bs,
               (substr(break_end_hour, 1, 2)::int * 60 + substr(break_end_hour, 4, 2)::int) AS be
        FROM shops s WHERE s.latitude IS NOT NULL
    )
    SELECT count(*) FROM menus m JOIN s ON s.id = m.shop_id
    WHERE m.category IN ('메인메뉴', '세트메뉴') {where}
"""
CONDITIONS = {
    "too_far": "s.dist <= :radius",
    "closed_now": ("((s.o IS NULL AND s.current_status = 'OPEN') OR (s.o IS NOT NULL AND "
                   "CASE WHEN s.c > s.o THEN :minute >= s.o AND :minute < s.c ELSE :minute >= s.o OR :minute < s.c END "
                   "AND NOT coalesce(:minute >= s.bs AND :minute < s.be, false)))"),
    "no_such_food": "s.category = :food",
    "over_budget": "m.price <= :limit",
    "card": "s.is_food_card_shop IN ('Y', 'P')",
}


def oracle_counts(conn, resp: dict[str, Any], radius: float) -> dict[str, int]:
    """For each constraint the turn has: menus fitting all the others (key) and all of them ("all")."""
    area = resp["search_area"]
    hh, mm = (int(x) for x in resp["search_time"]["at"].split(":"))
    params = {"lat": area["lat"], "lon": area["lon"], "radius": radius, "minute": hh * 60 + mm,
              "food": resp["entities"].get("food_type"), "limit": resp["meal_card"]["spend_limit"]}
    active = ["too_far", "closed_now"]
    if params["food"]:
        active.append("no_such_food")
    if params["limit"] is not None:
        active.append("over_budget")
    if resp["meal_card"]["has_card"] or resp["strategy"] == "urgent":
        active.append("card")
    out = {}
    for relaxed in [*active, "all"]:
        conds = [CONDITIONS[k] for k in active if k != relaxed]
        if relaxed == "too_far":  # "a bit farther", as the service relaxes it
            from serving.search_area import A_BIT_FARTHER

            conds.append("s.dist <= :radius * %s" % A_BIT_FARTHER)
        where = "".join(f" AND {c}" for c in conds)
        out[relaxed] = conn.execute(text(ORACLE_SQL.format(where=where)), params).scalar()
    return out


def main(samples: int = 500, seed: int = 7, max_seconds: float = 1800.0) -> int:
    from zoneinfo import ZoneInfo

    from infra.db import get_engine
    from infra.settings import get_settings
    from serving import search_area
    from serving.ports import Account
    from serving.schemas import ChatRequest
    from serving.service import build_pipeline

    settings = get_settings()
    engine = get_engine()
    tz = ZoneInfo(settings.timezone)
    with engine.connect() as conn:
        users = [dict(r._mapping) for r in conn.execute(USERS_SQL)]
    if not users:
        print("no users in the database: run `naviyam demo` (or `naviyam assets materialize`) first", file=sys.stderr)
        return 2
    truth_path = settings.data_dir / "sample" / "hidden_truth.json"
    true_homes = {}
    if truth_path.exists():
        true_homes = {int(k): tuple(v["home"]) for k, v in json.loads(truth_path.read_text())["users"].items()}
    pipeline, _ = build_pipeline(settings)
    when = {"t": datetime.now(tz)}
    pipeline.clock = lambda: when["t"]
    rng = random.Random(seed)
    base = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    within = within_true = recs_home = 0
    nothing, correct = 0, 0
    reasons, wrong = Counter(), []
    started = time.monotonic()
    done = 0
    with engine.connect() as conn:
        for i in range(samples):
            if time.monotonic() - started > max_seconds:
                print(f"stopped after {max_seconds:.0f} s", file=sys.stderr)
                break
            user = rng.choice(users)
            slot = rng.choice(list(SLOTS))
            lo, hi = SLOTS[slot]
            day = base + timedelta(days=rng.randrange(-20, 10))
            when["t"] = day + timedelta(minutes=rng.randrange(lo, hi))
            text_ = rng.choice(REQUESTS)
            req = ChatRequest.model_validate({"user_id": str(user["id"]), "session_id": f"eval-{seed}-{i}",
                                              "text": text_})
            resp = pipeline.chat(req)
            done += 1
            walk = search_area.walk_radius_m(user["age"], settings)
            home = search_area.home_of(Account(user_key=None, home_address=user["current_address"]))
            if home is not None:
                for r in resp["recommendations"]:
                    shop = conn.execute(text("SELECT latitude::float8, longitude::float8 FROM shops WHERE id = :i"),
                                        {"i": r["shop_id"]}).one()
                    recs_home += 1
                    within += search_area.SearchArea("home", *home[1], walk).distance_m(*shop) <= walk + 1
                    true_home = true_homes.get(int(user["id"]))
                    if true_home:
                        within_true += search_area.SearchArea("home", *true_home, walk).distance_m(*shop) <= walk + 1
            why = resp.get("why_nothing")
            if not resp["recommendations"] and why and resp["search_area"]["lat"] is not None:
                nothing += 1
                reasons[why["reason"]] += 1
                counts = oracle_counts(conn, resp, resp["search_area"]["radius_m"])
                if why["reason"] == "several":
                    ok = all(v == 0 for k, v in counts.items())
                else:
                    ok = counts.get(why["reason"], 0) > 0 and counts["all"] == 0
                correct += ok
                if not ok and len(wrong) < 10:
                    wrong.append((text_, resp["search_time"]["at"], why["reason"], counts))
            if done % 50 == 0:
                print(f"  {done}/{samples} triples, {time.monotonic() - started:.0f} s", file=sys.stderr)
    pipeline.close()
    print(f"triples: {done} (seed {seed}); users {len(users)}; requests {len(REQUESTS)}; slots {', '.join(SLOTS)}")
    if recs_home:
        print(f"within walking radius of the address's home: {within}/{recs_home} = {within / recs_home:.1%}")
        if true_homes:
            print(f"within walking radius of the hidden true home: {within_true}/{recs_home} = "
                  f"{within_true / recs_home:.1%}")
    print(f"nothing fits: {nothing} turns; reasons {dict(reasons)}")
    if nothing:
        print(f"correct reason (SQL oracle): {correct}/{nothing} = {correct / nothing:.1%}")
    for w in wrong:
        print("  disagreement:", w)
    return 0


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=500, help="how many (user, time, request) triples")
    ap.add_argument("--seed", type=int, default=7, help="random seed of the sample")
    ap.add_argument("--max-seconds", type=float, default=1800.0, help="stop early after this long")
    a = ap.parse_args()
    sys.exit(main(a.samples, a.seed, a.max_seconds))
