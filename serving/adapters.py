"""The real components behind the pipeline's ports: the NLU parser, the retriever over the Qdrant
shard, the child's account in PostgreSQL, the session context in L1 + Redis + PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from serving import coupon_wallet as cw, orders
from serving.meal_card import MealCard
from serving.ports import Account, Candidate, NluFrame, SearchOutcome

log = logging.getLogger(__name__)

MAX_INT32 = 2**31 - 1


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

    def search(self, query_text: str, filters: Mapping[str, Any], limit: int, query_vector: Any = None) -> SearchOutcome:
        hits = self.retriever.search(query_text, dict(filters), limit=limit, query_vector=query_vector)
        trace = self.retriever.last_trace
        cands = [c for c in (candidate_from_hit(h) for h in hits) if c is not None]
        return SearchOutcome(candidates=cands, cache=getattr(trace, "result_cache", ""),
                             embedding=getattr(trace, "embedding", ""), embed_ms=getattr(trace, "embed_ms", 0.0))

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
# card and wallet in one round trip (every turn reads both): the card as a JSON object beside each
# wallet row, or beside one empty row when the wallet is empty
ACCOUNT_SQL = text(f"""
    WITH card AS ({CARD_SQL.text}), wallet AS ({cw.WALLET_SQL.text})
    SELECT (SELECT to_jsonb(card) FROM card) AS card, wallet.*
    FROM (SELECT 1) AS one LEFT JOIN wallet ON true
    ORDER BY wallet.expiry_date NULLS LAST, wallet.wallet_id
""")


def user_key(user_id: str) -> int | None:
    """users.id of a platform id that is the decimal text of one (the sample users); else None."""
    if user_id.isdigit() and len(user_id) <= 10 and 0 < int(user_id) <= MAX_INT32:
        return int(user_id)
    return None


class PgAccounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, user_id: str) -> Account:
        uid = user_key(user_id)
        if uid is None:
            return Account(user_key=None)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(ACCOUNT_SQL, {"user_id": uid}).mappings()]
        coupons = [cw.coupon_from_row(r) for r in rows if r.get("coupon_id") is not None]
        card, row = None, rows[0]["card"] if rows else None
        if row is not None:
            card = MealCard(user_id=uid, balance=int(row["balance"]), status=str(row["status"]),
                            emergency_coupon_eligible=bool(row["emergency_coupon_eligible"]))
        return Account(user_key=uid, card=card, coupons=coupons)

    def issue_emergency_coupon(self, user_key: int, context: Mapping[str, Any]) -> bool:
        return cw.issue_emergency_coupon(self.engine, user_id=user_key, context=context) is not None

    def use_coupon(self, user_key: int, coupon_id: str, shop_id: int | None, menu_id: int | None,
                   order_amount: int | None, discount: int | None) -> bool:
        return cw.use_coupon(self.engine, user_id=user_key, coupon_id=coupon_id, shop_id=shop_id, menu_id=menu_id,
                             order_amount=order_amount, discount=discount) is not None

    def record_order(self, user_key: int, shop_id: int, menu_id: int, amount: int, at: datetime) -> orders.OrderResult:
        return orders.record_order(self.engine, user_id=user_key, shop_id=shop_id, menu_id=menu_id, amount=amount,
                                   at=at)


# ---- session context ---------------------------------------------------------------------------

CONTEXT_SQL = text("""
    SELECT context_data FROM conversation_contexts
    WHERE session_id = :session_id AND (expires_at IS NULL OR expires_at > now())
    ORDER BY conversation_turn DESC LIMIT 1
""")
USER_TURNS_SQL = text("SELECT count(*) FROM conversations WHERE user_id = :user_id")

CONTEXT_TTL_S = 24 * 3600
L1_TTL_S = 300
USER_TURNS_TTL_S = 30 * 24 * 3600


class LayeredContextStore:
    """conversation_contexts with L1 (5 min) → Redis (24 h) → PostgreSQL (the record).

    Saves go to L1 and Redis at once; the PostgreSQL row is written by the event log.
    ``l1=False`` when several service processes share the sessions: a session's turns may land on
    different processes, and one process's L1 would then answer with a turn another has replaced."""

    def __init__(self, engine: Engine, redis_factory, *, l1_size: int = 20_000, l1: bool = True) -> None:
        self.engine = engine
        self.redis_factory = redis_factory
        self._l1: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()
        self.l1_size = l1_size if l1 else 0
        self._redis_down_until = 0.0

    def _key(self, *parts: object) -> str:
        from infra.redis_client import key

        return key(*parts)

    def _redis(self):
        if time.monotonic() < self._redis_down_until:
            return None
        return self.redis_factory()

    def _redis_failed(self, exc: BaseException) -> None:
        log.warning("context: Redis unavailable (%s); skipping it for 5 s", type(exc).__name__)
        self._redis_down_until = time.monotonic() + 5.0

    def load(self, session_id: str, user_id: str) -> tuple[dict | None, str, int]:
        now = time.monotonic()
        with self._lock:
            hit = self._l1.get(session_id)
            if hit and now - hit[0] < L1_TTL_S and hit[1].get("user_id") == user_id:
                self._l1.move_to_end(session_id)
                return dict(hit[1]), "l1", int(hit[1].get("user_turns", 0))
        from infra.redis_client import redis_errors

        state, level = None, "none"
        client = self._redis()
        if client is not None:
            try:
                raw, turns = client.mget([self._key("ctx", session_id), self._key("uturns", user_id)])
                if raw:
                    state, level = json.loads(raw), "redis"
            except redis_errors as exc:
                self._redis_failed(exc)
                turns = None
        else:
            turns = None
        if state is None:
            with self.engine.connect() as conn:
                row = conn.execute(CONTEXT_SQL, {"session_id": session_id}).first()
                if row is not None:
                    state, level = dict(row[0]), "postgres"
                if turns is None:
                    turns = conn.execute(USER_TURNS_SQL, {"user_id": user_id}).scalar() or 0
        if state is not None and state.get("user_id") != user_id:
            state = None  # a session id belongs to one user
        user_turns = int(turns) if turns is not None else 0
        if state is not None:
            user_turns = max(user_turns, int(state.get("user_turns", 0)))
        return state, level, user_turns

    def save(self, state: Mapping[str, Any]) -> None:
        state = dict(state)
        if self.l1_size:
            with self._lock:
                self._l1[state["session_id"]] = (time.monotonic(), state)
                self._l1.move_to_end(state["session_id"])
                if len(self._l1) > self.l1_size:
                    self._l1.popitem(last=False)
        from infra.redis_client import redis_errors

        client = self._redis()
        if client is None:
            return
        try:
            pipe = client.pipeline(transaction=False)
            pipe.set(self._key("ctx", state["session_id"]), json.dumps(state, ensure_ascii=False, default=str),
                     ex=CONTEXT_TTL_S)
            pipe.set(self._key("uturns", state["user_id"]), int(state.get("user_turns", 0)), ex=USER_TURNS_TTL_S)
            pipe.execute()
        except redis_errors as exc:
            self._redis_failed(exc)

    def ping(self) -> bool:
        from infra.redis_client import redis_errors

        try:
            return bool(self.redis_factory().ping())
        except redis_errors:
            return False
