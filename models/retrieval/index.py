"""Incremental index build: ``shops``/``menus`` in PostgreSQL → Qdrant collections.

Only changed documents are re-embedded: every document text is hashed (model + side + text) and
looked up in ``embedding_cache``; only texts whose hash is missing there are embedded, and the
new vectors are stored there. Points whose content, sparse vector or payload did not change are
not written again (each point carries ``content_hash``/``sparse_hash``/``payload_hash``); points of
deleted rows are removed. The spec's embedding columns (``shops.description_embedding``,
``shops.menu_summary_embedding``, ``menus.description_embedding``) are written for changed rows and
rows where they are NULL (the menu summary is the mean of the shop's menu vectors, not a text of its own).

Call ``build_index(engine)`` from the Dagster asset (or ``python -m models.retrieval.index``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Engine, text

from infra.progress import Progress
from models.embedding import TextEmbedder, get_embedder
from models.retrieval import sparse as sparse_mod
from models.retrieval.cache import UPSERT_EMBEDDING_SQL, _json_list, embedding_row, vector_json
from models.retrieval.documents import Doc, build_documents, content_hash
from models.retrieval.store import PointData, VectorStore, make_store
from models.retrieval.text import sha256_hex

log = logging.getLogger(__name__)

SHOP_COLUMNS = ("id, shop_name, category, address_name, is_good_influence_shop, is_food_card_shop, open_hour, "
                "close_hour, break_start_hour, break_end_hour, owner_message, latitude, longitude, current_status")
MENU_COLUMNS = "id, shop_id, menu_name, price, description, category, dietary_tags, meal_kind"
AVGDL_TOLERANCE = 0.15


@dataclass
class CollectionSummary:
    documents: int = 0
    upserted: int = 0
    payload_updated: int = 0
    deleted: int = 0
    avgdl: float = 0.0


@dataclass
class IndexSummary:
    shops: CollectionSummary = field(default_factory=CollectionSummary)
    menus: CollectionSummary = field(default_factory=CollectionSummary)
    texts: int = 0  # distinct document texts
    embedded: int = 0  # texts embedded in this run
    reused: int = 0  # texts whose vector came from embedding_cache
    pg_rows_updated: int = 0  # rows whose embedding columns were written
    generation: str = ""
    embedder: str = ""
    seconds: float = 0.0
    embed_seconds: float = 0.0  # from the first embedding to the last (the shops' part beside the menus' writes)
    # where the time went: documents (load, build, cache lookups), embed (the menus' texts, every
    # core), menus (Kiwi terms, sparse vectors, store writes; the shops' texts are embedded beside
    # them on the other core), embed_shops (what was left of the shops' texts, every core), shops,
    # publish, columns (PostgreSQL embedding columns, written beside the shops and publish stages:
    # what is left of them once those are done)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        # seconds to the millisecond: a float's 13 digits read as an ID number to the log redactor
        return {**asdict(self), "seconds": round(self.seconds, 3), "embed_seconds": round(self.embed_seconds, 3)}


def load_rows(engine: Engine) -> tuple[list[dict], list[dict]]:
    with engine.connect() as conn:
        shops = [dict(r._mapping) for r in conn.execute(text(f"SELECT {SHOP_COLUMNS} FROM shops ORDER BY id"))]
        menus = [dict(r._mapping) for r in conn.execute(text(f"SELECT {MENU_COLUMNS} FROM menus ORDER BY id"))]
    return shops, menus


def _chunks(items: Sequence, n: int) -> Iterable[Sequence]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def cached_embeddings(engine: Engine | None, embedder: TextEmbedder, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """The vectors ``embedding_cache`` holds for ``hashes`` (their ``last_accessed`` touched)."""
    vectors: dict[str, np.ndarray] = {}
    if engine is None:
        return vectors
    with engine.connect() as conn:
        for part in _chunks(list(hashes), 2000):
            rows = conn.execute(text(
                "SELECT content_hash, embedding_vector FROM embedding_cache WHERE content_hash = ANY(:hs)"
                " AND is_valid AND embedding_model = :m AND embedding_dimension = :d"),
                {"hs": list(part), "m": embedder.name, "d": embedder.dim})
            for h, vec in rows:
                vectors[h] = np.asarray(_json_list(vec), dtype=np.float32)
    if vectors:
        with engine.begin() as conn:
            for part in _chunks(list(vectors), 5000):
                conn.execute(text("UPDATE embedding_cache SET last_accessed = now() WHERE content_hash = ANY(:hs)"),
                             {"hs": list(part)})
    return vectors


class BatchEmbedding:
    """Embeds ``missing`` (hashes of ``texts``: hash → (content_type, text)) shortest first,
    ``batch_size`` per call, storing each call's vectors in ``embedding_cache`` at once (an
    interrupted build keeps them); neighbours in length share a batch, so the runtime pads little.

    ``run()`` embeds them all on the calling thread with every core. ``run_beside()``, on a side
    thread, embeds batches on one core until ``finish()``, on the caller's thread, takes over what is
    left with every core: the caller does single-threaded work on the other core meanwhile."""

    def __init__(self, engine: Engine | None, embedder: TextEmbedder, texts: dict[str, tuple[str, str]],
                 missing: Sequence[str], batch_size: int, progress: Progress) -> None:
        self.engine, self.embedder, self.texts, self.progress = engine, embedder, texts, progress
        self.vectors: dict[str, np.ndarray] = {}
        ordered = sorted(missing, key=lambda h: len(texts[h][1]))
        self._batches = deque(ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size))
        self._handed_over = threading.Event()

    def _embed(self, part: Sequence[str]) -> None:
        start = time.perf_counter()
        matrix = self.embedder.embed_passages([self.texts[h][1] for h in part])
        per_doc_ms = (time.perf_counter() - start) * 1000 / max(1, len(part))
        rows = []
        for h, vec in zip(part, matrix):
            self.vectors[h] = vec
            rows.append(embedding_row(h, self.texts[h][0], self.texts[h][1], vec, self.embedder.name, per_doc_ms))
        if self.engine is not None:
            with self.engine.begin() as conn:
                conn.execute(text(UPSERT_EMBEDDING_SQL), rows)
        self.progress.update(len(part))

    def run(self) -> dict[str, np.ndarray]:
        while self._batches:
            self._embed(self._batches.popleft())
        return self.vectors

    def run_beside(self) -> None:
        with self.embedder.one_thread():
            while not self._handed_over.is_set():
                try:
                    part = self._batches.popleft()
                except IndexError:
                    return
                self._embed(part)

    def stop(self, beside: Future | None) -> None:
        """Stop the side thread after its current batch (what it embedded is stored)."""
        self._handed_over.set()
        if beside is not None:
            beside.result()

    def finish(self, beside: Future | None) -> dict[str, np.ndarray]:
        """Stop the side thread after its current batch and embed the rest here."""
        self.stop(beside)
        return self.run()


def resolve_embeddings(
    engine: Engine | None, embedder: TextEmbedder, texts: dict[str, tuple[str, str]], *, batch_size: int = 256,
    summary: IndexSummary | None = None,
) -> dict[str, np.ndarray]:
    """content_hash → vector for ``texts`` (hash → (content_type, text)), embedding only what
    ``embedding_cache`` lacks (``BatchEmbedding``) and storing what was embedded."""
    vectors = cached_embeddings(engine, embedder, list(texts))
    missing = [h for h in texts if h not in vectors]
    if summary is not None:
        summary.reused += len(vectors)
        summary.embedded += len(missing)
    t0 = time.perf_counter()
    with Progress("embed documents", total=len(missing), unit="docs", mode="off" if not missing else None) as bar:
        vectors.update(BatchEmbedding(engine, embedder, texts, missing, batch_size, bar).run())
    if summary is not None:
        summary.embed_seconds += time.perf_counter() - t0
    return vectors


def _sparse_hash(vec: sparse_mod.SparseVec) -> str:
    return sha256_hex(",".join(map(str, vec.indices)), ",".join(map(str, vec.values)))[:16]


def _content_changed(docs: Sequence[Doc], hash_of: dict[int, str], existing: dict[int, dict[str, Any]]) -> set[int]:
    """Ids of ``docs`` whose dense text is new or differs from the stored point's."""
    return {d.id for d in docs if (existing.get(d.id) or {}).get("content_hash") != hash_of[d.id]}


def _sync_collection(store: VectorStore, name: str, docs: list[Doc], dense: dict[str, np.ndarray],
                     hash_of: dict[int, str], dim: int, full: bool, out: CollectionSummary,
                     staged: list[bool], existing: dict[int, dict[str, Any]]) -> None:
    """Bring collection ``name`` (whose points' fingerprints are ``existing``) in line with ``docs``.

    Kiwi runs only on documents whose sparse text changed: an unchanged one (same ``payload_hash``,
    which covers the sparse text) keeps its stored term count ``doc_len`` for BM25's average, and
    its sparse vector is rebuilt only if that average moved. A refresh with nothing changed
    analyses nothing (at ×10, Kiwi on 277k menus was most of a refresh)."""
    terms_of: dict[int, list[str]] = {}

    def doc_terms(doc: Doc) -> list[str]:
        if doc.id not in terms_of:
            terms_of[doc.id] = sparse_mod.terms_of_parts([doc.lexical_parts])[0]
        return terms_of[doc.id]

    def stored_len(doc: Doc) -> int | None:
        """The term count the point keeps, when its sparse text is unchanged (no analysis needed)."""
        old = existing.get(doc.id)
        if not full and old and old.get("payload_hash") == doc.payload_hash and old.get("doc_len") is not None:
            return int(old["doc_len"])
        return None

    def doc_len(doc: Doc) -> int:
        stored = stored_len(doc)
        return stored if stored is not None else sum(1 for t in doc_terms(doc) if not t.startswith("P:"))

    # the documents whose terms are needed, analysed together (Kiwi's batch mode; repeats once)
    fresh = [d for d in docs if stored_len(d) is None]
    terms_of.update(zip((d.id for d in fresh), sparse_mod.terms_of_parts([d.lexical_parts for d in fresh])))
    lengths = [doc_len(d) for d in docs]
    avgdl = float(round(np.mean(lengths))) if lengths else 1.0
    # BM25's average document length is sticky: a small drift must not rewrite every sparse vector
    previous = Counter(fp.get("avgdl") for fp in existing.values() if fp.get("avgdl")).most_common(1)
    if previous and not full and abs(avgdl - previous[0][0]) <= AVGDL_TOLERANCE * previous[0][0]:
        avgdl = float(previous[0][0])
    out.documents = len(docs)
    out.avgdl = avgdl
    upserts: list[PointData] = []
    payload_updates: list[tuple[int, dict]] = []
    for doc, length in zip(docs, lengths):
        old = existing.get(doc.id)
        unchanged = (not full and old is not None and old.get("content_hash") == hash_of[doc.id]
                     and old.get("payload_hash") == doc.payload_hash and old.get("avgdl") == avgdl
                     and old.get("doc_len") == length)
        if unchanged:  # same dense text, same sparse text, same average: nothing to encode or write
            continue
        sp = sparse_mod.encode_document(doc_terms(doc), avgdl)
        payload = dict(doc.payload)
        payload.update({"content_hash": hash_of[doc.id], "payload_hash": doc.payload_hash,
                        "sparse_hash": _sparse_hash(sp), "avgdl": avgdl, "doc_len": length})
        if full or old is None or old.get("content_hash") != payload["content_hash"] \
                or old.get("sparse_hash") != payload["sparse_hash"]:
            upserts.append(PointData(doc.id, dense[hash_of[doc.id]], sp, payload))
        else:  # payload fields changed (or a point written before doc_len existed)
            payload_updates.append((doc.id, payload))
    current_ids = {d.id for d in docs}
    deletes = [i for i in existing if i not in current_ids]
    needs_collection = full or (not existing and store.count(name) == 0)
    if upserts or payload_updates or deletes or needs_collection:
        if not staged[0]:
            store.begin_build()
            staged[0] = True
        store.ensure_collection(name, dim, fresh=full)
        for part in _chunks(upserts, 256):
            store.upsert(name, list(part))
        for pid, payload in payload_updates:
            store.set_payload(name, pid, payload)
        if not full:  # a full rebuild writes a fresh collection: what is gone was never carried over
            store.delete(name, deletes)
    out.upserted, out.payload_updated, out.deleted = len(upserts), len(payload_updates), len(deletes)


def build_index(
    engine: Engine,
    *,
    store: VectorStore | None = None,
    embedder: TextEmbedder | None = None,
    full: bool = False,
    batch_size: int = 256,
    write_embedding_columns: bool = True,
    shops: list[dict] | None = None,
    menus: list[dict] | None = None,
) -> IndexSummary:
    """Index the ``shops`` and ``menus`` tables (or the given rows) into the vector store.

    ``full=True`` rewrites every point (embeddings still come from ``embedding_cache`` when there).
    Returns counts of what was embedded, reused, written and deleted."""
    started = time.perf_counter()
    embedder = embedder or get_embedder()
    own_store = store is None
    store = store or make_store()
    summary = IndexSummary(embedder=embedder.name)
    stage = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal stage
        now = time.perf_counter()
        summary.stage_seconds[name] = round(now - stage, 2)
        stage = now

    if shops is None or menus is None:
        shops, menus = load_rows(engine)
    shop_docs, menu_docs = build_documents(shops, menus)
    lap("documents")

    shop_texts: dict[str, tuple[str, str]] = {}
    menu_texts: dict[str, tuple[str, str]] = {}
    shop_hash: dict[int, str] = {}
    menu_hash: dict[int, str] = {}
    for d in shop_docs:
        shop_hash[d.id] = content_hash(embedder.name, d.content_type, d.text)
        shop_texts[shop_hash[d.id]] = (d.content_type, d.text)
    for d in menu_docs:
        menu_hash[d.id] = content_hash(embedder.name, d.content_type, d.text)
        menu_texts[menu_hash[d.id]] = (d.content_type, d.text)
    summary.texts = len(shop_texts.keys() | menu_texts.keys())
    vectors = cached_embeddings(engine, embedder, list(shop_texts.keys() | menu_texts.keys()))
    missing_menus = [h for h in menu_texts if h not in vectors]
    missing_shops = [h for h in shop_texts if h not in vectors and h not in menu_texts]
    summary.reused, summary.embedded = len(vectors), len(missing_menus) + len(missing_shops)
    # Side work runs on a second thread while this one is busy: the shops' texts are embedded on one
    # core while this thread analyses, writes and compacts the menus on the other (Kiwi and Qdrant,
    # one core's work); PostgreSQL's embedding columns are written (the database server's work)
    # while the shops are written and published. Kiwi loads when the menus need it: loaded beside
    # the two-thread embedding it made three busy threads on two cores
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-side") as side, \
            Progress("embed documents", total=summary.embedded, unit="docs",
                     mode="off" if not summary.embedded else None) as bar:
        embedding_started = time.perf_counter()
        vectors.update(BatchEmbedding(engine, embedder, menu_texts, missing_menus, batch_size, bar).run())
        lap("embed")
        shops_embedding = BatchEmbedding(engine, embedder, shop_texts, missing_shops, batch_size, bar)
        beside = side.submit(shops_embedding.run_beside) if missing_shops and embedder.can_limit_threads else None
        staged = [False]
        try:
            try:
                existing = {name: store.fingerprints(name) for name in ("shops", "menus")}
                _sync_collection(store, "menus", menu_docs, vectors, menu_hash, embedder.dim, full, summary.menus,
                                 staged, existing["menus"])
                if staged[0]:
                    store.finish_collection("menus")
                lap("menus")
            except BaseException:
                shops_embedding.stop(beside)  # a failed or interrupted build stops after the current batch
                raise
            vectors.update(shops_embedding.finish(beside))
            summary.embed_seconds = time.perf_counter() - embedding_started
            lap("embed_shops")
            summaries = menu_summary_vectors(menu_docs, vectors, menu_hash)
            shop_points, shop_point_hash = shop_point_vectors(shop_docs, menu_docs, vectors, shop_hash, menu_hash,
                                                              summaries)
            columns = (side.submit(_write_embedding_columns, engine, shop_docs, menu_docs, vectors, shop_hash,
                                   menu_hash, summaries, _content_changed(shop_docs, shop_point_hash, existing["shops"]),
                                   _content_changed(menu_docs, menu_hash, existing["menus"]), full)
                       if write_embedding_columns and engine is not None else None)
            _sync_collection(store, "shops", shop_docs, shop_points, shop_point_hash, embedder.dim, full,
                             summary.shops, staged, existing["shops"])
            lap("shops")
            if staged[0]:
                store.commit_build()
            lap("publish")
        except BaseException:
            if staged[0]:
                store.abort_build()
            raise
        if columns is not None:
            summary.pg_rows_updated = columns.result()
            lap("columns")
    summary.generation = store.generation
    summary.seconds = time.perf_counter() - started
    if own_store:
        store.close()
    log.info("index build: %s", summary.as_dict())
    return summary


def menu_summary_vectors(menu_docs: Sequence[Doc], vectors: dict[str, np.ndarray],
                         menu_hash: dict[int, str]) -> dict[int, np.ndarray]:
    """``shops.menu_summary_embedding``: the normalised mean of the shop's menu vectors.

    It summarises what the shop sells in the same space as its menus, and costs no embedding: the
    menu list used to be embedded as a text of its own, a third of a first build's documents for a
    column no search reads."""
    sums: dict[int, np.ndarray] = {}
    for d in menu_docs:
        shop_id = int(d.payload["shop_id"])
        vec = vectors[menu_hash[d.id]]
        sums[shop_id] = sums[shop_id] + vec if shop_id in sums else vec.astype(np.float32, copy=True)
    return {sid: v / (np.linalg.norm(v) or 1.0) for sid, v in sums.items()}


def shop_point_vectors(shop_docs: Sequence[Doc], menu_docs: Sequence[Doc], vectors: dict[str, np.ndarray],
                       shop_hash: dict[int, str], menu_hash: dict[int, str],
                       summaries: dict[int, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[int, str]]:
    """The shop points' dense vectors and their fingerprints: (key → vector, shop id → key).

    A shop point is what the shop says of itself and what it sells: the normalised sum of its
    description vector and its menu summary, at no embedding cost. Its key hashes the description
    and every menu text of the shop, so a changed menu rewrites the shop's point in a refresh."""
    menus_of: dict[int, list[str]] = {}
    for d in menu_docs:
        menus_of.setdefault(int(d.payload["shop_id"]), []).append(menu_hash[d.id])
    points: dict[str, np.ndarray] = {}
    keys: dict[int, str] = {}
    for d in shop_docs:
        key = sha256_hex(shop_hash[d.id], *sorted(menus_of.get(d.id, ())))
        keys[d.id] = key
        if key not in points:
            points[key] = shop_point_vector(vectors[shop_hash[d.id]], summaries.get(d.id))
    return points, keys


def shop_point_vector(description: np.ndarray, menu_summary: np.ndarray | None) -> np.ndarray:
    """The normalised sum of a shop's description vector and its menu summary (the description alone
    for a shop without menus)."""
    if menu_summary is None:
        return np.asarray(description, dtype=np.float32)
    v = np.asarray(description, dtype=np.float32) + menu_summary
    return v / (np.linalg.norm(v) or 1.0)


def _write_embedding_columns(engine, shop_docs, menu_docs, vectors, shop_hash, menu_hash, summaries,
                             changed_shops, changed_menus, full) -> int:
    with engine.connect() as conn:
        null_shops = {r[0] for r in conn.execute(text(
            "SELECT id FROM shops WHERE description_embedding IS NULL OR menu_summary_embedding IS NULL"))}
        null_menus = {r[0] for r in conn.execute(text("SELECT id FROM menus WHERE description_embedding IS NULL"))}
    # a changed menu changes its shop's summary even when the shop's own text is the same
    summary_changed = {int(d.payload["shop_id"]) for d in menu_docs if d.id in changed_menus}
    staged = _StagedVectors()
    shop_rows = []
    for d in shop_docs:
        if full or d.id in changed_shops or d.id in summary_changed or d.id in null_shops:
            ms = summaries.get(d.id)
            shop_rows.append((d.id, staged.key(shop_hash[d.id], vectors[shop_hash[d.id]]),
                              staged.key(f"summary:{d.id}", ms) if ms is not None else None))
    menu_rows = [(d.id, staged.key(menu_hash[d.id], vectors[menu_hash[d.id]])) for d in menu_docs
                 if full or d.id in changed_menus or d.id in null_menus]
    if shop_rows or menu_rows:
        with engine.begin() as conn:
            staged.copy(conn)
            _update_by_copy(conn, "shops", ("description_embedding", "menu_summary_embedding"), shop_rows)
            _update_by_copy(conn, "menus", ("description_embedding",), menu_rows)
    return len(shop_rows) + len(menu_rows)


STAGED_VECTORS = "staged_embedding_vectors"


class _StagedVectors:
    """The distinct vectors a column write needs, numbered: the ×1 sample's 27,642 menus hold
    1,927 vectors, so the rows name a vector by number and each vector's JSON crosses to
    PostgreSQL once (sending every row's own copy, 135 MB, took 4.5 of a first build's seconds)."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._rows: list[tuple[int, str]] = []

    def key(self, name: str, vector: np.ndarray) -> int:
        number = self._numbers.get(name)
        if number is None:
            number = self._numbers[name] = len(self._rows)
            self._rows.append((number, vector_json(vector)))
        return number

    def copy(self, conn) -> None:
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {STAGED_VECTORS} (k integer PRIMARY KEY, v jsonb) ON COMMIT DROP")
            with cur.copy(f"COPY {STAGED_VECTORS} (k, v) FROM STDIN") as copy:
                for row in self._rows:
                    copy.write_row(row)


def _update_by_copy(conn, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """``UPDATE table SET columns`` for ``rows`` of (id, vector number or None, ...) naming rows of
    the staged vectors (``_StagedVectors``): one COPY into a temporary table and one joined UPDATE,
    not a statement per row (the 30k rows of the sample's first build: 17 s as batched UPDATEs)."""
    if not rows:
        return
    staged = f"staged_{table}_embeddings"
    keys = [f"k{i}" for i in range(len(columns))]
    with conn.connection.driver_connection.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {staged} (id integer PRIMARY KEY, "
                    f"{', '.join(f'{k} integer' for k in keys)}) ON COMMIT DROP")
        with cur.copy(f"COPY {staged} (id, {', '.join(keys)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        joins = " ".join(f"LEFT JOIN {STAGED_VECTORS} v{i} ON v{i}.k = s.{k}" for i, k in enumerate(keys))
        cur.execute(f"UPDATE {table} t SET {', '.join(f'{c} = v{i}.v' for i, c in enumerate(columns))} "
                    f"FROM {staged} s {joins} WHERE t.id = s.id")


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - thin CLI
    import argparse
    import json

    from infra.db import get_engine

    parser = argparse.ArgumentParser(description="Build the shops/menus vector index from PostgreSQL.")
    parser.add_argument("--full", action="store_true", help="rewrite every point")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(json.dumps(build_index(get_engine(), full=args.full).as_dict(), ensure_ascii=False, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
