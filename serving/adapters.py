"""The real components behind the pipeline's ports: the NLU parser, the retriever over the Qdrant
shard, the child's account in PostgreSQL, the session context in L1 + Redis + PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from infra.db import read_connection
from infra.platform_ids import user_key  # noqa: F401  (the pipeline imports it from here)

from serving import coupon_wallet as cw, orders
from serving.meal_card import MealCard
from serving.ports import Account, Candidate, NluFrame, SearchOutcome

log = logging.getLogger(__name__)


# ---- NLU -------------------------------------------------------------------------------------

class ParserNlu:
    """``models.nlu.parser.NLUParser`` (model + its L1/Redis/nlu_training_data cache).

    ``persist=False``: the service writes nlu_training_data itself through the lossless event log."""

    def __init__(self, parser=None) -> None:
        if parser is None:
            from models.nlu.parser import get_parser

            parser = get_parser()
        self.parser = parser
        self.version = str(getattr(parser, "model_version", "rules"))
        self.wants_embedding = getattr(getattr(parser, "model", None), "e5_head", None) is not None
        from models.nlu.amounts import people_count
        from models.nlu.lexicon import food_matches

        self._people = people_count
        self._food = food_matches

    def parse(self, text: str, *, user_id: str | None = None, embedding: Any = None) -> NluFrame:
        r = self.parser.parse(text, embedding, user_id=user_id, persist=False)
        return NluFrame(intent=r.intent, confidence=float(r.confidence), entities=dict(r.entities),
                        normalized_text=r.normalized_text, cache_hit=r.source.startswith("cache"),
                        source=r.source, model_version=r.model_version, emotion=r.emotion,
                        detected_patterns=list(r.detected_patterns), keywords=list(r.keywords))

    def party_size(self, text: str) -> int | None:
        try:
            return self._people(text)
        except Exception:
            return None

    def food_matches(self, text: str) -> list[tuple[int, int, str]]:
        return self._food(text)


# ---- retrieval -------------------------------------------------------------------------------

def candidate_from_hit(hit: Any) -> Candidate | None:
    p = hit.payload or {}
    price = p.get("price")
    if price is None:
        return None
    loc = p.get("location") or {}
    return Candidate(
        shop_id=int(hit.shop_id), menu_id=int(p.get("menu_id", hit.id)), shop_name=str(p.get("shop_name", "")),
        menu_name=str(p.get("menu_name", "")), price=int(price), category=str(p.get("category", "")),
        food_card_flag=str(p.get("is_food_card_shop", "U")), lat=loc.get("lat"), lon=loc.get("lon"),
        good_influence=bool(p.get("good_influence")), retrieval_score=float(hit.score),
        dietary_tags=tuple(p.get("dietary_tags") or ()), open_min=p.get("open_min"), close_min=p.get("close_min"),
        break_start_min=p.get("break_start_min"), break_end_min=p.get("break_end_min"),
        meal_kind=str(p.get("meal_kind") or "unknown"),
    )


class QdrantRetrieval:
    """``models.retrieval.Retriever`` (hybrid dense + sparse over the Qdrant shard, cached)."""

    def __init__(self, retriever=None) -> None:
        if retriever is None:
            from models.retrieval import get_retriever

            retriever = get_retriever()
        self.retriever = retriever

    def embed(self, text: str) -> tuple[Any, str]:
        """(the query vector ``search`` would compute for ``text``, the cache level that served it)."""
        return self.retriever.query_vector(text)

    def warm_up(self) -> None:
        """Load the query embedder's model and runtime now, past the caches: a warm-up query the
        embedding caches (Redis, PostgreSQL) already hold loads nothing, and the first uncached
        query of a child then paid the load (a second of tokenizer, weights and trace, holding the
        GIL: a readiness probe beside it waited 2.4 s)."""
        self.retriever.embedder.warm_up()

    def search(self, query_text: str, filters: Mapping[str, Any], limit: int, query_vector: Any = None) -> SearchOutcome:
        hits = self.retriever.search(query_text, dict(filters), limit=limit, query_vector=query_vector)
        trace = self.retriever.last_trace
        cands = [c for c in (candidate_from_hit(h) for h in hits) if c is not None]
        return SearchOutcome(candidates=cands, cache=getattr(trace, "result_cache", ""),
                             embedding=getattr(trace, "embedding", ""), embed_ms=getattr(trace, "embed_ms", 0.0))

    def search_each(self, query_text: str, filters, limit: int, query_vector: Any = None) -> list[list[Candidate]]:
        lists = self.retriever.search_each(query_text, [dict(f) for f in filters], limit=limit,
                                           query_vector=query_vector)
        return [[c for c in (candidate_from_hit(h) for h in hits) if c is not None] for hits in lists]

    def flush(self) -> None:
        """Pending cache rows and hit counts to PostgreSQL (at shutdown)."""
        self.retriever.flush()

    def ready(self) -> bool:
        try:
            return self.retriever.store.count("menus") > 0
        except Exception:
            return False


# ---- the child's account -----------------------------------------------------------------------

CARD_SQL = text("""
    SELECT user_id, balance, status, emergency_coupon_eligible
    FROM foodcard_users WHERE user_id = :user_id
    ORDER BY (status = 'ACTIVE') DESC, id LIMIT 1
""")
# where the child lives and how old: the age in whole years (the birthday never leaves SQL), the
# address, and the centre of the shops of the latest orders (the home of a child with no address)
PERSON_SQL = text("""
    SELECT extract(year FROM age(CAST(:today AS date), u.birthday))::int AS age, u.current_address AS home_address,
           (SELECT jsonb_build_array(avg(r.lat), avg(r.lon)) FROM (
                SELECT s.latitude::float8 AS lat, s.longitude::float8 AS lon
                FROM product_orders o JOIN menus m ON m.id = o.product_id JOIN shops s ON s.id = m.shop_id
                WHERE o.user_id = u.id AND s.latitude IS NOT NULL
                ORDER BY o.created_at DESC LIMIT 20) AS r) AS orders_centroid
    FROM users u WHERE u.id = :user_id
""")
# card, wallet and person in one round trip (every turn reads them): the card and the person as JSON
# objects beside each wallet row, or beside one empty row when the wallet is empty
ACCOUNT_SQL = text(f"""
    WITH card AS ({CARD_SQL.text}), wallet AS ({cw.WALLET_SQL.text}), person AS ({PERSON_SQL.text})
    SELECT (SELECT to_jsonb(card) FROM card) AS card, (SELECT to_jsonb(person) FROM person) AS person, wallet.*
    FROM (SELECT 1) AS one LEFT JOIN wallet ON true
    ORDER BY wallet.expiry_date NULLS LAST, wallet.wallet_id
""")



class PgAccounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, user_id: str, now: datetime) -> Account:
        uid = user_key(user_id)
        if uid is None:
            return Account(user_key=None)
        with read_connection(self.engine) as conn:
            rows = [dict(r) for r in conn.execute(ACCOUNT_SQL, {"user_id": uid, **cw.clock_params(now)}).mappings()]
        coupons = [cw.coupon_from_row(r) for r in rows if r.get("coupon_id") is not None]
        card, row = None, rows[0]["card"] if rows else None
        if row is not None:
            card = MealCard(user_id=uid, balance=int(row["balance"]), status=str(row["status"]),
                            emergency_coupon_eligible=bool(row["emergency_coupon_eligible"]))
        person = (rows[0]["person"] if rows else None) or {}
        centroid = person.get("orders_centroid") or [None, None]
        return Account(user_key=uid, card=card, coupons=coupons, age=person.get("age"),
                       home_address=person.get("home_address"),
                       orders_centroid=(float(centroid[0]), float(centroid[1])) if centroid[0] is not None else None)

    def issue_emergency_coupon(self, user_key: int, context: Mapping[str, Any], now: datetime) -> bool:
        return cw.issue_emergency_coupon(self.engine, user_id=user_key, context=context, now=now) is not None

    def use_coupon(self, user_key: int, coupon_id: str, shop_id: int | None, menu_id: int | None,
                   order_amount: int | None, discount: int | None, now: datetime) -> bool:
        return cw.use_coupon(self.engine, user_id=user_key, coupon_id=coupon_id, shop_id=shop_id, menu_id=menu_id,
                             order_amount=order_amount, discount=discount, now=now) is not None

    def record_order(self, user_key: int, shop_id: int, menu_id: int, amount: int, at: datetime) -> orders.OrderResult:
        return orders.record_order(self.engine, user_id=user_key, shop_id=shop_id, menu_id=menu_id, amount=amount,
                                   at=at)


# ---- recommendations_log ------------------------------------------------------------------------

SHOWN_SQL = text("""
    SELECT user_id, session_id, ARRAY(SELECT (e->>'shop_id')::int FROM jsonb_array_elements(recommendations) e)
    FROM recommendations_log
    WHERE event_id = CAST(:rid AS uuid) AND "timestamp" > :since
    LIMIT 1""")


class PgRecommendationLog:
    """What an earlier answer showed, for ``/feedback`` about one the session context no longer holds."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def shown(self, recommendation_id: str, *, since: datetime) -> tuple[str, str, list[int]] | None:
        """(user id, session id, shop ids) of the recommendation, or None when there is none since ``since``."""
        with read_connection(self.engine) as conn:
            row = conn.execute(SHOWN_SQL, {"rid": recommendation_id, "since": since}).first()
        return (row[0], row[1], list(row[2] or [])) if row is not None else None


# ---- session context ---------------------------------------------------------------------------

CONTEXT_SQL = text("""
    SELECT context_data, conversation_turn FROM conversation_contexts
    WHERE session_id = :session_id AND (expires_at IS NULL OR expires_at > now())
    ORDER BY conversation_turn DESC LIMIT 1
""")
USER_TURNS_SQL = text("SELECT count(*) FROM conversations WHERE user_id = :user_id")

CONTEXT_TTL_S = 24 * 3600
L1_TTL_S = 300
USER_TURNS_TTL_S = 30 * 24 * 3600


def _turn(state: Mapping[str, Any] | None) -> int:
    return int(state.get("turn") or 0) if state else -1


class LayeredContextStore:
    """conversation_contexts with L1 (5 min) → Redis (24 h) → PostgreSQL (the record).

    Redis is the source of truth: a session's turns may land on any process of any host (the load
    balancer keeps no affinity). Each save writes the state and a fresh version token together
    (``ctx`` + ``ctxv``, one MULTI); the L1 keeps (version, state) and answers only while the
    version in Redis is still its own, so a load costs one round trip either way: the small
    version (L1 held) or the state itself (L1 empty), plus a second only when another process
    wrote since. With Redis unreachable the L1 cannot be checked: the newer of it and the
    PostgreSQL record (by session turn) wins, since the event log writes that row a moment later.
    The PostgreSQL row is written by the event log. ``l1=False`` turns the L1 off."""

    def __init__(self, engine: Engine, redis_factory, *, l1_size: int = 20_000, l1: bool = True) -> None:
        self.engine = engine
        self.redis_factory = redis_factory
        self._l1: OrderedDict[str, tuple[float, str | None, dict]] = OrderedDict()
        self._lock = threading.Lock()
        self.l1_size = l1_size if l1 else 0
        from infra.redis_client import cache_breaker, get_redis

        self.breaker = cache_breaker(shared=redis_factory is get_redis)

    def _key(self, *parts: object) -> str:
        from infra.redis_client import key

        return key(*parts)

    def _redis(self):
        return self.redis_factory() if self.breaker.available() else None

    def _redis_failed(self, exc: BaseException) -> None:
        self.breaker.trip("context", exc)

    def _l1_get(self, session_id: str, user_id: str) -> tuple[str | None, dict] | None:
        with self._lock:
            hit = self._l1.get(session_id)
            if hit and time.monotonic() - hit[0] < L1_TTL_S and hit[2].get("user_id") == user_id:
                self._l1.move_to_end(session_id)
                return hit[1], hit[2]
        return None

    def _l1_put(self, state: dict, version: str | None) -> None:
        if not self.l1_size:
            return
        with self._lock:
            self._l1[state["session_id"]] = (time.monotonic(), version, state)
            self._l1.move_to_end(state["session_id"])
            if len(self._l1) > self.l1_size:
                self._l1.popitem(last=False)

    def _from_redis(self, client, session_id: str, user_id: str, cached) -> tuple[dict | None, str, Any]:
        """(state, level, user turns) from Redis, the L1 copy when Redis holds its version."""
        k_ctx, k_ver, k_turns = self._key("ctx", session_id), self._key("ctxv", session_id), self._key("uturns", user_id)
        if cached is not None:
            version, turns = client.mget([k_ver, k_turns])
            version = version.decode() if version else None
            if version is not None and version == cached[0]:
                return dict(cached[1]), "l1", turns
            raw, version = client.mget([k_ctx, k_ver])
        else:
            raw, version, turns = client.mget([k_ctx, k_ver, k_turns])
            version = version.decode() if version else None
        if not raw:
            return None, "none", turns
        state = json.loads(raw)
        if isinstance(version, bytes):
            version = version.decode()
        if cached is not None and _turn(cached[1]) > _turn(state):
            return dict(cached[1]), "l1", turns  # saved here while Redis was unreachable: newer than Redis
        self._l1_put(state, version)
        return dict(state), "redis", turns

    def load(self, session_id: str, user_id: str) -> tuple[dict | None, str, int]:
        from infra.redis_client import redis_errors

        cached = self._l1_get(session_id, user_id)
        state, level, turns = None, "none", None
        client = self._redis()
        if client is not None:
            try:
                state, level, turns = self._from_redis(client, session_id, user_id, cached)
                self.breaker.success()
            except redis_errors as exc:
                self._redis_failed(exc)
                state, level, turns = None, "none", None
        if state is None:
            with read_connection(self.engine) as conn:
                row = conn.execute(CONTEXT_SQL, {"session_id": session_id}).first()
                if row is not None:
                    state, level = dict(row[0]), "postgres"
                if turns is None:
                    turns = conn.execute(USER_TURNS_SQL, {"user_id": user_id}).scalar() or 0
            if cached is not None and _turn(cached[1]) > _turn(state):
                state, level = dict(cached[1]), "l1"  # Redis down or emptied: newer than the record
        if state is not None and state.get("user_id") != user_id:
            state = None  # a session id belongs to one user
        user_turns = int(turns) if turns is not None else 0
        if state is not None:
            user_turns = max(user_turns, int(state.get("user_turns", 0)))
        return state, level, user_turns

    def save(self, state: Mapping[str, Any]) -> None:
        state = dict(state)
        version = f"{_turn(state)}-{uuid.uuid4().hex[:12]}"
        from infra.redis_client import redis_errors

        client = self._redis()
        written = False
        if client is not None:
            try:
                pipe = client.pipeline(transaction=True)  # state and version change together
                pipe.set(self._key("ctx", state["session_id"]), json.dumps(state, ensure_ascii=False, default=str),
                         ex=CONTEXT_TTL_S)
                pipe.set(self._key("ctxv", state["session_id"]), version, ex=CONTEXT_TTL_S)
                pipe.set(self._key("uturns", state["user_id"]), int(state.get("user_turns", 0)), ex=USER_TURNS_TTL_S)
                pipe.execute()
                written = True
                self.breaker.success()
            except redis_errors as exc:
                self._redis_failed(exc)
        # not in Redis: no version another process could confirm; kept only to outrank an older record
        self._l1_put(state, version if written else None)

    def ping(self) -> bool:
        from infra.redis_client import redis_errors

        try:
            return bool(self.redis_factory().ping())
        except redis_errors:
            return False


# ---- personal data ---------------------------------------------------------------------------
class ProfileNames:
    """The user's own name (``users.name``) for redacting it from what they type; cached for ten
    minutes, and nothing when PostgreSQL does not answer (the patterns still apply)."""

    TTL_S = 600.0

    def __init__(self, engine: Engine, size: int = 20_000) -> None:
        self.engine = engine
        self.size = size
        self._cache: OrderedDict[int, tuple[float, tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, platform_id: str) -> tuple[str, ...]:
        uid = user_key(platform_id)
        if uid is None:
            return ()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(uid)
            if hit and now - hit[0] < self.TTL_S:
                return hit[1]
        try:
            with read_connection(self.engine) as conn:
                name = conn.execute(text("SELECT name FROM users WHERE id = :id"), {"id": uid}).scalar()
        except Exception as exc:  # the database is away: redact by pattern only this time
            log.debug("profile name unavailable (%s)", type(exc).__name__)
            return ()
        names = (name,) if name else ()
        with self._lock:
            self._cache[uid] = (now, names)
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return names


class IdempotencyStore:
    """coupon_use idempotency keys in Redis (shared by every worker): the first request with a key
    claims it, a retry gets the stored answer (or 409 ``in_progress`` while the first still runs).
    Without Redis the use goes ahead unguarded: the wallet's atomic ACTIVE→USED update still uses a
    coupon at most once, a retry then answers 409 instead of replaying the 200."""

    TTL_S = 24 * 3600
    PENDING = b"pending"

    def __init__(self, redis_factory) -> None:
        self.redis_factory = redis_factory

    def _key(self, user_id: str, key: str) -> str:
        from infra.redis_client import key as rkey

        return rkey("idem", "coupon_use", user_id, key)

    def begin(self, user_id: str, key: str) -> tuple[dict, int] | None:
        from infra.redis_client import redis_errors

        try:
            client = self.redis_factory()
            if client.set(self._key(user_id, key), self.PENDING, nx=True, ex=60):
                return None  # claimed: go ahead
            stored = client.get(self._key(user_id, key))
        except redis_errors as exc:
            log.warning("idempotency: Redis unavailable (%s); coupon_use unguarded", type(exc).__name__)
            return None
        if not stored or stored == self.PENDING:
            return {"ok": False, "status": "in_progress", "event_id": ""}, 409
        body = json.loads(stored)
        return body["body"], int(body["code"])

    def finish(self, user_id: str, key: str, body: dict, code: int) -> None:
        from infra.redis_client import redis_errors

        try:
            self.redis_factory().set(self._key(user_id, key), json.dumps({"body": body, "code": code}), ex=self.TTL_S)
        except redis_errors as exc:
            log.warning("idempotency: could not store the answer (%s)", type(exc).__name__)

    def abort(self, user_id: str, key: str) -> None:
        from infra.redis_client import redis_errors

        try:
            self.redis_factory().delete(self._key(user_id, key))
        except redis_errors:
            pass
