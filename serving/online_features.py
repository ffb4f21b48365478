"""User features from the Feast online store (Redis), read once a minute per child.

The ranker trained on Feast's point-in-time history; serving reads the same feature views from the
online store that ``materialize_incremental`` fills, so training and serving see one definition of
each feature. Two ``get_online_features`` calls fetch the user's row and the user×shop visit counts
of the turn's candidate shops (entity rows ``(user_id, shop_id)``): under 1 ms for 20 candidates
(``python -m serving.online_features --bench``), not one read per candidate. The worker keeps what
it read for ``USER_FEATURES_TTL_S`` (60 s), as the PostgreSQL reader does: the next turns of a
conversation read only the visit counts of shops not seen before (Feast's client was a fifth of
the CPU of a cache-hit turn).

Shop features do not come from here: every shop's row is held in memory by
``serving.features.ShopFeatureCache`` and reloaded when materialization announces a new version.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

from infra.feature_contract import USER, USER_SHOP
from infra.memory_cache import LRUCache
from infra.vocabulary import CATEGORIES
from serving.features import USER_FEATURES_TTL_S

log = logging.getLogger(__name__)

USER_VIEW = USER.name
VISIT_VIEW = USER_SHOP.name


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


class FeastUserFeatures:
    """``get(user_id, shop_ids)`` → (the user's feature dict, ``"feast"``), shaped as
    ``serving.features.UserFeatureCache`` shapes it (``visit_counts``, ``category_share_by_name``)."""

    source = "feast"

    def __init__(self, store: Any, *, ttl_s: float = USER_FEATURES_TTL_S, maxsize: int = 20_000) -> None:
        from feature_repo.definitions import feature_refs

        self.store = store
        self._user_refs = feature_refs(USER_VIEW)
        self._visit_refs = feature_refs(VISIT_VIEW)
        self._lock = threading.Lock()  # FeatureStore's registry cache refresh is not thread-safe
        self.ttl_s = ttl_s
        # user key → (read at, the user's row, visit counts of the shops read so far); an entry
        # lives ttl_s from its first read, however many shops later turns add to it
        self._recent = LRUCache(maxsize, ttl_s=ttl_s)

    @classmethod
    def open(cls, settings: Any = None) -> "FeastUserFeatures | None":
        """The reader when the feature store is set up and materialized; None otherwise (a fresh
        checkout before ``naviyam demo``), so the service falls back to PostgreSQL."""
        try:
            from feature_repo.config import get_feature_store

            reader = cls(get_feature_store(settings))
            reader.store.get_feature_view(USER_VIEW)  # registered (feast apply ran)?
            _use_shared_redis_client(reader.store)
            return reader
        except Exception as exc:
            log.info("Feast online store not available (%s: %s)", type(exc).__name__, str(exc)[:200])
            return None

    def get(self, user_id: str, shop_ids: Sequence[int] = ()) -> tuple[dict[str, Any], str]:
        """(features, ``"feast"`` when read now or ``"l1"`` when this worker read them within
        ``ttl_s``, as ``serving.features.UserFeatureCache`` keeps them: a child's next turn comes
        seconds later and the online store changes at most once a batch). Only the visit counts of
        shops not read before are fetched on a later turn."""
        from infra.platform_ids import user_key

        uid = user_key(user_id)
        if uid is None:
            return {"total_orders": 0}, "none"  # not a platform user: nothing to look up
        shops = list(dict.fromkeys(int(s) for s in shop_ids))
        read_at, row, visits = self._recent.get(str(uid)) or (time.monotonic(), None, {})
        missing = [s for s in shops if s not in visits]
        if row is not None and not missing:
            return _shaped(uid, row, visits), "l1"
        fresh_row, fresh_visits = self._read(uid, need_user=row is None, shops=missing)
        row, visits = (fresh_row if row is None else row), {**visits, **fresh_visits}
        remaining = self.ttl_s - (time.monotonic() - read_at)
        if remaining > 0:
            self._recent.set(str(uid), (read_at, row, visits), ttl_s=remaining)
        return _shaped(uid, row, visits), "feast"

    def invalidate(self, user_id: str | None = None) -> None:
        from infra.platform_ids import user_key

        if user_id is None:
            self._recent.clear()
        else:
            self._recent.pop(str(user_key(user_id)))

    def _read(self, uid: int, *, need_user: bool, shops: list[int]) -> tuple[dict[str, Any], dict[int, float]]:
        """(the user's row, ``{shop: visits}`` for ``shops``, 0.0 when none) from the online store."""
        from infra.breaker import breaker

        redis_breaker = breaker("redis")  # Feast has its own Redis client: honour and feed the shared breaker
        redis_breaker.check()
        data: dict[str, list] = {}
        with self._lock:
            # two reads, not one over (user, shop) rows: that one decodes the user's 13 features
            # once per candidate (1.3 ms for 20 candidates against 0.8 ms for the pair)
            try:
                if need_user:
                    data = self.store.get_online_features(features=self._user_refs,
                                                          entity_rows=[{"user_id": uid}]).to_dict()
                if shops:
                    data.update(self.store.get_online_features(
                        features=self._visit_refs, entity_rows=[{"user_id": uid, "shop_id": s} for s in shops]).to_dict())
            except (ConnectionError, TimeoutError, OSError) as exc:
                redis_breaker.failure()
                raise exc
            except Exception as exc:
                import redis

                if isinstance(exc, redis.RedisError):
                    redis_breaker.failure()
                raise
        row = {k: v[0] for k, v in data.items() if k not in ("shop_id", "visit_count", "user_id")}
        visits = {int(s): (float(c) if _present(c) else 0.0)
                  for s, c in zip(data.get("shop_id", []), data.get("visit_count", []))}
        return row, visits


def _shaped(uid: int, row: dict[str, Any], visits: dict[int, float]) -> dict[str, Any]:
    """The reader's answer, shaped as ``serving.features.UserFeatureCache`` shapes it."""
    if not _present(row.get("total_orders")):
        return {"total_orders": 0, "visit_counts": {}}  # no row online: a new user
    user = {**row, "user_id": uid, "visit_counts": {s: c for s, c in visits.items() if c > 0}}
    shares = user.get("category_share")
    if shares is not None and not isinstance(shares, dict):
        user["category_share_by_name"] = dict(zip(CATEGORIES, [float(x) for x in shares]))
    return user


def _use_shared_redis_client(store: Any) -> None:
    """Hand Feast's Redis online store the process's client (``infra.redis_client``): Feast's own
    has no socket timeout, so a frozen Redis would hang a read forever, under the lock above."""
    try:
        from infra.redis_client import get_redis

        online = store._get_provider().online_store
        if getattr(online, "_client", None) is None and hasattr(online, "_get_client"):
            online._client = get_redis()
    except Exception as exc:  # a Feast without these internals keeps its client (and the breaker check)
        log.warning("Feast online store keeps its own Redis client (%s)", type(exc).__name__)


def _bench(n: int = 200, candidates: int = 20) -> None:  # pragma: no cover - a measuring command
    import random

    reader = FeastUserFeatures.open()
    if reader is None:
        raise SystemExit("the Feast online store is not set up: run `naviyam demo` first")
    rng = random.Random(7)
    reader.get("1", [1, 2, 3])
    times = []
    for _ in range(n):
        uid, shops = rng.randint(1, 1000), rng.sample(range(1, 2000), candidates)
        t = time.perf_counter()
        reader.get(str(uid), shops)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"feast online read, user + {candidates} user×shop rows: p50 {times[n // 2]:.2f} ms, "
          f"p99 {times[int(n * 0.99) - 1]:.2f} ms over {n} reads")


if __name__ == "__main__":  # pragma: no cover
    import sys

    if "--bench" in sys.argv:
        logging.disable(logging.INFO)
        _bench()
    else:
        print(__doc__)
