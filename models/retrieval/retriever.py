"""The search entry point the chat service calls.

    retriever = get_retriever()                  # one per process (loads Kiwi, the embedder, the shard)
    hits = retriever.search("떡볶이 먹고 싶어", {"max_price": 5000, "food_card_only": True}, limit=10)

``search`` normalises the query (``EmptyQueryError`` for an empty one; longer than 256 characters is
cut) and takes its content words for the dense side (``sparse.dense_query``: "떡볶이 먹고 싶어" →
"떡볶이"), then: result cache (L1 → Redis → ``rag_query_cache``) → query embedding (the caller's
``query_vector`` if given, else L1 → Redis → ``embedding_cache`` → the embedder) → a hybrid Qdrant
query (dense + Korean-morpheme sparse, RRF fusion, filters inside the search) → results cached.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine

from infra.memory_cache import LRUCache
from models.embedding import TextEmbedder, get_embedder
from models.retrieval import results as results_mod
from models.retrieval import sparse as sparse_mod
from models.retrieval.cache import DbLevel, QueryEmbeddingCache, RedisLevel, ResultCache
from models.retrieval.documents import (
    MENU_CONTENT,
    QUERY_CONTENT,
    SHOP_CONTENT,
    content_hash,
)
from models.retrieval.filters import Bool, Match, SearchFilters, Target
from models.retrieval.needs import QueryNeed, read_need
from models.retrieval.spelling import Speller, vocabulary_of
from models.retrieval.store import RRF_K, Mode, VectorStore, make_store
from models.retrieval.text import (
    EmptyQueryError,
    canonical_json,
    normalize_query,
    sha256_hex,
)

log = logging.getLogger(__name__)

MAX_LIMIT = 100
_UNSET: Any = object()


@dataclass
class Hit:
    """One search result. ``id`` is the menu id (kind ``menu``) or the shop id (kind ``shop``)."""

    kind: str
    id: int
    shop_id: int
    score: float
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return f"{self.kind}_{self.id}"

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its recursive deep copy of 40 payloads cost ~5 ms per search.
        # The payload dict is shared, not copied; nobody mutates a hit's payload.
        return {"kind": self.kind, "id": self.id, "shop_id": self.shop_id, "score": self.score,
                "payload": self.payload, "doc_id": self.doc_id,
                "type": MENU_CONTENT if self.kind == "menu" else SHOP_CONTENT}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Hit":
        return cls(kind=d["kind"], id=int(d["id"]), shop_id=int(d["shop_id"]), score=float(d["score"]),
                   payload=dict(d.get("payload") or {}))


@dataclass
class SearchTrace:
    """How the last search was served (for performance_logs and the benchmark)."""

    result_cache: str = ""  # l1/l2/l3/miss/off
    embedding: str = ""  # given/l1/l2/l3/miss/-
    embed_ms: float = 0.0
    search_ms: float = 0.0
    total_ms: float = 0.0
    normalized_query: str = ""
    dense_text: str = ""  # what the dense vector embeds (sparse.dense_query)
    truncated: bool = False
    corrections: dict[str, str] = field(default_factory=dict)  # misspelled word → indexed word


_PAYLOAD_DROP = {"content_hash", "payload_hash", "sparse_hash", "avgdl", "meaning"}


@functools.lru_cache(maxsize=1)
def _kind_words() -> frozenset[str]:
    """Words for kinds of food rather than a dish (국물, 고기, 튀김, 분식, 음료...): the need reads
    them, and a request for 고기 is not a request for dishes with 고기 in their names."""
    from models.retrieval.documents import CATEGORY_WORDS, DIETARY_KO
    from models.retrieval.meaning import MEANING_WORDS, ROLE_WORDS

    texts = [*CATEGORY_WORDS.values(), *DIETARY_KO.values(), *ROLE_WORDS.values(), *MEANING_WORDS.values()]
    return frozenset(w for text in texts for w in text.split() if len(w) >= 2)


def _known_words() -> set[str]:
    """Everyday words the speller must never "correct" towards a menu name (음식, 근처, 국물...)."""
    words = set(sparse_mod.STOP_NOUNS) | set(sparse_mod.SYNONYMS) | _kind_words()
    words.update(w for v in sparse_mod.SYNONYMS.values() for w in v)
    return {w for w in words if len(w) >= 2}


@dataclass(frozen=True)
class QueryReading:
    """A corrected query as the search uses it (``Retriever._read``)."""

    need: QueryNeed
    named: frozenset[str]  # the words of menu names it names (a compound of one contains it)
    dense_text: str
    sparse_text: str


#: how long the distinct menu prices behind ``canonical_filters`` are trusted under one generation
PRICE_POINTS_TTL_S = 300.0


class Retriever:
    def __init__(
        self,
        *,
        store: VectorStore | None = None,
        embedder: TextEmbedder | None = None,
        engine: Engine | None | Any = _UNSET,
        redis_factory: Any = _UNSET,
        tz=None,
        use_result_cache: bool = True,
        result_ttl_s: int = 3600,
        fusion_weights: tuple[float, float] = (1.0, 1.0),
    ) -> None:
        from infra.settings import get_settings

        settings = get_settings()
        self.tz = tz or settings.tz
        self.store = store or make_store(settings)
        self.embedder = embedder or get_embedder()
        if engine is _UNSET:
            from infra.db import get_engine

            engine = get_engine()
        if redis_factory is _UNSET:
            from infra.redis_client import get_redis

            redis_factory = get_redis
        self.redis = RedisLevel(redis_factory)
        self.db = DbLevel(engine)
        self.embeddings = QueryEmbeddingCache(model_name=self.embedder.name, dim=self.embedder.dim,
                                              redis=self.redis, db=self.db)
        self.results = ResultCache(redis=self.redis, db=self.db, ttl_s=result_ttl_s)
        self.whatif_cache = LRUCache(2_000, ttl_s=result_ttl_s)  # search_each's answers (this process only)
        # the dish ranking of a query does not depend on filters: one per query for all its what-ifs
        # and for every child who asks it (keyed by the index generation as well)
        self.dish_cache = LRUCache(5_000, ttl_s=result_ttl_s)
        self.use_result_cache = use_result_cache
        self.fusion_weights = tuple(float(w) for w in fusion_weights)  # RRF (dense, sparse)
        self._local = threading.local()
        self._speller: tuple[str, Speller] | None = None  # (index generation, speller)
        self._speller_lock = threading.Lock()
        self._prices: tuple[str, float, np.ndarray] | None = None  # (generation, read at, distinct menu prices)
        sparse_mod.warm_up()

    # --- public API -----------------------------------------------------------------------------
    def embed_query(self, query_text: str) -> np.ndarray:
        """The query's embedding through the cache levels (the service may share it with the NLU).
        What is embedded is ``sparse.dense_query`` of the normalised text, as in ``search``."""
        vec, _ = self.query_vector(query_text)
        return vec

    def query_vector(self, query_text: str) -> tuple[np.ndarray, str]:
        """(``embed_query``'s vector, the cache level that served it: l1/l2/l3/miss)."""
        fixed, _ = self.speller().rewrite(normalize_query(query_text))
        return self._query_vector(sparse_mod.dense_query(fixed))

    def speller(self) -> Speller:
        """The typo corrector over the words of the published index (rebuilt when it changes)."""
        generation = self.store.generation
        current = self._speller
        if current is not None and current[0] == generation:
            return current[1]
        with self._speller_lock:
            if self._speller is None or self._speller[0] != generation:
                names = vocabulary_of(n for n in self.store.payload_values("menus", "menu_name") if n)
                words = names + Counter({w: 1 for w in _known_words() if w not in names})
                self._speller = (generation, Speller(words, dish_words=names, is_word=sparse_mod.reads_as_korean))
            return self._speller[1]

    def canonical_filters(self, flt: SearchFilters, target: Target = "menus") -> SearchFilters:
        """``flt`` with a menu price ceiling lowered to the highest price a menu of the index has
        under it: the same menus pass, so the same hits, and children whose balances differ share
        one result-cache entry ("≤ 27,560원" and "≤ 27,800원" are both "≤ 27,500원" when no menu
        costs in between)."""
        if target != "menus" or flt.max_price is None:
            return flt
        generation, now = self.store.generation, time.monotonic()
        prices = self._prices
        # a published generation changes whenever the menus do; a Qdrant server's data changes under
        # one generation, so its prices are read again every PRICE_POINTS_TTL_S
        if prices is None or prices[0] != generation or (
                not self.store.generation_tracks_data and now - prices[1] > PRICE_POINTS_TTL_S):
            values = {int(v) for v in self.store.payload_values("menus", "price") if isinstance(v, int | float)}
            prices = self._prices = (generation, now, np.array(sorted(values), dtype=np.int64))
        points = prices[2]
        i = int(np.searchsorted(points, int(flt.max_price), side="right")) - 1
        if i < 0 or points[i] == flt.max_price:
            return flt
        return dataclasses.replace(flt, max_price=int(points[i]))

    def search(
        self,
        query_text: str,
        filters: SearchFilters | dict[str, Any] | None = None,
        limit: int = 10,
        query_vector: Sequence[float] | np.ndarray | None = None,
        *,
        target: Target = "menus",
        mode: Mode = "hybrid",
        use_cache: bool = True,
    ) -> list[Hit]:
        """Search ``target`` ("menus" or "shops") for ``query_text`` under ``filters``.

        ``query_vector``: an embedding of the same text from ``embed_query`` (or the same embedder),
        computed once per request and shared with the NLU; None computes or fetches it here.
        ``mode``: "hybrid" (default), "dense" or "sparse". Raises ``EmptyQueryError`` (a
        ``ValueError``) for an empty query and ``ValueError`` for bad arguments."""
        started = time.perf_counter()
        trace = SearchTrace()
        original = query_text if query_text is not None else ""
        normalized = normalize_query(query_text)
        fixed, trace.corrections = self.speller().rewrite(normalized) if normalized else (normalized, {})
        reading = self._read(fixed)
        dense_text = reading.dense_text if mode != "sparse" else fixed
        trace.normalized_query, trace.dense_text = normalized, dense_text
        trace.truncated = len(" ".join(str(original).split())) > len(normalized)
        if target not in ("menus", "shops"):
            raise ValueError(f"target must be 'menus' or 'shops', not {target!r}")
        if mode not in ("hybrid", "dense", "sparse"):
            raise ValueError(f"mode must be hybrid, dense or sparse, not {mode!r}")
        limit = int(limit)
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        flt = self.canonical_filters(SearchFilters.from_dict(filters), target)
        if query_vector is not None:
            query_vector = np.asarray(query_vector, dtype=np.float32).reshape(-1)
            if query_vector.shape[0] != self.embedder.dim:
                raise ValueError(f"query_vector has {query_vector.shape[0]} dims, the index {self.embedder.dim}")

        cache_on = use_cache and self.use_result_cache
        qhash = ""
        if cache_on:
            # keyed by what was searched, so "떡볶이 먹고 싶어" and "떡볶이 먹을래" share one result
            qhash = self.result_key(dense_text, flt, limit, target, mode, reading.need)
            cached, level = self.results.get(qhash)
            trace.result_cache = level
            if cached is not None:
                trace.total_ms = (time.perf_counter() - started) * 1000
                self._local.trace = trace
                return [Hit.from_dict(d) for d in cached]
        else:
            trace.result_cache = "off"

        t0 = time.perf_counter()
        dense = None
        if mode != "sparse":
            if query_vector is not None:
                dense, trace.embedding = query_vector, "given"
            else:
                dense, trace.embedding = self._query_vector(dense_text)
        else:
            trace.embedding = "-"
        trace.embed_ms = (time.perf_counter() - t0) * 1000

        t1 = time.perf_counter()
        sparse = sparse_mod.encode_query(reading.sparse_text) if mode != "dense" else None
        hits = self._ranked(target, fixed, dense, sparse, flt, limit, mode, reading)
        trace.search_ms = (time.perf_counter() - t1) * 1000
        trace.total_ms = (time.perf_counter() - started) * 1000
        if cache_on:
            self.results.put(qhash, original_query=str(original)[:2000], normalized_query=normalized,
                             hits=[h.to_dict() for h in hits], search_ms=trace.search_ms,
                             total_ms=trace.total_ms, documents_searched=None)
        self._local.trace = trace
        return hits

    def search_each(
        self,
        query_text: str,
        filters: Sequence[SearchFilters | dict[str, Any]],
        limit: int = 10,
        query_vector: Sequence[float] | np.ndarray | None = None,
        *,
        target: Target = "menus",
    ) -> list[list[Hit]]:
        """The hybrid hits of ``query_text`` under each filter set of ``filters``, for asking several
        what-ifs of one query (serving's "why nothing fits"): the query is read, corrected, embedded
        and encoded once for all of them; the dense prefetch skips MMR (the caller picks by price,
        distance or opening time, not by rank: half the cost of a filtered search); and the answers
        are kept only in this process (``whatif_cache``, an hour at most, like the result cache),
        since a filtered search costs less than a Redis or PostgreSQL round trip."""
        normalized = normalize_query(query_text)
        fixed, _ = self.speller().rewrite(normalized) if normalized else (normalized, {})
        reading = self._read(fixed)
        dense_text = reading.dense_text
        flts = [self.canonical_filters(SearchFilters.from_dict(f), target) for f in filters]
        keys = [self.result_key(dense_text, flt, limit, target, "whatif", reading.need) for flt in flts]
        found = [self.whatif_cache.get(k) for k in keys]
        if all(hits is not None for hits in found):
            return [list(hits) for hits in found]
        if query_vector is not None:
            dense = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        else:
            dense, _ = self._query_vector(dense_text)
        sparse = sparse_mod.encode_query(reading.sparse_text)
        out = []
        for key, flt, hits in zip(keys, flts, found):
            if hits is None:
                hits = self._ranked(target, fixed, dense, sparse, flt, limit, "hybrid", reading, diverse=False)
                self.whatif_cache.set(key, hits)
            out.append(list(hits))
        return out

    def _ranked(self, target: Target, fixed: str, dense, sparse, flt: SearchFilters, limit: int, mode: Mode,
                reading: QueryReading, *, diverse: bool = True) -> list[Hit]:
        """One filtered search of an already read query, arranged and shaped as hits."""
        weights = None if self.fusion_weights == (1.0, 1.0) else self.fusion_weights
        condition = flt.to_condition(target, self.tz)
        if target != "menus":
            return self._hits(self.store.search(target, dense=dense, sparse=sparse, condition=condition, limit=limit,
                                                mode=mode, weights=weights, diverse=diverse), target)
        pool = self._menu_pool(reading, dense, sparse, flt, condition, limit, mode, weights, diverse)
        return self._hits(results_mod.arrange(pool, fixed, limit, need=reading.need, named=reading.named), target)

    def _menu_pool(self, reading: QueryReading, dense, sparse, flt: SearchFilters, condition, limit: int, mode: Mode,
                   weights, diverse: bool) -> list[Any]:
        """The candidates ``results.arrange`` picks the list from (RRF-scale scores)."""
        pool_size = results_mod.pool_size(limit, MAX_LIMIT)

        def plain_search() -> list[Any]:
            return results_mod.rrf_scaled(self.store.search(
                "menus", dense=dense, sparse=sparse, condition=condition, limit=pool_size, mode=mode,
                weights=weights, diverse=diverse), mode == "hybrid", RRF_K)

        dishes: list[Any] = []
        by_dish: list[Any] = []
        plain: list[Any] = []
        if reading.named:
            # a named dish: the filtered search finds its copies (from several shops) directly
            plain = plain_search()
        elif flt.near is not None or flt.shop_ids:
            # a place narrows the menus to a few shops: the filtered search is cheap there and sees
            # many dishes; the best dishes' menus are fetched only when its pool lacks variety, and
            # only for the dishes served there
            plain = plain_search()
            if len({h.payload.get("dish") for h in plain}) < limit:
                dishes = self._dishes(reading, dense, sparse, mode, weights, diverse)
                here = self.store.present_values("menus", key="dish", condition=condition,
                                                 values=[d.payload.get("dish", "") for d in dishes])
                by_dish = self._menus_of([d for d in dishes if d.payload.get("dish") in here], dense, sparse,
                                         condition, mode)
        else:
            # a wide filter: copies of one dish fill a plain search, so the best dishes come first
            # and the filtered search only fills in where few of their menus pass the filter
            dishes = self._dishes(reading, dense, sparse, mode, weights, diverse)
            by_dish = self._menus_of(dishes, dense, sparse, condition, mode)
            if len(by_dish) < pool_size:
                plain = plain_search()
        return results_mod.merge(plain, dishes, by_dish)

    def _read(self, fixed: str) -> QueryReading:
        """What a corrected query asks: the dish words it names, its need (a situation counts only
        when no dish is named: "친구랑 불고기" asks for 불고기, not for something to share), and the
        sparse query's text: the request, the plain words of its situation ("따뜻한" for rain) and
        the index's compounds of its nouns (만두 → 물만두 군만두)."""
        speller = self.speller()
        nouns = [t[2:] for t in sparse_mod.query_terms(fixed) if t.startswith("N:")]
        compounds = {n: speller.compounds(n) for n in nouns}
        # a dish word, or the head of some (만두 of 물만두 and 군만두), but not a kind of food (고기)
        named = frozenset(n for n in nouns if (n in speller.dish_words or compounds[n]) and n not in _kind_words())
        need = read_need(fixed, named=named)
        compounds = dict.fromkeys(c for n in nouns for c in compounds[n])
        sparse_text = " ".join([fixed, need.words, *compounds]).strip()
        return QueryReading(need, named, sparse_mod.dense_query(fixed), sparse_text)

    def _dishes(self, reading: QueryReading, dense, sparse, mode: Mode, weights, diverse: bool) -> list[Any]:
        """The best distinct dishes for a query, as their representatives (``dish_rep``) with
        RRF-scale scores. 27,642 sample menus are 1,927 dishes, so a plain search's pool is often
        one dish from fifty shops (계란국 × 60 for "따끈한 국 한 그릇") and nothing else to choose
        from; ranking representatives ranks dishes. Unfiltered (a dish is what it is in any shop),
        so cached per query text, mode and index generation."""
        key = (reading.dense_text, reading.sparse_text, mode, weights, diverse, self.store.generation)
        key_text = canonical_json(key)
        found = self.dish_cache.get(key_text)
        if found is None:
            reps = self.store.search("menus", dense=dense, sparse=sparse, condition=Bool(must=(Match("dish_rep", 1),)),
                                     limit=results_mod.DISH_CANDIDATES, mode=mode, weights=weights, diverse=diverse)
            found = results_mod.rrf_scaled(reps, mode == "hybrid", RRF_K)
            self.dish_cache.set(key_text, found)
        return found

    def _menus_of(self, dishes: Sequence[Any], dense, sparse, condition, mode: Mode) -> list[Any]:
        """``DISH_COPIES`` menus (shops) of each of ``dishes`` that pass ``condition`` (one batch of
        small searches), each with its dish's score."""
        copies = self.store.best_per_value("menus", dense=dense if mode != "sparse" else None, sparse=sparse,
                                           condition=condition, key="dish",
                                           values=[d.payload.get("dish", "") for d in dishes],
                                           per_value=results_mod.DISH_COPIES)
        return [dataclasses.replace(c, score=d.score) for d, found in zip(dishes, copies) for c in found]

    def _hits(self, raw: Sequence[Any], target: Target) -> list[Hit]:
        kind = "menu" if target == "menus" else "shop"
        return [Hit(kind, h.id, int(h.payload.get("shop_id", h.id)), h.score,
                    {k: v for k, v in h.payload.items() if k not in _PAYLOAD_DROP}) for h in raw]

    @property
    def last_trace(self) -> SearchTrace | None:
        return getattr(self._local, "trace", None)

    def result_key(self, normalized: str, flt: SearchFilters, limit: int, target: str, mode: str,
                   need: QueryNeed | None = None) -> str:
        """SHA-256 of the normalised query plus its filters (and what else changes the answer)."""
        return sha256_hex(canonical_json({
            "q": normalized, "f": flt.cache_key(self.tz), "t": target, "m": mode, "n": limit,
            "e": self.embedder.name, "g": self.store.generation, "w": self.fusion_weights,
            **({"need": need.key()} if need else {}),
        }))

    def flush(self) -> None:
        """Write pending cache rows and statistics to PostgreSQL now."""
        self.db.writer.flush()

    def close(self) -> None:
        self.db.writer.close()
        self.store.close()

    # --- internals ------------------------------------------------------------------------------
    def _query_vector(self, normalized: str) -> tuple[np.ndarray, str]:
        h = content_hash(self.embedder.name, QUERY_CONTENT, normalized)
        vec, level = self.embeddings.get(h)
        if vec is not None:
            return vec, level
        start = time.perf_counter()
        vec = self.embedder.embed_query(normalized)
        self.embeddings.put(h, normalized, vec, (time.perf_counter() - start) * 1000)
        return vec, "miss"


_default: Retriever | None = None
_default_lock = threading.Lock()


def get_retriever() -> Retriever:
    """The process-wide retriever built from the settings."""
    global _default
    with _default_lock:
        if _default is None:
            import atexit

            _default = Retriever()
            atexit.register(_default.flush)  # pending cache rows reach PostgreSQL at exit
        return _default


__all__ = ["Retriever", "Hit", "SearchTrace", "get_retriever", "EmptyQueryError", "SearchFilters"]
