"""One small vector-store interface over two backends.

* ``EdgeStore`` (default): the Qdrant engine embedded in-process (``qdrant-edge-py``), one shard per
  collection on disk under ``settings.qdrant_path``. Readers and the index builder never share a
  shard: a build copies the published generation to a new folder, updates it, flushes it and then
  publishes it by rewriting ``CURRENT`` atomically; readers notice the new generation (checked at
  most every ``reload_interval_s``) and switch to it. Shards are created without a WAL, so any
  number of processes (service workers, the Dagster asset) can open a published generation.
* ``ServerStore``: a Qdrant server through ``qdrant-client`` (``settings.qdrant_url``); also works
  with ``QdrantClient(":memory:")``, which the unit tests use.

Each collection has a dense vector ``dense`` (cosine) and a sparse vector ``lexical`` with Qdrant's
IDF modifier. A hybrid query prefetches both (each with the filter) and fuses them with RRF.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from models.retrieval.filters import PAYLOAD_INDEXES, Bool, Condition, GeoRadius, Match, MatchAny, Range
from models.retrieval.sparse import SparseVec

log = logging.getLogger(__name__)

DENSE = "dense"
SPARSE = "lexical"
Mode = Literal["hybrid", "dense", "sparse"]
COLLECTIONS = ("shops", "menus")
RRF_K = 60
# Hybrid tuning (bench on the scale-1 sample, 238 queries): many menus share one dish text and so one
# dense vector (27,642 menus, 1,927 distinct texts); a plain nearest-neighbour prefetch fills with
# copies of one dish (often a drink) and RRF then ties them with the sparse winners. MMR in the dense
# prefetch keeps it to distinct dishes: MRR@10 0.87 → 0.89, recall@10 0.79 → 0.83 for ~+0.5 ms.
PREFETCH_MIN = 30
MMR_DIVERSITY: float | None = 0.5
MMR_CANDIDATES = 200
# The embedded shard builds no HNSW graph (m=0): every search the service makes is filtered (open
# now, card, price, near), and over a filtered set Qdrant scans exactly with or without a graph
# (scale 1, 27,642 menus: the same 0.6 ms near home and 3.8–4.0 ms without a place, graph or not),
# while the graph cost 9.5 s of a first build's publish (3.9 s without). An unfiltered search scans
# all points: 1.9 ms instead of 0.4. A Qdrant server (made for larger catalogues) keeps its graph.
EDGE_DENSE_GRAPH = {"m": 0, "ef_construct": 100, "full_scan_threshold": 10_000}
# fingerprint fields every point carries, read back by the incremental build
FINGERPRINT_FIELDS = ["content_hash", "payload_hash", "sparse_hash", "avgdl", "doc_len"]


@dataclass
class PointData:
    id: int
    dense: np.ndarray | Sequence[float] | None
    sparse: SparseVec | None
    payload: dict[str, Any]


@dataclass
class StoreHit:
    id: int
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class VectorStore(ABC):
    """Collections ``shops`` and ``menus`` (names are logical; a backend may prefix them)."""

    @abstractmethod
    def ensure_collection(self, name: str, dim: int, *, fresh: bool = False) -> None:
        """Open collection ``name`` for writing; ``fresh``: every point is about to be written (a
        full rebuild), so nothing of the current version needs carrying over."""

    @abstractmethod
    def upsert(self, name: str, points: Sequence[PointData]) -> None: ...

    @abstractmethod
    def set_payload(self, name: str, point_id: int, payload: dict[str, Any]) -> None: ...

    @abstractmethod
    def delete(self, name: str, ids: Sequence[int]) -> None: ...

    @abstractmethod
    def fingerprints(self, name: str) -> dict[int, dict[str, Any]]:
        """point id → its ``FINGERPRINT_FIELDS`` payload values."""

    @abstractmethod
    def count(self, name: str) -> int: ...

    @abstractmethod
    def payload_values(self, name: str, key: str) -> list[Any]:
        """The ``key`` payload value of every point (e.g. all menu names, for the speller)."""

    @abstractmethod
    def search(
        self,
        name: str,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVec | None,
        condition: Bool | None,
        limit: int,
        mode: Mode = "hybrid",
        prefetch_limit: int | None = None,
        with_payload: bool | list[str] = True,
        weights: tuple[float, float] | None = None,
        diverse: bool = True,
    ) -> list[StoreHit]:
        """``weights``: RRF weights of the (dense, sparse) prefetches in hybrid mode. ``diverse=False``
        skips the MMR of the dense prefetch (half the cost of a filtered hybrid search: 1.4 vs 2.7 ms)
        for searches that pick by their own measure (price, distance, opening time), not by rank."""

    @abstractmethod
    def best_per_value(self, name: str, *, dense: Sequence[float] | None, sparse: SparseVec | None,
                       condition: Bool | None, key: str, values: Sequence[str | int],
                       per_value: int) -> list[list[StoreHit]]:
        """For each of ``values``, the ``per_value`` points nearest to the query (dense, else
        sparse) among those with payload ``key`` equal to it that pass ``condition``: one batch of
        small filtered searches, in the order of ``values``."""

    @abstractmethod
    def present_values(self, name: str, *, key: str, values: Sequence[str | int],
                       condition: Bool | None) -> set[str | int]:
        """Which of ``values`` some point that passes ``condition`` has as payload ``key`` (one
        facet count: cheap where the condition is narrow, as a place is)."""

    def begin_build(self) -> None:
        """Start a batch of updates (the edge backend stages a new generation)."""

    def finish_collection(self, name: str) -> None:
        """The staged collection ``name`` will get no more writes in this batch: compact it now,
        before ``commit_build`` (the edge backend merges its segments; a server compacts on its own)."""

    def commit_build(self) -> None:
        """Make the batch of updates visible to searches."""

    def abort_build(self) -> None:
        """Drop a staged batch (edge); a server has applied the updates already."""

    def close(self) -> None:
        pass

    #: whether ``generation`` changes exactly when the data does (a published Edge generation);
    #: a live backend's data changes under one generation
    generation_tracks_data: bool = False

    @property
    def generation(self) -> str:
        """Changes whenever the searchable data changes (part of result-cache keys)."""
        return "live"


def _floats(values) -> list[float]:
    return values.astype(float).tolist() if isinstance(values, np.ndarray) else [float(x) for x in values]


def _prefetch_limit(limit: int, prefetch_limit: int | None) -> int:
    return prefetch_limit or max(PREFETCH_MIN, limit * 3)


def _mmr_candidates(prefetch: int) -> int:
    return max(MMR_CANDIDATES, prefetch * 4)


def _nonempty(condition: Bool | None) -> tuple[Bool, ...]:
    return (condition,) if condition is not None and not condition.is_empty() else ()


class FilterDialect(ABC):
    """How one Qdrant API spells the five filter pieces; ``translate`` does the rest once for both."""

    @abstractmethod
    def match(self, key: str, value: str | int): ...

    @abstractmethod
    def match_any(self, key: str, values: list[str | int]): ...

    @abstractmethod
    def range(self, key: str, c: Range): ...

    @abstractmethod
    def geo_radius(self, key: str, c: GeoRadius): ...

    @abstractmethod
    def filter(self, must: list | None, should: list | None, must_not: list | None): ...

    def condition(self, c: Condition):
        if isinstance(c, Match):
            return self.match(c.key, c.value)
        if isinstance(c, MatchAny):
            return self.match_any(c.key, list(c.values))
        if isinstance(c, Range):
            return self.range(c.key, c)
        if isinstance(c, GeoRadius):
            return self.geo_radius(c.key, c)
        if isinstance(c, Bool):
            return self.translate(c)
        raise TypeError(f"unknown condition {c!r}")

    def each_value(self, condition: Bool | None, key: str, values: Sequence[str | int]) -> list:
        """One filter per value: ``condition`` (translated once) and payload ``key`` equal to it."""
        common = [self.translate(c) for c in _nonempty(condition)]
        return [self.filter([self.match(key, v), *common], None, None) for v in values]

    def translate(self, b: Bool | None):
        """The backend's filter object for ``b`` (None when there is nothing to filter)."""
        if b is None or b.is_empty():
            return None
        return self.filter([self.condition(c) for c in b.must] or None,
                           [self.condition(c) for c in b.should] or None,
                           [self.condition(c) for c in b.must_not] or None)


class _EdgeDialect(FilterDialect):
    def __init__(self, qe):
        self.qe = qe

    def match(self, key, value):
        return self.qe.FieldCondition(key, match=self.qe.MatchValue(value))

    def match_any(self, key, values):
        return self.qe.FieldCondition(key, match=self.qe.MatchAny(values))

    def range(self, key, c):
        return self.qe.FieldCondition(key, range=self.qe.RangeFloat(gte=c.gte, gt=c.gt, lte=c.lte, lt=c.lt))

    def geo_radius(self, key, c):
        return self.qe.FieldCondition(key, geo_radius=self.qe.GeoRadius(self.qe.GeoPoint(lon=c.lon, lat=c.lat),
                                                                         c.radius_m))

    def filter(self, must, should, must_not):
        return self.qe.Filter(must=must, should=should, must_not=must_not)


class _ServerDialect(FilterDialect):
    def __init__(self, models):
        self.m = models

    def match(self, key, value):
        return self.m.FieldCondition(key=key, match=self.m.MatchValue(value=value))

    def match_any(self, key, values):
        return self.m.FieldCondition(key=key, match=self.m.MatchAny(any=values))

    def range(self, key, c):
        return self.m.FieldCondition(key=key, range=self.m.Range(gte=c.gte, gt=c.gt, lte=c.lte, lt=c.lt))

    def geo_radius(self, key, c):
        return self.m.FieldCondition(key=key, geo_radius=self.m.GeoRadius(
            center=self.m.GeoPoint(lat=c.lat, lon=c.lon), radius=c.radius_m))

    def filter(self, must, should, must_not):
        return self.m.Filter(must=must, should=should, must_not=must_not)


# ==================================================================================================
# Qdrant Edge (embedded)
# ==================================================================================================
class EdgeStore(VectorStore):
    generation_tracks_data = True

    def __init__(self, root: str | Path, *, reload_interval_s: float = 5.0, max_search_threads: int = 1,
                 keep_generations: int = 3, mmr_diversity: float | None = MMR_DIVERSITY,
                 prefetch_limit: int | None = None) -> None:
        import qdrant_edge as qe

        self._qe = qe
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.reload_interval_s = reload_interval_s
        self.max_search_threads = max_search_threads
        self.keep_generations = keep_generations
        self._readers: dict[str, tuple[str, Any]] = {}  # collection → (generation dir, shard)
        self._checked: dict[str, float] = {}
        self._writers: dict[str, tuple[str, Any]] = {}  # staged generation per collection
        self._optimized: set[str] = set()  # staged collections compacted already (finish_collection)
        self._lock = threading.RLock()
        self._build_lock_file = None
        self.mmr_diversity = mmr_diversity
        self.prefetch_limit = prefetch_limit

    # --- layout ---------------------------------------------------------------------------------
    def _coll_dir(self, name: str) -> Path:
        return self.root / name

    def _current(self, name: str) -> str | None:
        try:
            return (self._coll_dir(name) / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _publish(self, name: str, gen: str) -> None:
        tmp = self._coll_dir(name) / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(gen)
        os.replace(tmp, self._coll_dir(name) / "CURRENT")

    def _config(self, dim: int):
        qe = self._qe
        return qe.EdgeConfig(
            vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine,
                                                hnsw_config=qe.HnswIndexConfig(**EDGE_DENSE_GRAPH))},
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
            max_search_threads=self.max_search_threads,
            wal_enabled=False,
        )

    # --- reading --------------------------------------------------------------------------------
    def _reader(self, name: str):
        now = time.monotonic()
        with self._lock:
            entry = self._readers.get(name)
            if entry is not None and now - self._checked.get(name, 0.0) < self.reload_interval_s:
                return entry[1]
            self._checked[name] = now
            gen = self._current(name)
            if gen is None:
                return None
            if entry is not None and entry[0] == gen:
                return entry[1]
            shard = self._qe.EdgeShard.load(str(self._coll_dir(name) / gen))
            self._readers[name] = (gen, shard)
            if entry is not None:
                try:
                    entry[1].close()
                except Exception:  # pragma: no cover - best effort
                    pass
            return shard

    @property
    def generation(self) -> str:
        parts = []
        for n in COLLECTIONS:
            self._reader(n)  # re-reads CURRENT at most every reload_interval_s
            entry = self._readers.get(n)
            parts.append(f"{n}:{entry[0] if entry else None}")
        return "|".join(parts)

    def _shard_for_update(self, name: str):
        with self._lock:
            if name in self._writers:
                return self._writers[name][1]
        raise RuntimeError("EdgeStore updates must happen between begin_build() and commit_build()")

    # --- building -------------------------------------------------------------------------------
    def begin_build(self) -> None:
        lock_path = self.root / ".build.lock"
        self._build_lock_file = open(lock_path, "w")
        fcntl.flock(self._build_lock_file, fcntl.LOCK_EX)  # one builder at a time

    def ensure_collection(self, name: str, dim: int, *, fresh: bool = False) -> None:
        qe = self._qe
        with self._lock:
            if name in self._writers:
                return
            coll = self._coll_dir(name)
            coll.mkdir(parents=True, exist_ok=True)
            gen = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}"
            target = coll / gen
            current = self._current(name)
            if not fresh and current and (coll / current / "edge_config.json").exists():
                shutil.copytree(coll / current, target)
                shard = qe.EdgeShard.load(str(target))
                existing = shard.info().payload_schema
            else:
                shard = qe.EdgeShard.create(str(target), self._config(dim))
                existing = {}
            for fld, kind in PAYLOAD_INDEXES[name].items():
                if fld not in existing:
                    shard.update(qe.UpdateOperation.create_field_index(fld, self._schema(kind)))
            self._writers[name] = (gen, shard)

    def _schema(self, kind: str):
        t = self._qe.PayloadSchemaType
        return {"keyword": t.Keyword, "integer": t.Integer, "float": t.Float, "geo": t.Geo}[kind]

    def upsert(self, name: str, points: Sequence[PointData]) -> None:
        if not points:
            return
        qe = self._qe
        shard = self._shard_for_update(name)
        batch = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense is not None:
                vector[DENSE] = _floats(p.dense)
            if p.sparse is not None and not p.sparse.is_empty():
                vector[SPARSE] = qe.SparseVector(list(p.sparse.indices), list(p.sparse.values))
            batch.append(qe.Point(int(p.id), vector, p.payload))
        shard.update(qe.UpdateOperation.upsert_points(batch))

    def set_payload(self, name: str, point_id: int, payload: dict[str, Any]) -> None:
        qe = self._qe
        shard = self._shard_for_update(name)
        shard.update(qe.UpdateOperation.overwrite_payload([int(point_id)], payload))

    def delete(self, name: str, ids: Sequence[int]) -> None:
        if ids:
            self._shard_for_update(name).update(self._qe.UpdateOperation.delete_points([int(i) for i in ids]))

    def _scroll_all(self, shard, fields: list[str]) -> Iterator[Any]:
        offset = None
        while True:
            records, offset = shard.scroll(self._qe.ScrollRequest(offset=offset, limit=1000, with_payload=fields))
            yield from records
            if offset is None:
                break

    def fingerprints(self, name: str) -> dict[int, dict[str, Any]]:
        with self._lock:
            shard = self._writers[name][1] if name in self._writers else self._reader(name)
        if shard is None:
            return {}
        return {int(r.id): dict(r.payload or {}) for r in self._scroll_all(shard, FINGERPRINT_FIELDS)}

    def payload_values(self, name: str, key: str) -> list[Any]:
        shard = self._reader(name)
        if shard is None:
            return []
        return [(r.payload or {}).get(key) for r in self._scroll_all(shard, [key])]

    def count(self, name: str) -> int:
        with self._lock:
            shard = self._writers[name][1] if name in self._writers else self._reader(name)
        return 0 if shard is None else int(shard.info().points_count)

    def finish_collection(self, name: str) -> None:
        with self._lock:
            entry = self._writers.get(name)
        if entry is not None and name not in self._optimized:
            entry[1].optimize()
            self._optimized.add(name)

    def commit_build(self) -> None:
        with self._lock:
            writers, self._writers = self._writers, {}
            optimized, self._optimized = self._optimized, set()
            for name, (gen, shard) in writers.items():
                if name not in optimized:
                    shard.optimize()
                shard.flush()
                shard.close()
                self._publish(name, gen)
                self._checked.pop(name, None)
                self._prune(name)
        self._release_build_lock()

    def abort_build(self) -> None:
        with self._lock:
            writers, self._writers = self._writers, {}
            self._optimized = set()
            for name, (gen, shard) in writers.items():
                try:
                    shard.close()
                finally:
                    shutil.rmtree(self._coll_dir(name) / gen, ignore_errors=True)
        self._release_build_lock()

    def _release_build_lock(self) -> None:
        if self._build_lock_file is not None:
            fcntl.flock(self._build_lock_file, fcntl.LOCK_UN)
            self._build_lock_file.close()
            self._build_lock_file = None

    def _prune(self, name: str) -> None:
        """Keep the newest ``keep_generations`` generations (older readers may still hold one)."""
        coll = self._coll_dir(name)
        gens = sorted(p for p in coll.iterdir() if p.is_dir() and p.name.startswith("gen-"))
        current = self._current(name)
        for old in gens[: max(0, len(gens) - self.keep_generations)]:
            if old.name != current:
                shutil.rmtree(old, ignore_errors=True)

    # --- search ---------------------------------------------------------------------------------
    def search(self, name, *, dense, sparse, condition, limit, mode="hybrid", prefetch_limit=None,
               with_payload=True, weights=None, diverse=True) -> list[StoreHit]:
        qe = self._qe
        shard = self._reader(name)
        if shard is None:
            return []
        flt = _EdgeDialect(qe).translate(condition)
        has_sparse = sparse is not None and not sparse.is_empty()
        dense_q = qe.Query.Nearest(_floats(dense), using=DENSE) if dense is not None else None
        sparse_q = (qe.Query.Nearest(qe.SparseVector(list(sparse.indices), list(sparse.values)), using=SPARSE)
                    if has_sparse else None)
        if mode == "hybrid" and dense_q is not None and sparse_q is not None:
            pl = _prefetch_limit(limit, prefetch_limit or self.prefetch_limit)
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[qe.Prefetch(limit=pl, query=(
                                qe.Mmr(_floats(dense), self.mmr_diversity, _mmr_candidates(pl), using=DENSE)
                                if self.mmr_diversity is not None and diverse else dense_q), filter=flt),
                            qe.Prefetch(limit=pl, query=sparse_q, filter=flt)],
                query=qe.Fusion.Rrf(k=RRF_K, weights=list(weights) if weights else None),
                filter=flt,
                with_payload=with_payload,
            )
        else:
            query = sparse_q if mode == "sparse" else (dense_q or sparse_q)
            if query is None:
                return []
            request = qe.QueryRequest(limit=limit, query=query, filter=flt, with_payload=with_payload)
        return [StoreHit(int(p.id), float(p.score), dict(p.payload or {})) for p in shard.query(request)]

    def best_per_value(self, name, *, dense, sparse, condition, key, values, per_value) -> list[list[StoreHit]]:
        qe = self._qe
        shard = self._reader(name)
        if shard is None or not values:
            return [[] for _ in values]
        if dense is not None:
            query = qe.Query.Nearest(_floats(dense), using=DENSE)
        elif sparse is not None and not sparse.is_empty():
            query = qe.Query.Nearest(qe.SparseVector(list(sparse.indices), list(sparse.values)), using=SPARSE)
        else:
            return [[] for _ in values]
        filters = _EdgeDialect(qe).each_value(condition, key, values)
        requests = [qe.QueryRequest(limit=per_value, query=query, with_payload=True, filter=f) for f in filters]
        return [[StoreHit(int(p.id), float(p.score), dict(p.payload or {})) for p in points]
                for points in shard.query_batch(qe.QueryBatchRequest(requests))]

    def present_values(self, name, *, key, values, condition) -> set[str | int]:
        qe = self._qe
        shard = self._reader(name)
        if shard is None or not values:
            return set()
        flt = _EdgeDialect(qe).translate(Bool(must=(MatchAny(key, tuple(values)), *_nonempty(condition))))
        return {h.value for h in shard.facet(qe.FacetRequest(key, limit=len(values), exact=True, filter=flt)).hits}

    def close(self) -> None:
        with self._lock:
            for _, shard in self._readers.values():
                try:
                    shard.close()
                except Exception:  # pragma: no cover
                    pass
            self._readers.clear()
        if self._writers:
            self.abort_build()


# ==================================================================================================
# Qdrant server (qdrant-client)
# ==================================================================================================
class ServerStore(VectorStore):
    def __init__(self, client=None, *, url: str | None = None, api_key: str | None = None,
                 prefix: str = "naviyam_", mmr_diversity: float | None = MMR_DIVERSITY,
                 prefetch_limit: int | None = None) -> None:
        from qdrant_client import QdrantClient, models

        self._m = models
        self.client = client or QdrantClient(url=url, api_key=api_key, timeout=10, prefer_grpc=False)
        self.prefix = prefix
        self.mmr_diversity = mmr_diversity
        self.prefetch_limit = prefetch_limit
        self._generation = str(time.time_ns())

    def _name(self, name: str) -> str:
        return self.prefix + name

    def ensure_collection(self, name: str, dim: int, *, fresh: bool = False) -> None:
        # a server collection is written in place, point by point: ``fresh`` changes nothing here
        m = self._m
        coll = self._name(name)
        if not self.client.collection_exists(coll):
            self.client.create_collection(
                coll,
                vectors_config={DENSE: m.VectorParams(size=dim, distance=m.Distance.COSINE)},
                sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)},
            )
        kinds = {"keyword": m.PayloadSchemaType.KEYWORD, "integer": m.PayloadSchemaType.INTEGER,
                 "float": m.PayloadSchemaType.FLOAT, "geo": m.PayloadSchemaType.GEO}
        schema = self.client.get_collection(coll).payload_schema or {}
        for fld, kind in PAYLOAD_INDEXES[name].items():
            if fld not in schema:
                try:
                    with warnings.catch_warnings():  # local mode warns that indexes do nothing there
                        warnings.simplefilter("ignore", UserWarning)
                        self.client.create_payload_index(coll, fld, field_schema=kinds[kind])
                except Exception as exc:  # local mode ignores indexes; a server must accept them
                    log.debug("payload index %s.%s not created: %s", coll, fld, exc)

    def upsert(self, name: str, points: Sequence[PointData]) -> None:
        if not points:
            return
        m = self._m
        structs = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense is not None:
                vector[DENSE] = _floats(p.dense)
            if p.sparse is not None and not p.sparse.is_empty():
                vector[SPARSE] = m.SparseVector(indices=list(p.sparse.indices), values=list(p.sparse.values))
            structs.append(m.PointStruct(id=int(p.id), vector=vector, payload=p.payload))
        self.client.upsert(self._name(name), structs, wait=True)
        self._generation = str(time.time_ns())

    def set_payload(self, name: str, point_id: int, payload: dict[str, Any]) -> None:
        self.client.overwrite_payload(self._name(name), payload=payload, points=[int(point_id)], wait=True)
        self._generation = str(time.time_ns())

    def delete(self, name: str, ids: Sequence[int]) -> None:
        if ids:
            self.client.delete(self._name(name), points_selector=self._m.PointIdsList(points=[int(i) for i in ids]),
                               wait=True)
            self._generation = str(time.time_ns())

    def fingerprints(self, name: str) -> dict[int, dict[str, Any]]:
        coll = self._name(name)
        if not self.client.collection_exists(coll):
            return {}
        out: dict[int, dict[str, Any]] = {}
        offset = None
        while True:
            records, offset = self.client.scroll(coll, limit=1000, offset=offset,
                                                 with_payload=FINGERPRINT_FIELDS, with_vectors=False)
            for r in records:
                out[int(r.id)] = dict(r.payload or {})
            if offset is None:
                break
        return out

    def payload_values(self, name: str, key: str) -> list[Any]:
        coll = self._name(name)
        if not self.client.collection_exists(coll):
            return []
        out, offset = [], None
        while True:
            records, offset = self.client.scroll(coll, limit=1000, offset=offset, with_payload=[key],
                                                 with_vectors=False)
            out.extend((r.payload or {}).get(key) for r in records)
            if offset is None:
                return out

    def count(self, name: str) -> int:
        coll = self._name(name)
        if not self.client.collection_exists(coll):
            return 0
        return int(self.client.count(coll, exact=True).count)

    def search(self, name, *, dense, sparse, condition, limit, mode="hybrid", prefetch_limit=None,
               with_payload=True, weights=None, diverse=True) -> list[StoreHit]:
        m = self._m
        coll = self._name(name)
        flt = _ServerDialect(m).translate(condition)
        has_sparse = sparse is not None and not sparse.is_empty()
        sparse_v = m.SparseVector(indices=list(sparse.indices), values=list(sparse.values)) if has_sparse else None
        dense_v = _floats(dense) if dense is not None else None
        if mode == "hybrid" and dense_v is not None and sparse_v is not None:
            pl = _prefetch_limit(limit, prefetch_limit or self.prefetch_limit)
            dense_query = (m.NearestQuery(nearest=dense_v, mmr=m.Mmr(diversity=self.mmr_diversity,
                                                                     candidates_limit=_mmr_candidates(pl)))
                           if self.mmr_diversity is not None and diverse else dense_v)
            res = self.client.query_points(
                coll,
                prefetch=[m.Prefetch(query=dense_query, using=DENSE, filter=flt, limit=pl),
                          m.Prefetch(query=sparse_v, using=SPARSE, filter=flt, limit=pl)],
                query=m.RrfQuery(rrf=m.Rrf(k=RRF_K, weights=list(weights) if weights else None)),
                query_filter=flt, limit=limit, with_payload=with_payload,
            )
        else:
            if mode == "sparse" or dense_v is None:
                if sparse_v is None:
                    return []
                query, using = sparse_v, SPARSE
            else:
                query, using = dense_v, DENSE
            res = self.client.query_points(coll, query=query, using=using, query_filter=flt, limit=limit,
                                           with_payload=with_payload)
        return [StoreHit(int(p.id), float(p.score), dict(p.payload or {})) for p in res.points]

    def best_per_value(self, name, *, dense, sparse, condition, key, values, per_value) -> list[list[StoreHit]]:
        m = self._m
        if not values:
            return []
        if dense is not None:
            query, using = _floats(dense), DENSE
        elif sparse is not None and not sparse.is_empty():
            query, using = m.SparseVector(indices=list(sparse.indices), values=list(sparse.values)), SPARSE
        else:
            return [[] for _ in values]
        filters = _ServerDialect(m).each_value(condition, key, values)
        requests = [m.QueryRequest(query=query, using=using, limit=per_value, with_payload=True, filter=f)
                    for f in filters]
        return [[StoreHit(int(p.id), float(p.score), dict(p.payload or {})) for p in res.points]
                for res in self.client.query_batch_points(self._name(name), requests=requests)]

    def present_values(self, name, *, key, values, condition) -> set[str | int]:
        if not values:
            return set()
        flt = _ServerDialect(self._m).translate(Bool(must=(MatchAny(key, tuple(values)), *_nonempty(condition))))
        res = self.client.facet(self._name(name), key, facet_filter=flt, limit=len(values), exact=True)
        return {h.value for h in res.hits}

    @property
    def generation(self) -> str:
        return "server"  # a server is updated in place; cached results expire by TTL

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # pragma: no cover
            pass


def make_store(settings=None) -> VectorStore:
    """The store the settings name: a server when ``qdrant_url`` is set, else the edge shard."""
    if settings is None:
        from infra.settings import get_settings

        settings = get_settings()
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return ServerStore(url=settings.qdrant_url, api_key=key)
    return EdgeStore(settings.qdrant_path)


@contextmanager
def building(store: VectorStore) -> Iterator[VectorStore]:
    """``with building(store): ...`` stages updates and publishes them on success."""
    store.begin_build()
    try:
        yield store
    except BaseException:
        store.abort_build()
        raise
    store.commit_build()


__all__ = ["EdgeStore", "ServerStore", "VectorStore", "PointData", "StoreHit", "make_store", "building",
           "DENSE", "SPARSE", "COLLECTIONS"]
