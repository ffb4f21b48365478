"""Three-level caches (spec §10): L1 in-process LRU → L2 Redis → L3 PostgreSQL table.

* ``QueryEmbeddingCache``: query embeddings. L2 TTL 7 days (refreshed on read with GETEX),
  L3 ``embedding_cache`` (content_type ``query``).
* ``ResultCache``: search results keyed by SHA-256 of the normalised query plus its filters
  (and target, mode, limit, model and index generation). L1 and L2 TTL 1 hour, L3 ``rag_query_cache``
  whose row lives ``ttl_seconds`` from ``created_at`` (a refresh rewrites ``created_at``).

Failure policy: a level that raises (Redis down, PostgreSQL down) is skipped and switched off for
``cooldown_s`` (a circuit breaker, so a dead Redis costs one 0.5 s timeout, not one per request);
the request goes on with the next level and never fails because of a cache.

Writes to L3 and the hit statistics of every level (``access_count``, ``cache_hit_count``,
``last_accessed``, ``avg_response_time_ms``) are applied by a background writer in batches, so the
request path pays only for reads. ``flush()`` drains it (tests, shutdown).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from infra.breaker import CACHE_COOLDOWN_S, CircuitBreaker
from infra.db import read_connection
from infra.memory_cache import LRUCache
from infra.redis_client import cache_breaker, get_redis, redis_errors

log = logging.getLogger(__name__)

EMBEDDING_REDIS_TTL_S = 7 * 24 * 3600
RESULT_TTL_S = 3600


# --- L1 -------------------------------------------------------------------------------------------
class RedisLevel:
    """L2: a Redis client whose failures turn into misses."""

    def __init__(self, client_factory: Callable[[], Any] | None, cooldown_s: float = CACHE_COOLDOWN_S) -> None:
        self._factory = client_factory
        self._client = None
        self.breaker = cache_breaker(shared=client_factory is get_redis, cooldown_s=cooldown_s)

    @property
    def enabled(self) -> bool:
        return self._factory is not None

    def _call(self, fn: Callable[[Any], Any]) -> Any:
        if self._factory is None or not self.breaker.available():
            return None
        try:
            if self._client is None:
                self._client = self._factory()
            result = fn(self._client)
        except redis_errors as exc:
            self.breaker.trip("retrieval cache", exc)
            return None
        self.breaker.success()
        return result

    def get(self, key: str, refresh_ttl_s: int | None = None) -> bytes | None:
        if refresh_ttl_s:
            return self._call(lambda r: r.getex(key, ex=refresh_ttl_s))
        return self._call(lambda r: r.get(key))

    def set(self, key: str, value: bytes | str, ttl_s: int) -> None:
        self._call(lambda r: r.set(key, value, ex=ttl_s))

    def delete(self, *keys: str) -> None:
        if keys:
            self._call(lambda r: r.delete(*keys))


# --- background writer for L3 -----------------------------------------------------------------------
class WriteBehind:
    """Applies L3 writes and hit statistics in batches on a daemon thread.

    Jobs are ``fn(connection)``; counters are merged per key between flushes."""

    def __init__(self, engine: Engine | None, breaker: CircuitBreaker, interval_s: float = 0.5,
                 max_queue: int = 10_000) -> None:
        self.engine = engine
        self.breaker = breaker
        self.interval_s = interval_s
        self._jobs: queue.Queue = queue.Queue(maxsize=max_queue)
        self._counters: dict[tuple[str, str], list] = {}
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()  # flush() waits for a drain in progress
        self._idle = threading.Event()
        self._idle.set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="retrieval-cache-writer", daemon=True)
            self._thread.start()

    def submit(self, job: Callable[[Any], None]) -> None:
        if self.engine is None:
            return
        try:
            self._jobs.put_nowait(job)
            self._idle.clear()
        except queue.Full:
            self.dropped += 1
            return
        self._ensure_thread()

    def count_hit(self, table: str, key: str, response_ms: float) -> None:
        """One more access of ``key`` in ``table`` (merged with others until the next flush)."""
        if self.engine is None:
            return
        now = datetime.now(timezone.utc)
        with self._lock:
            entry = self._counters.get((table, key))
            if entry is None:
                self._counters[(table, key)] = [1, response_ms, now]
            else:
                entry[0] += 1
                entry[1] += response_ms
                entry[2] = now
            self._idle.clear()
        self._ensure_thread()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._drain()
            except Exception:  # pragma: no cover - never let the writer die
                log.exception("cache writer failed")
            if self._jobs.empty() and not self._counters:
                self._idle.set()
            self._stop.wait(self.interval_s)

    def _drain(self) -> None:
        with self._drain_lock:
            self._drain_locked()

    def _drain_locked(self) -> None:
        jobs = []
        while True:
            try:
                jobs.append(self._jobs.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            counters, self._counters = self._counters, {}
        if not jobs and not counters:
            return
        if not self.breaker.available():
            self.dropped += len(jobs) + len(counters)
            return
        try:
            with self.engine.begin() as conn:
                for job in jobs:
                    job(conn)
                _apply_counters(conn, counters)
        except SQLAlchemyError as exc:
            self.breaker.trip("retrieval cache", exc)
            self.dropped += len(jobs) + len(counters)
            return
        self.breaker.success()

    def flush(self, timeout_s: float = 10.0) -> None:
        """Apply everything queued so far (synchronously, in the caller's thread)."""
        if self.engine is None:
            return
        self._drain()
        self._idle.set()

    def close(self) -> None:
        self.flush()
        self._stop.set()


def _apply_counters(conn, counters: dict[tuple[str, str], list]) -> None:
    emb = [{"h": k, "n": v[0], "at": v[2]} for (t, k), v in counters.items() if t == "embedding_cache"]
    rag = [{"h": k, "n": v[0], "ms": v[1], "at": v[2]} for (t, k), v in counters.items() if t == "rag_query_cache"]
    if emb:
        conn.execute(text(
            "UPDATE embedding_cache SET access_count = access_count + :n, "
            "last_accessed = GREATEST(last_accessed, :at) WHERE content_hash = :h"), emb)
    if rag:
        conn.execute(text(
            "UPDATE rag_query_cache SET "
            " avg_response_time_ms = ROUND((COALESCE(avg_response_time_ms, 0) * access_count + :ms)"
            "                              / (access_count + :n)),"
            " access_count = access_count + :n, cache_hit_count = cache_hit_count + :n,"
            " last_accessed = GREATEST(last_accessed, :at) WHERE query_hash = :h"), rag)


class DbLevel:
    """L3 reads through a breaker; writes go to the shared ``WriteBehind``."""

    def __init__(self, engine: Engine | None, cooldown_s: float = CACHE_COOLDOWN_S) -> None:
        self.engine = engine
        self.breaker = CircuitBreaker("postgres", cooldown_s=cooldown_s)
        self.writer = WriteBehind(engine, self.breaker)

    @property
    def enabled(self) -> bool:
        return self.engine is not None

    def read(self, sql: str, params: dict[str, Any]) -> Any | None:
        if self.engine is None or not self.breaker.available():
            return None
        try:
            with read_connection(self.engine) as conn:
                row = conn.execute(text(sql), params).first()
        except SQLAlchemyError as exc:
            self.breaker.trip("retrieval cache", exc)
            return None
        self.breaker.success()
        return row


# --- query embeddings -------------------------------------------------------------------------------
@dataclass
class CacheStats:
    l1: int = 0
    l2: int = 0
    l3: int = 0
    miss: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"l1": self.l1, "l2": self.l2, "l3": self.l3, "miss": self.miss}


class QueryEmbeddingCache:
    def __init__(self, *, model_name: str, dim: int, redis: RedisLevel, db: DbLevel,
                 l1_size: int = 10_000, redis_ttl_s: int = EMBEDDING_REDIS_TTL_S) -> None:
        self.model_name = model_name
        self.dim = dim
        self.redis = redis
        self.db = db
        self.l1 = LRUCache(l1_size)
        self.redis_ttl_s = redis_ttl_s
        self.stats = CacheStats()

    def redis_key(self, content_hash: str) -> str:
        from infra.redis_client import key

        return key("emb", "query", content_hash)

    def get(self, content_hash: str) -> tuple[np.ndarray | None, str]:
        """(vector, level) with level in l1/l2/l3/miss."""
        start = time.perf_counter()
        vec = self.l1.get(content_hash)
        if vec is not None:
            self.stats.l1 += 1
            self.db.writer.count_hit("embedding_cache", content_hash, 0)
            return vec, "l1"
        raw = self.redis.get(self.redis_key(content_hash), refresh_ttl_s=self.redis_ttl_s)
        if raw is not None and len(raw) == 4 * self.dim:
            vec = np.frombuffer(raw, dtype=np.float32).copy()
            self.l1.set(content_hash, vec)
            self.stats.l2 += 1
            self.db.writer.count_hit("embedding_cache", content_hash, 0)
            return vec, "l2"
        row = self.db.read(
            "SELECT embedding_vector FROM embedding_cache WHERE content_hash = :h AND is_valid "
            "AND embedding_model = :m AND embedding_dimension = :d",
            {"h": content_hash, "m": self.model_name, "d": self.dim},
        )
        if row is not None:
            vec = np.asarray(_json_list(row[0]), dtype=np.float32)
            self.l1.set(content_hash, vec)
            self.redis.set(self.redis_key(content_hash), vec.tobytes(), self.redis_ttl_s)
            self.stats.l3 += 1
            self.db.writer.count_hit("embedding_cache", content_hash, (time.perf_counter() - start) * 1000)
            return vec, "l3"
        self.stats.miss += 1
        return None, "miss"

    def put(self, content_hash: str, original: str, vec: np.ndarray, computation_ms: float,
            content_type: str = "query") -> None:
        vec = np.asarray(vec, dtype=np.float32)
        self.l1.set(content_hash, vec)
        self.redis.set(self.redis_key(content_hash), vec.tobytes(), self.redis_ttl_s)
        params = embedding_row(content_hash, content_type, original, vec, self.model_name, computation_ms)
        self.db.writer.submit(lambda conn: conn.execute(text(UPSERT_EMBEDDING_SQL), [params]))


UPSERT_EMBEDDING_SQL = """
INSERT INTO embedding_cache (content_hash, content_type, original_content, embedding_vector,
    embedding_model, embedding_dimension, computation_time_ms, vector_norm, is_valid)
VALUES (:content_hash, :content_type, :original_content, CAST(:embedding_vector AS jsonb),
    :embedding_model, :embedding_dimension, :computation_time_ms, :vector_norm, true)
ON CONFLICT (content_hash) DO UPDATE SET
    embedding_vector = EXCLUDED.embedding_vector, embedding_model = EXCLUDED.embedding_model,
    embedding_dimension = EXCLUDED.embedding_dimension, vector_norm = EXCLUDED.vector_norm,
    is_valid = true, last_accessed = now(), access_count = embedding_cache.access_count + 1
"""


def vector_json(vec: np.ndarray) -> str:
    # rounded by numpy in one call: round() per element was two thirds of the cost of a build's
    # 7k vector texts
    return json.dumps(np.round(np.asarray(vec, dtype=np.float32).astype(np.float64), 7).tolist())


def embedding_row(content_hash: str, content_type: str, original: str, vec: np.ndarray, model: str,
                  computation_ms: float | None) -> dict[str, Any]:
    vec = np.asarray(vec, dtype=np.float32)
    return {
        "content_hash": content_hash,
        "content_type": content_type,
        "original_content": original,
        "embedding_vector": vector_json(vec),
        "embedding_model": model[:100],
        "embedding_dimension": int(vec.shape[0]),
        "computation_time_ms": int(round(computation_ms)) if computation_ms is not None else None,
        "vector_norm": float(np.linalg.norm(vec)),
    }


def _json_list(value: Any) -> list[float]:
    if isinstance(value, str):
        return json.loads(value)
    return list(value)


# --- search results ---------------------------------------------------------------------------------
class ResultCache:
    def __init__(self, *, redis: RedisLevel, db: DbLevel, l1_size: int = 5_000,
                 ttl_s: int = RESULT_TTL_S) -> None:
        self.redis = redis
        self.db = db
        self.ttl_s = ttl_s
        self.l1 = LRUCache(l1_size, ttl_s=ttl_s)
        self.stats = CacheStats()

    def redis_key(self, query_hash: str) -> str:
        from infra.redis_client import key

        return key("rag", query_hash)

    def get(self, query_hash: str) -> tuple[list[dict] | None, str]:
        start = time.perf_counter()
        value = self.l1.get(query_hash)
        if value is not None:
            self.stats.l1 += 1
            self.db.writer.count_hit("rag_query_cache", query_hash, (time.perf_counter() - start) * 1000)
            return value, "l1"
        raw = self.redis.get(self.redis_key(query_hash))
        if raw is not None:
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
            if isinstance(value, list):
                self.l1.set(query_hash, value)
                self.stats.l2 += 1
                self.db.writer.count_hit("rag_query_cache", query_hash, (time.perf_counter() - start) * 1000)
                return value, "l2"
        row = self.db.read(
            "SELECT vector_search_results, EXTRACT(EPOCH FROM (created_at + ttl_seconds * interval '1 second'"
            " - now())) FROM rag_query_cache WHERE query_hash = :h"
            " AND created_at + ttl_seconds * interval '1 second' > now()",
            {"h": query_hash},
        )
        if row is not None and row[0] is not None:
            value = row[0] if not isinstance(row[0], str) else json.loads(row[0])
            remaining = max(1, int(row[1] or 1))
            self.l1.set(query_hash, value, ttl_s=remaining)
            self.redis.set(self.redis_key(query_hash), json.dumps(value, ensure_ascii=False), remaining)
            self.stats.l3 += 1
            self.db.writer.count_hit("rag_query_cache", query_hash, (time.perf_counter() - start) * 1000)
            return value, "l3"
        self.stats.miss += 1
        return None, "miss"

    def put(self, query_hash: str, *, original_query: str, normalized_query: str, hits: list[dict],
            search_ms: float, total_ms: float, documents_searched: int | None) -> None:
        self.l1.set(query_hash, hits)
        payload = json.dumps(hits, ensure_ascii=False)
        self.redis.set(self.redis_key(query_hash), payload, self.ttl_s)
        params = {
            "h": query_hash,
            "oq": original_query,
            "nq": normalized_query,
            "docs": json.dumps([{"doc_id": h["doc_id"], "score": h["score"], "type": h["type"]} for h in hits],
                               ensure_ascii=False),
            "vsr": payload,
            "sim": json.dumps({h["doc_id"]: h.get("dense_score") for h in hits if h.get("dense_score") is not None}),
            "sms": int(round(search_ms)),
            "tds": documents_searched,
            "avg": int(round(total_ms)),
            "ttl": int(self.ttl_s),
        }
        self.db.writer.submit(lambda conn: conn.execute(text(UPSERT_RAG_SQL), [params]))

    def invalidate_l1(self) -> None:
        self.l1.clear()


UPSERT_RAG_SQL = """
INSERT INTO rag_query_cache (query_hash, original_query, normalized_query, retrieved_documents,
    vector_search_results, semantic_similarity_scores, search_time_ms, total_documents_searched,
    avg_response_time_ms, ttl_seconds)
VALUES (:h, :oq, :nq, CAST(:docs AS jsonb), CAST(:vsr AS jsonb), CAST(:sim AS jsonb), :sms, :tds, :avg, :ttl)
ON CONFLICT (query_hash) DO UPDATE SET
    original_query = EXCLUDED.original_query,
    retrieved_documents = EXCLUDED.retrieved_documents,
    vector_search_results = EXCLUDED.vector_search_results,
    semantic_similarity_scores = EXCLUDED.semantic_similarity_scores,
    search_time_ms = EXCLUDED.search_time_ms,
    total_documents_searched = EXCLUDED.total_documents_searched,
    avg_response_time_ms = ROUND((COALESCE(rag_query_cache.avg_response_time_ms, 0) * rag_query_cache.access_count
                                  + EXCLUDED.avg_response_time_ms) / (rag_query_cache.access_count + 1)),
    access_count = rag_query_cache.access_count + 1,
    ttl_seconds = EXCLUDED.ttl_seconds,
    created_at = now(),
    last_accessed = now()
"""


# --- retention ---------------------------------------------------------------------------------------
@dataclass
class PurgeSummary:
    rag_rows: int
    query_embedding_rows: int
    document_embedding_rows: int
    invalid_embedding_rows: int


def purge_expired_caches(
    engine: Engine,
    *,
    now: datetime | None = None,
    query_embedding_max_idle: timedelta = timedelta(days=30),
    document_embedding_max_idle: timedelta | None = timedelta(days=90),
) -> PurgeSummary:
    """Delete expired cache rows; the 5-minute batch runs it (``cache_cleanup``), so does the CLI.

    * ``rag_query_cache``: rows past ``created_at + ttl_seconds``.
    * ``embedding_cache``: query embeddings not read for ``query_embedding_max_idle`` (their Redis
      copy lives 7 days); shop/menu embeddings not used by an index build for
      ``document_embedding_max_idle`` (None keeps them: they are what makes the index build
      incremental, so idleness must be long); rows marked ``is_valid = false``.
    """
    at = {"now": now if now is not None else datetime.now(timezone.utc)}
    with engine.begin() as conn:
        rag = conn.execute(text(
            "DELETE FROM rag_query_cache WHERE created_at + ttl_seconds * interval '1 second' < :now"), at).rowcount
        q = conn.execute(text(
            "DELETE FROM embedding_cache WHERE content_type = 'query' AND last_accessed < :now - :idle"),
            {**at, "idle": query_embedding_max_idle}).rowcount
        d = 0
        if document_embedding_max_idle is not None:
            d = conn.execute(text(
                "DELETE FROM embedding_cache WHERE content_type IN ('shop_description', 'menu_description')"
                " AND last_accessed < :now - :idle"), {**at, "idle": document_embedding_max_idle}).rowcount
        inv = conn.execute(text("DELETE FROM embedding_cache WHERE NOT is_valid")).rowcount
    return PurgeSummary(int(rag or 0), int(q or 0), int(d or 0), int(inv or 0))
