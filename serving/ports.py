"""The small interfaces the chat pipeline codes against.

The real implementations live in ``models/`` (NLU, embedding, retrieval, ranking) and behind
PostgreSQL / Redis; ``serving.adapters`` fits them to these Protocols, and tests can hand the
pipeline in-repo fakes. Each Protocol names only what the pipeline calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass
class NluFrame:
    """What the pipeline needs from the NLU for one utterance."""

    intent: str
    confidence: float
    entities: dict[str, Any]
    normalized_text: str
    cache_hit: bool = False
    source: str = ""  # model | rules | cache_l1 | cache_redis | cache_db | empty
    model_version: str = ""
    emotion: str = "neutral"
    detected_patterns: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


@runtime_checkable
class NluPort(Protocol):
    version: str
    wants_embedding: bool  # the model reads the query embedding (compute it before parsing)

    def parse(self, text: str, *, user_id: str | None = None, embedding: Any = None) -> NluFrame: ...

    def party_size(self, text: str) -> int | None: ...

    def food_matches(self, text: str) -> list[tuple[int, int, str]]: ...


@dataclass
class Candidate:
    """One retrieved menu at one shop (the retrieval hit, flattened)."""

    shop_id: int
    menu_id: int | None
    shop_name: str
    menu_name: str
    price: int
    category: str
    food_card_flag: str = "U"
    lat: float | None = None
    lon: float | None = None
    good_influence: bool = False
    retrieval_score: float = 0.0
    dietary_tags: tuple[str, ...] = ()
    open_min: int | None = None
    close_min: int | None = None
    break_start_min: int | None = None
    break_end_min: int | None = None
    meal_kind: str = "unknown"  # meal | snack | side | drink (dbt: marts/core/menus.sql); unknown before write-back


@dataclass
class SearchOutcome:
    candidates: list[Candidate]
    cache: str = ""  # l1 / l2 / l3 / miss / off
    embedding: str = ""  # given / l1 / l2 / l3 / miss
    embed_ms: float = 0.0


@runtime_checkable
class RetrievalPort(Protocol):
    def embed(self, text: str) -> tuple[Any, str]:
        """(query vector, cache level it came from)."""

    def search(self, query_text: str, filters: Mapping[str, Any], limit: int,
               query_vector: Any = None) -> SearchOutcome: ...

    def search_each(self, query_text: str, filters: Sequence[Mapping[str, Any]], limit: int,
                    query_vector: Any = None) -> list[list[Candidate]]:
        """The candidates of one query under each filter set (the query read once, no cache)."""

    def ready(self) -> bool: ...

    def warm_up(self) -> None:
        """Load what the first query would load (models, runtimes), whatever the caches hold."""


@dataclass
class ScoreResult:
    scores: list[float]
    contributions: list[dict[str, float]]
    features: list[dict[str, float]] | None = None  # the spec's recommendation_features, if computed
    model_version: str = ""


@runtime_checkable
class ScorerPort(Protocol):
    name: str  # e.g. "wide_deep:champion:v3"

    def score(self, user_features: Mapping[str, Any], candidate_features: Sequence[Mapping[str, Any]],
              context: Mapping[str, Any]) -> ScoreResult: ...


@dataclass
class Account:
    """The child's card and wallet as one request needs them."""

    user_key: int | None  # users.id when the platform id is a known user
    card: Any = None  # serving.meal_card.MealCard | None
    coupons: list[Any] = field(default_factory=list)  # serving.coupon_wallet.WalletCoupon
    age: int | None = None  # whole years, from users.birthday (the birthday itself never leaves SQL)
    home_address: str | None = None  # users.current_address
    orders_centroid: tuple[float, float] | None = None  # centre of the shops of the latest orders


@runtime_checkable
class AccountPort(Protocol):
    # ``now``: the request's clock (serving.clock), never the database's, so a simulated day sees
    # the wallet, expiries and age as of its own time
    def load(self, user_id: str, now: datetime) -> Account: ...

    def issue_emergency_coupon(self, user_key: int, context: Mapping[str, Any], now: datetime) -> bool: ...

    def use_coupon(self, user_key: int, coupon_id: str, shop_id: int | None, menu_id: int | None,
                   order_amount: int | None, discount: int | None, now: datetime) -> bool: ...

    def record_order(self, user_key: int, shop_id: int, menu_id: int, amount: int, at: datetime) -> Any:
        """``product_orders`` row + meal-card payment: ``serving.orders.OrderResult``."""


@runtime_checkable
class FeaturePort(Protocol):
    def user_features(self, user_id: str) -> tuple[dict[str, Any], bool]:
        """(features, served from cache)."""

    def shop_features(self, shop_ids: Sequence[int]) -> dict[int, dict[str, Any]]: ...


@runtime_checkable
class ContextPort(Protocol):
    def load(self, session_id: str, user_id: str) -> tuple[dict[str, Any] | None, str, int]:
        """(saved dialogue state or None, level it came from: l1/redis/postgres/none, user's turns so far)."""

    def save(self, state: Mapping[str, Any]) -> None: ...


@runtime_checkable
class EventSink(Protocol):
    def emit_many(self, events: Any) -> None: ...
