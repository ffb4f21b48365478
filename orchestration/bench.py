"""Measure the warehouse: full materialization, `dbt build`, and one 5-minute batch.

    python -m orchestration.bench --scale 1 [--keep]
    python -m orchestration.bench --scale 10 --skip retrieval-index,training

On a scratch database ``naviyam_bench_<scale>`` (dropped afterwards unless --keep): generate and
ingest the sample at the scale, materialize the whole graph (timed per stage), time a
``dbt build --full-refresh`` on the loaded data, then insert 1,000 chat turns (with the
recommendation, interaction and performance rows a real service writes alongside: one list per
three turns, a performance row per turn) and time one run of the 5-minute batch job; a batch
with nothing new is timed too, as the baseline. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import text


def insert_chat_traffic(engine, turns: int, seed: int = 7) -> dict[str, int]:
    """``turns`` conversation rows over the last five minutes, plus their side rows."""
    rng = random.Random(seed)
    now = datetime.now().astimezone()
    with engine.connect() as conn:
        users = [r[0] for r in conn.execute(text("SELECT id FROM users ORDER BY random() LIMIT 500"))] or [1]
        shops = [r[0] for r in conn.execute(text("SELECT id FROM shops ORDER BY random() LIMIT 500"))] or [1]
    conversations, recs, perf, interactions = [], [], [], []
    session, user, turn = None, None, 0
    for i in range(turns):
        if turn == 0 or turn >= rng.randint(3, 8):
            session, user, turn = uuid.uuid4().hex, str(rng.choice(users)), 0
        turn += 1
        at = now - timedelta(seconds=rng.uniform(0, 290))
        conversations.append({"u": user, "s": session, "t": at, "turn": turn, "rt": rng.randint(120, 900)})
        perf.append({"t": at, "ms": rng.randint(100, 900), "c": round(rng.uniform(0.4, 1.0), 3), "u": user, "s": session})
        if i % 3 == 0:
            listed = rng.sample(shops, k=min(3, len(shops)))
            viewed = [listed[0]] if rng.random() < 0.4 else []
            recs.append({"u": user, "s": session, "t": at, "r": json.dumps([{"shop_id": s} for s in listed]),
                         "v": json.dumps(viewed), "f": viewed[0] if viewed and rng.random() < 0.5 else None})
            if viewed:
                interactions.append({"u": user, "s": session, "t": at, "sel": json.dumps({"shop_id": viewed[0]}),
                                     "score": rng.randint(1, 5)})
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO conversations (user_id, session_id, input_text, response_text, \"timestamp\", "
                          "conversation_turn, response_time_ms) VALUES (:u, :s, '배고파', '추천해요', :t, :turn, :rt)"), conversations)
        conn.execute(text("INSERT INTO performance_logs (\"timestamp\", operation_type, total_time_ms, cache_hit_rate, user_id, session_id) "
                          "VALUES (:t, 'recommendation', :ms, :c, :u, :s)"), perf)
        conn.execute(text("INSERT INTO recommendations_log (user_id, session_id, \"timestamp\", recommendations, recommendation_count, "
                          "user_viewed_details, user_final_selection) VALUES (:u, :s, :t, CAST(:r AS jsonb), 3, CAST(:v AS jsonb), :f)"), recs)
        if interactions:
            conn.execute(text("INSERT INTO user_interactions (user_id, session_id, \"timestamp\", interaction_type, user_selection, "
                              "satisfaction_score) VALUES (:u, :s, :t, 'feedback', CAST(:sel AS jsonb), :score)"), interactions)
    return {"conversations": len(conversations), "performance_logs": len(perf), "recommendations_log": len(recs),
            "user_interactions": len(interactions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--skip", default="", metavar="STAGES",
                        help="comma-separated stages to leave out of the materialization, e.g. "
                             "'retrieval-index,training' at ×10 (the index build alone takes ~30 min there)")
    args = parser.parse_args()

    from infra.db import get_engine
    from infra.schema import drop_database
    from infra.services import ensure_services
    from infra.settings import get_settings

    ensure_services(need_redis=False)
    settings = get_settings()
    database = f"naviyam_bench_{str(args.scale).replace('.', '_')}"
    drop_database(settings, database)
    figures: dict = {"scale": args.scale, "database": database}
    log = lambda message: print(message, flush=True)  # noqa: E731

    from orchestration.materialize import STAGES, materialize_all, run_batch
    from infra.dbt import run_dbt

    skipped = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skipped - {name for name, _ in STAGES}
    if unknown:
        parser.error(f"unknown stage(s) {sorted(unknown)}; stages: {[name for name, _ in STAGES]}")
    groups = [g for name, stage_groups in STAGES if name not in skipped for g in stage_groups]
    figures["skipped_stages"] = sorted(skipped)
    started = time.perf_counter()
    summary = materialize_all(log, database=database, scale=args.scale, groups=groups)
    figures["materialize_all_s"] = round(time.perf_counter() - started, 1)
    figures["stages_s"] = {name: stage["seconds"] for name, stage in summary["stages"].items()}
    engine = get_engine(settings.sqlalchemy_url(database))
    with engine.connect() as conn:
        figures["rows"] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                           for t in ("shops", "menus", "users", "product_orders", "user_coupon_wallet")}

    started = time.perf_counter()
    result = run_dbt(["build", "--full-refresh"], database=database)
    figures["dbt_build_full_refresh_s"] = round(time.perf_counter() - started, 1)
    figures["dbt_build_ok"] = result.returncode == 0

    started = time.perf_counter()
    run_batch(log, database=database)
    figures["batch_nothing_new_s"] = round(time.perf_counter() - started, 1)

    figures["inserted"] = insert_chat_traffic(engine, args.turns)
    started = time.perf_counter()
    report = run_batch(log, database=database)
    figures["batch_with_new_turns_s"] = round(time.perf_counter() - started, 1)
    figures["batch_ok"] = report["success"]
    figures["batch_warnings"] = report["warnings"]

    if not args.keep:
        engine.dispose()
        drop_database(settings, database)
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
