"""Retention (spec §13) and the 5-minute chores against the real PostgreSQL."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from infra.partitions import MonthPartition, add_months, create_partition, existing_partitions, month_start
from orchestration.maintenance.chores import clean_expired_caches, prepare_training_batch
from orchestration.maintenance.retention import apply_retention

pytestmark = pytest.mark.integration

SEOUL = ZoneInfo("Asia/Seoul")


def count(engine, sql, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_retention_deletes_exactly_what_is_old(fresh_engine):
    engine = fresh_engine
    now = datetime.now(SEOUL).replace(microsecond=0)
    year_ago = now - timedelta(days=365)
    # a month entirely older than a year: its partition must be dropped whole
    old_month = add_months(month_start(year_ago), -2)
    with engine.begin() as conn:
        create_partition(conn, MonthPartition("conversations", old_month))
    ages = {  # conversation id -> age
        1: timedelta(days=365 + 70),      # in the dropped old month
        2: timedelta(days=365, hours=1),  # just past the cutoff (straddling month: row deleted)
        3: timedelta(days=364, hours=23), # just inside the cutoff: kept
        4: timedelta(days=1),             # recent: kept
        5: timedelta(days=800),           # very old, in the DEFAULT partition: deleted
    }
    with engine.begin() as conn:
        for cid, age in ages.items():
            conn.execute(
                text("INSERT INTO conversations (id, user_id, session_id, input_text, response_text, \"timestamp\") "
                     "VALUES (:id, '1', 's', 'a', 'b', :ts)"),
                {"id": cid, "ts": now - age},
            )
        for pid, days in ((1, 91), (2, 89)):
            conn.execute(text("INSERT INTO performance_logs (id, \"timestamp\", operation_type) VALUES (:i, :t, 'nlu')"),
                         {"i": pid, "t": now - timedelta(days=days)})
        for nid, days in ((1, 91), (2, 10)):
            conn.execute(text("INSERT INTO nlu_training_data (id, input_text, created_at) VALUES (:i, 'x', :t)"),
                         {"i": nid, "t": now - timedelta(days=days)})
        for rid, days in ((1, 31), (2, 29)):
            conn.execute(text("INSERT INTO rag_query_cache (id, query_hash, original_query, normalized_query, created_at, ttl_seconds) "
                              "VALUES (:i, :h, 'q', 'q', :t, 999999999)"), {"i": rid, "h": f"h{rid}", "t": now - timedelta(days=days)})
            conn.execute(text("INSERT INTO embedding_cache (id, content_hash, content_type, original_content, embedding_vector, created_at, last_accessed) "
                              "VALUES (:i, :h, 'query', 'q', '[0.1]', :t, :t)"), {"i": rid, "h": f"h{rid}", "t": now - timedelta(days=days)})
        # embedding age counts from last use: an old menu embedding every index build touches stays
        conn.execute(text("INSERT INTO embedding_cache (id, content_hash, content_type, original_content, embedding_vector, created_at, last_accessed) "
                          "VALUES (3, 'h3', 'menu_description', 'm', '[0.1]', :t, now())"), {"t": now - timedelta(days=200)})
        for cid, days in ((1, 8), (2, 6)):
            conn.execute(text("INSERT INTO conversation_contexts (id, session_id, user_id, conversation_turn, context_data, \"timestamp\") "
                              "VALUES (:i, :s, '1', 1, '{}', :t)"), {"i": cid, "s": f"s{cid}", "t": now - timedelta(days=days)})
        # permanent tables: an order from five years ago stays
        conn.execute(text("INSERT INTO shops (id, shop_name, category) VALUES (1, '가게', '한식')"))
        conn.execute(text("INSERT INTO menus (id, shop_id, menu_name, price) VALUES (1, 1, '밥', 1000)"))
        conn.execute(text("INSERT INTO users (id, name) VALUES (1, '사용자')"))
        conn.execute(text("INSERT INTO product_orders (id, user_id, product_id, created_at, price) VALUES (1, 1, 1, :t, 1000)"),
                     {"t": now - timedelta(days=5 * 365)})
        conn.execute(text("INSERT INTO user_profiles (user_id, created_at) VALUES ('1', :t)"), {"t": now - timedelta(days=5 * 365)})

    results = {r.table: r for r in apply_retention(engine, now)}

    assert count(engine, "SELECT array_agg(id ORDER BY id) FROM conversations") == [3, 4]
    assert f"conversations_p{old_month:%Y%m}" in results["conversations"].dropped_partitions
    assert MonthPartition("conversations", old_month) not in existing_partitions(engine.connect(), "conversations")
    assert count(engine, "SELECT array_agg(id) FROM performance_logs") == [2]
    assert count(engine, "SELECT array_agg(id) FROM nlu_training_data") == [2]
    assert count(engine, "SELECT array_agg(id) FROM rag_query_cache") == [2]
    assert count(engine, "SELECT array_agg(id ORDER BY id) FROM embedding_cache") == [2, 3]
    assert count(engine, "SELECT array_agg(id) FROM conversation_contexts") == [2]
    assert count(engine, "SELECT count(*) FROM product_orders") == 1
    assert count(engine, "SELECT count(*) FROM users") == 1
    assert count(engine, "SELECT count(*) FROM user_profiles") == 1
    assert "users" not in results and "product_orders" not in results
    # running it again removes nothing more
    again = apply_retention(engine, now)
    assert all(r.deleted_rows == 0 and not r.dropped_partitions for r in again)


def test_cache_cleanup_and_training_batch(fresh_engine):
    engine = fresh_engine
    now = datetime.now(SEOUL)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO rag_query_cache (id, query_hash, original_query, normalized_query, created_at, ttl_seconds) VALUES "
            "(1, 'a', 'q', 'q', :old, 3600), (2, 'b', 'q', 'q', :fresh, 3600)"),
            {"old": now - timedelta(hours=2), "fresh": now - timedelta(minutes=10)})
        conn.execute(text(
            "INSERT INTO embedding_cache (id, content_hash, content_type, original_content, embedding_vector, last_accessed, is_valid) VALUES "
            "(1, 'a', 'query', 'q', '[1]', :stale, true), (2, 'b', 'query', 'q', '[1]', :fresh, true), (3, 'c', 'query', 'q', '[1]', :fresh, false),"
            " (4, 'd', 'menu_description', 'm', '[1]', :stale, true), (5, 'e', 'menu_description', 'm', '[1]', :ancient, true)"),
            {"stale": now - timedelta(days=31), "fresh": now - timedelta(days=1), "ancient": now - timedelta(days=91)})
        conn.execute(text(
            "INSERT INTO nlu_training_data (id, input_text, true_intent, quality_score, used_for_training) VALUES "
            "(1, 'a', 'food_request', NULL, false), (2, 'b', NULL, 0.9, false), (3, 'c', NULL, 0.5, false), (4, 'd', 'general_chat', NULL, true)"))
    removed = clean_expired_caches(engine, now)
    assert removed == {"rag_query_cache": 1, "embedding_cache": 3, "conversation_contexts": 0}
    # a menu embedding idle for a month is kept: the next index build reuses it instead of re-embedding
    assert count(engine, "SELECT array_agg(id ORDER BY id) FROM embedding_cache") == [2, 4]
    batch_id, assigned = prepare_training_batch(engine, now)
    assert assigned == 2
    assert count(engine, "SELECT array_agg(id ORDER BY id) FROM nlu_training_data WHERE training_batch_id = :b", b=batch_id) == [1, 2]
    assert prepare_training_batch(engine, now)[1] == 0
