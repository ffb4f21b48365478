"""The NLU entry point (spec Phase 1 + Phase 2): text → intent, confidence, entities.

    parser = NLUParser()                        # loads the registered model once
    result = parser.parse("배고픈데 5천원밖에 없어")
    result.frame()  # {"text": ..., "intent": "budget_inquiry", "confidence": 0.97,
                    #  "entities": {"budget": 5000, "urgency": "high"}}

Order of work for one utterance: normalize → L1 cache → Redis (5 min) → nlu_training_data
(quality_score > 0.8) → rules + classifier → store in the caches and queue the row for
nlu_training_data. Every cache level may fail; a failure is a miss, never an error.

Bad input has a defined answer: empty text, whitespace, punctuation or emoji only → general_chat
with no entities (source ``empty``); text longer than ``MAX_ANALYZED_CHARS`` is analyzed on its first
``MAX_ANALYZED_CHARS`` characters; anything that is not a ``str`` raises ``TypeError``.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from infra.breaker import CACHE_COOLDOWN_S, CircuitBreaker
from infra.db import read_connection
from models.nlu import hybrid, store
from models.nlu.cache import RedisCache, TTLCache, text_key
from models.nlu.labels import Intent, Slot
from models.nlu.normalize import MAX_CHARS, has_content
from models.nlu.preprocess import Preprocessed, preprocess
from models.nlu.rules import intent_cues

log = logging.getLogger(__name__)

MAX_ANALYZED_CHARS = MAX_CHARS
_SLOT_ORDER = {s.value: i for i, s in enumerate(Slot)}


@dataclass
class NLUResult:
    text: str
    normalized_text: str
    intent: str
    confidence: float
    entities: dict
    keywords: list[str] = field(default_factory=list)
    emotion: str = "neutral"
    detected_patterns: list[str] = field(default_factory=list)
    source: str = "model"          # empty | cache_l1 | cache_redis | cache_db | model | rules
    decided_by: str = ""           # rules | classifier | agree | override (model path only)
    model_version: str = "rules"
    latency_ms: float = 0.0

    def frame(self) -> dict:
        """The contract's record: {"text", "intent", "confidence", "entities"}."""
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 4),
                "entities": self.entities}

    def as_dict(self) -> dict:
        return {**self.frame(), "normalized_text": self.normalized_text, "keywords": self.keywords,
                "emotion": self.emotion, "detected_patterns": self.detected_patterns, "source": self.source,
                "decided_by": self.decided_by, "model_version": self.model_version,
                "latency_ms": round(self.latency_ms, 3)}


def _clean(text) -> str:
    """The input as storable text: a ``str`` (else TypeError) without lone surrogates (→ U+FFFD)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. from a broken JSON escape)
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _ordered(entities: dict) -> dict:
    """Slots in contract order; lists copied so a caller cannot change a cached frame."""
    return {k: list(v) if isinstance(v, list) else v
            for k, v in sorted(entities.items(), key=lambda kv: _SLOT_ORDER.get(kv[0], 99))}


class NLUParser:
    """Holds the model and the cache levels; one per process (``get_parser()``)."""

    def __init__(self, model=None, *, load_model: bool = True, use_cache: bool = True, persist: bool = True,
                 engine=None, redis_cache: RedisCache | None = None, l1: TTLCache | None = None):
        if model is None and load_model:
            from models.nlu.registry import load_intent_model  # noqa: PLC0415

            model = load_intent_model()
            if model is None:  # training one is the caller's call: models.nlu.train.load_or_train
                log.warning("no trained NLU model: parsing with the rules alone")
        self.model = model
        self.model_version = getattr(model, "version", "rules")
        self.use_cache = use_cache
        self.persist = persist
        self.l1 = l1 if l1 is not None else TTLCache()
        self.redis = redis_cache if redis_cache is not None else RedisCache()
        self._engine = engine
        self.db_breaker = CircuitBreaker("postgres", cooldown_s=CACHE_COOLDOWN_S)
        self.writer = store.TrainingDataWriter(self._get_engine)
        self._local = threading.local()  # one autocommit lookup connection per thread
        self._fills = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu-cache-fill")
        self._pending_fills: list = []

    # ---- infrastructure ------------------------------------------------------------------
    def _get_engine(self):
        if self._engine is None:
            from infra.db import get_engine  # noqa: PLC0415

            self._engine = get_engine()
        return self._engine

    def _db_lookup(self, normalized: str) -> dict | None:
        """nlu_training_data lookup on a kept-open autocommit connection: one round trip, no pool
        checkout (and its pre-ping) per request; a failed connection is dropped and reopened later."""
        if not self.db_breaker.available():
            return None
        try:
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = read_connection(self._get_engine())
                self._local.conn = conn
            found = store.lookup(None, normalized, self.model_version, conn=conn)
        except Exception as exc:  # noqa: BLE001 - a cache level, never an error
            self.db_breaker.trip("nlu_training_data lookup", exc)
            conn = getattr(self._local, "conn", None)
            self._local.conn = None
            if conn is not None:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
            return None
        self.db_breaker.success()
        return found

    def _fill_redis(self, key: str, value: dict) -> None:
        """Redis cache fill off the request path (the L1 already holds the value)."""
        self._pending_fills = [f for f in self._pending_fills if not f.done()]
        self._pending_fills.append(self._fills.submit(self.redis.set, key, value))

    # ---- the decision ------------------------------------------------------------------------
    def _decide(self, pre: Preprocessed, probs: np.ndarray | None) -> tuple[str, float, str]:
        cues = intent_cues(pre.normalized_text, pre.extraction)
        urgent = pre.extraction.entities.get(Slot.URGENCY.value) == "high"
        decision = hybrid.decide(cues, probs, urgent=urgent)
        calibrator = getattr(self.model, "hybrid_calibrator", None)
        return decision.intent.value, hybrid.calibrate(decision.score, calibrator), decision.source

    def _analyze(self, pres: list[Preprocessed], embeddings: np.ndarray | None = None) -> list[tuple[str, float, str]]:
        if self.model is None:
            return [self._decide(p, None) for p in pres]
        probs = self.model.predict_proba([p.normalized_text for p in pres], embeddings)
        return [self._decide(p, probs[i]) for i, p in enumerate(pres)]

    @staticmethod
    def _empty(text: str, pre: Preprocessed, started: float) -> NLUResult:
        return NLUResult(text=text, normalized_text=pre.normalized_text, intent=Intent.GENERAL_CHAT.value,
                         confidence=1.0, entities={}, emotion=pre.emotion.value, source="empty",
                         latency_ms=(time.perf_counter() - started) * 1000)

    # ---- public API ----------------------------------------------------------------------------
    def parse(self, text: str, embedding: np.ndarray | None = None, *, user_id: str | None = None,
              use_cache: bool | None = None, persist: bool | None = None) -> NLUResult:
        """Parse one utterance. ``embedding``: the e5 query embedding the service already computed
        (384 floats); used by the classifier's e5 head when the model has one, ignored otherwise."""
        started = time.perf_counter()
        text = _clean(text)
        use_cache = self.use_cache if use_cache is None else use_cache
        persist = self.persist if persist is None else persist
        pre = preprocess(text)
        if not has_content(pre.normalized_text):
            return self._empty(text, pre, started)

        key = text_key(pre.normalized_text, self.model_version)
        cached, source = None, "model"
        if use_cache:
            cached = self.l1.get(key)
            source = "cache_l1"
            if cached is None:
                cached, source = self.redis.get(key), "cache_redis"
            if cached is None:
                cached, source = self._db_lookup(pre.normalized_text), "cache_db"
                if cached is not None:
                    self._fill_redis(key, cached)
            if cached is not None and source != "cache_l1":
                self.l1.set(key, cached)

        decided_by = ""
        if cached is None:
            emb = None if embedding is None else np.asarray(embedding, dtype=np.float32).reshape(1, -1)
            intent, confidence, decided_by = self._analyze([pre], emb)[0]
            entities = _ordered(pre.extraction.entities)
            source = "model" if self.model is not None else "rules"
            cached = {"intent": intent, "confidence": confidence, "entities": entities}
            if use_cache:
                self.l1.set(key, cached)
                self._fill_redis(key, cached)
            if persist:
                self.writer.submit(store.result_row(text, pre.normalized_text, intent, confidence, entities,
                                                    self.model_version, user_id))
        return NLUResult(
            text=text, normalized_text=pre.normalized_text, intent=cached["intent"],
            confidence=float(cached.get("confidence", 1.0)), entities=_ordered(cached.get("entities") or {}),
            keywords=pre.keywords, emotion=pre.emotion.value, detected_patterns=pre.detected_patterns,
            source=source, decided_by=decided_by, model_version=self.model_version,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def parse_many(self, texts: list[str], embeddings: np.ndarray | None = None) -> list[NLUResult]:
        """Batch parse without caches or persistence (offline prediction and evaluation)."""
        started = time.perf_counter()
        texts = [_clean(t) for t in texts]
        pres = [preprocess(t) for t in texts]
        live = [i for i, p in enumerate(pres) if has_content(p.normalized_text)]
        decisions = {}
        if live:
            emb = None if embeddings is None else np.asarray(embeddings)[live]
            for i, d in zip(live, self._analyze([pres[i] for i in live], emb), strict=True):
                decisions[i] = d
        out = []
        for i, (text, pre) in enumerate(zip(texts, pres, strict=True)):
            if i not in decisions:
                out.append(self._empty(text, pre, started))
                continue
            intent, confidence, decided_by = decisions[i]
            out.append(NLUResult(text=text, normalized_text=pre.normalized_text, intent=intent,
                                 confidence=confidence, entities=_ordered(pre.extraction.entities),
                                 keywords=pre.keywords, emotion=pre.emotion.value,
                                 detected_patterns=pre.detected_patterns,
                                 source="model" if self.model is not None else "rules", decided_by=decided_by,
                                 model_version=self.model_version))
        return out

    def flush(self) -> None:
        """Wait for pending Redis fills and queued nlu_training_data rows (CLI exit, tests)."""
        for future in list(self._pending_fills):
            future.result(timeout=10)
        self._pending_fills.clear()
        self.writer.flush()


_parser: NLUParser | None = None


def get_parser() -> NLUParser:
    """The process-wide parser (model loaded once)."""
    global _parser
    if _parser is None:
        _parser = NLUParser()
    return _parser


def parse(text: str, embedding: np.ndarray | None = None, **kw) -> NLUResult:
    return get_parser().parse(text, embedding, **kw)
