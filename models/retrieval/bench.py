"""Retrieval benchmark: quality on the labelled query set and latency, per scale.

    python -m models.retrieval.bench                      # sample data at the configured scale
    python -m models.retrieval.bench --scale 10 --collections menus
    python -m models.retrieval.bench --demo               # the hand-made demo set (latency only)

Quality: recall@10, MRR@10, nDCG@10 over menus for dense only, sparse only and hybrid (see
``evalset`` for the queries and grades). recall@10 = relevant (grade 2) menus in the top 10 divided
by min(10, all relevant menus), since most queries have hundreds of relevant menus; MRR@10 counts
the first grade-2 menu; nDCG@10 uses gains 2^grade − 1 against the ideal ranking of the whole
catalogue.

Each mode's MRR@10 and recall@10 are also broken down by query type (``*_by_kind``) and drawn as
bars (``x<scale>-by-query-type-<set>.png`` beside the report); the report and the figures are
logged as an MLflow run of the ``naviyam-retrieval`` experiment.

Latency (ms, p50/p99 over the query set): ``miss`` = embed + sparse-encode + hybrid search with
the L2/L3 lookups that miss when Redis/PostgreSQL are there; ``search`` = the Qdrant query alone
(filtered and not); ``hit_l1``/``hit_l2``/``hit_l3`` = result-cache hits at each level.

Embeddings of documents are kept in ``embedding_cache`` of a benchmark database
(``<pg_database>_bench``, created and migrated on first use) so later runs only embed what changed.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("models.retrieval.bench")


def _pct(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "n": 0}
    arr = np.asarray(values)
    return {"p50": round(float(np.percentile(arr, 50)), 3), "p99": round(float(np.percentile(arr, 99)), 3),
            "mean": round(float(arr.mean()), 3), "n": int(arr.size)}


def _bench_engine(name: str | None = None):
    """A migrated benchmark database (``<pg_database>_bench``), or None when PostgreSQL is not reachable."""
    try:
        from infra.db import get_engine
        from infra.schema import create_database, prepare, table_names
        from infra.settings import get_settings

        settings = get_settings()
        name = name or f"{settings.pg_database}_bench"
        create_database(settings, name)
        engine = get_engine(settings.sqlalchemy_url(name))
        if "embedding_cache" not in table_names(engine):
            prepare(engine, settings)
        return engine
    except Exception as exc:  # noqa: BLE001 - the bench still runs without a database
        log.warning("no benchmark database (%s); embeddings are not cached between runs", exc)
        return None


def _dev_grader(queries, truth, roles):
    from models.retrieval.evalset import grade, grade_all, set_dish_categories, truth_table

    set_dish_categories(truth)
    table = truth_table(truth, roles)
    # a menu without truth (added after the sample, e.g. by a live shop registration) is ungraded: 0
    return (lambda q, menu_id: grade(q, truth[menu_id], roles.get(menu_id)) if menu_id in truth else 0), [
        grade_all(q, table) for q in queries]


def _need_grader(queries, truth, roles):
    from models.retrieval.graded import need_grade, need_grade_all, need_table

    table = need_table(truth, roles)
    return (lambda q, menu_id: need_grade(q, truth[menu_id], roles.get(menu_id)) if menu_id in truth else 0), [
        need_grade_all(q, table) for q in queries]


def evaluate(retriever, queries, truth, roles, modes=("dense", "sparse", "hybrid"), k=10, *,
             query_set: str = "dev") -> dict[str, Any]:
    """recall@k / MRR@k / nDCG@k of each mode on the dev (``evalset``) set or a set graded by need
    (``meaningset``, ``blindset``)."""
    grade_one, all_grades = (_dev_grader if query_set == "dev" else _need_grader)(queries, truth, roles)
    ideal = [sorted(g.tolist(), reverse=True)[:k] for g in all_grades]
    relevant_total = [int((g == 2).sum()) for g in all_grades]
    out: dict[str, Any] = {}
    vectors = {q.text: retriever.embed_query(q.text) for q in queries}
    for mode in modes:
        recalls, rrs, ndcgs, latency = [], [], [], []
        rr_by_kind: dict[str, list[float]] = {}
        recall_by_kind: dict[str, list[float]] = {}
        for q, ideal_q, total in zip(queries, ideal, relevant_total):
            t0 = time.perf_counter()
            hits = retriever.search(q.text, q.filters, limit=k, query_vector=vectors[q.text], mode=mode,
                                    use_cache=False)
            latency.append((time.perf_counter() - t0) * 1000)
            grades = [grade_one(q, h.id) for h in hits]
            found = sum(1 for g in grades if g == 2)
            recall = found / min(k, total) if total else 0.0
            rr = next((1.0 / (i + 1) for i, g in enumerate(grades) if g == 2), 0.0)
            dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))
            idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal_q))
            ndcg = dcg / idcg if idcg else 0.0
            recalls.append(recall)
            rrs.append(rr)
            ndcgs.append(ndcg)
            rr_by_kind.setdefault(q.kind, []).append(rr)
            recall_by_kind.setdefault(q.kind, []).append(recall)
        out[mode] = {
            "recall@10": round(float(np.mean(recalls)), 4),
            "mrr@10": round(float(np.mean(rrs)), 4),
            "ndcg@10": round(float(np.mean(ndcgs)), 4),
            "mrr@10_by_kind": {kind: round(float(np.mean(v)), 4) for kind, v in sorted(rr_by_kind.items())},
            "recall@10_by_kind": {kind: round(float(np.mean(v)), 4) for kind, v in sorted(recall_by_kind.items())},
            "search_ms": _pct(latency),
        }
    retriever.flush()
    out["queries"] = len(queries)
    out["queries_without_relevant"] = sum(1 for t in relevant_total if t == 0)
    return out


def score(retriever, truth: dict[int, dict], menus: list[dict], *, query_sets=("dev", "meaning", "blind"),
          weights: list[tuple[float, float]] | None = None) -> dict[str, Any]:
    """Quality of ``retriever`` graded against the hidden ``truth`` of ``menus``: ``quality`` (the
    dev set, with each of the extra fusion ``weights`` tried on it), ``quality_meaning`` (the
    meaning dev set) and ``quality_blind``.

    Weights are tried on the dev set only; the blind set is always scored with the retriever's own
    fusion weights, so nothing chosen on it can flatter it."""
    from models.retrieval.blindset import build_blind_queries
    from models.retrieval.evalset import build_queries
    from models.retrieval.meaningset import build_meaning_queries

    started = time.perf_counter()
    roles = {int(m["id"]): m.get("category") for m in menus}
    queries = build_queries(truth)
    out: dict[str, Any] = {"eval_queries": len(queries)}
    own_weights = retriever.fusion_weights
    if "dev" in query_sets:
        out["quality"] = evaluate(retriever, queries, truth, roles)
        for w in weights or []:
            retriever.fusion_weights = w
            out["quality"][f"hybrid_w{w[0]:g}_{w[1]:g}"] = evaluate(
                retriever, queries, truth, roles, modes=("hybrid",))["hybrid"]
        retriever.fusion_weights = own_weights
    if "meaning" in query_sets:
        out["quality_meaning"] = evaluate(retriever, build_meaning_queries(), truth, roles, query_set="meaning")
    if "blind" in query_sets:
        out["quality_blind"] = evaluate(retriever, build_blind_queries(), truth, roles, query_set="blind")
    out["quality_s"] = round(time.perf_counter() - started, 1)
    return out


def measure_latency(make_retriever, queries, *, target="menus", repeats=1) -> dict[str, Any]:
    """Latencies in ms. ``make_retriever()`` gives a retriever with empty in-process caches."""
    from infra.redis_client import key as rkey

    texts = [q.text for q in queries]
    filters = [q.filters for q in queries]
    res: dict[str, Any] = {}

    # cold: every query embedding computed, every result searched (L2/L3 looked up, missing)
    r = make_retriever()
    r.search("워밍업 떡볶이", limit=10, target=target)  # first-call costs (Kiwi, engine, connections)
    miss, embed, search = [], [], []
    for text, flt in zip(texts, filters):
        t0 = time.perf_counter()
        r.search(text, flt, limit=10, target=target)
        miss.append((time.perf_counter() - t0) * 1000)
        embed.append(r.last_trace.embed_ms)
        search.append(r.last_trace.search_ms)
        assert r.last_trace.result_cache in ("miss", "off") and r.last_trace.embedding == "miss", r.last_trace
    res["miss_embed_search"] = _pct(miss)
    res["miss_embed_part"] = _pct(embed)
    res["miss_search_part"] = _pct(search)
    r.flush()

    # the Qdrant query alone, with a precomputed vector, no result cache
    vecs = [r.embed_query(t) for t in texts]
    for label, flt_of in (("search_hybrid_unfiltered", lambda f: None), ("search_hybrid_filtered", lambda f: {
            **f, "food_card_only": True})):
        for mode in ("hybrid", "dense", "sparse") if label.endswith("unfiltered") else ("hybrid",):
            times = []
            for _ in range(repeats):
                for text, f, v in zip(texts, filters, vecs):
                    r.search(text, flt_of(f), limit=10, query_vector=v, mode=mode, target=target, use_cache=False)
                    times.append(r.last_trace.search_ms)
            res[label.replace("hybrid", mode)] = _pct(times)

    if r.store.count("shops"):
        times = []
        for text, f, v in zip(texts, filters, vecs):
            r.search(text, f, limit=10, query_vector=v, target="shops", use_cache=False)
            times.append(r.last_trace.search_ms)
        res["search_shops_hybrid_filtered"] = _pct(times)

    # result-cache hits: L1 (same process), L2 (new process, Redis), L3 (new process, Redis emptied)
    hit1 = []
    for text, flt in zip(texts, filters):
        t0 = time.perf_counter()
        r.search(text, flt, limit=10, target=target)
        hit1.append((time.perf_counter() - t0) * 1000)
        assert r.last_trace.result_cache == "l1"
    res["hit_l1"] = _pct(hit1)
    r.flush()
    if r.redis.enabled:
        r2 = make_retriever()
        hit2 = []
        for text, flt in zip(texts, filters):
            t0 = time.perf_counter()
            r2.search(text, flt, limit=10, target=target)
            hit2.append((time.perf_counter() - t0) * 1000)
        res["hit_l2"] = _pct(hit2)
        res["hit_l2_levels"] = dict(r2.results.stats.as_dict())
        r2.flush()
        if r.db.enabled:
            client = r.redis._client
            if client is not None:
                for k in client.scan_iter(match=rkey("rag", "*"), count=1000):
                    client.delete(k)
            r3 = make_retriever()
            hit3 = []
            for text, flt in zip(texts, filters):
                t0 = time.perf_counter()
                r3.search(text, flt, limit=10, target=target)
                hit3.append((time.perf_counter() - t0) * 1000)
            res["hit_l3"] = _pct(hit3)
            res["hit_l3_levels"] = dict(r3.results.stats.as_dict())
            r3.flush()
    return res


def run(scale: float, *, seed: int | None, collections: list[str], demo: bool, quality: bool, out_dir: Path,
        use_db: bool, use_redis: bool, weights: list[tuple[float, float]] | None = None,
        query_sets: tuple[str, ...] = ("dev", "meaning", "blind"), latency: bool = True) -> dict[str, Any]:
    from infra.settings import get_settings
    from models.embedding import get_embedder
    from models.retrieval import sparse as sparse_mod
    from models.retrieval.evalset import build_queries
    from models.retrieval.index import build_index
    from models.retrieval.retriever import Retriever
    from models.retrieval.store import EdgeStore

    settings = get_settings()
    report: dict[str, Any] = {"scale": scale, "collections": collections}
    t0 = time.perf_counter()
    if demo:
        from models.retrieval import demo_data

        shops, menus = demo_data.shop_rows(), demo_data.menu_rows()
        truth = None
        report["data"] = "demo (hand-made)"
    else:
        from models.retrieval.sample import load_catalog

        cat = load_catalog(seed, scale)
        shops, menus, truth = cat.shops, cat.menus, cat.truth
        report["data"] = f"{cat.source} seed={cat.seed} scale={cat.scale}"
    report["shops"], report["menus"] = len(shops), len(menus)
    report["load_s"] = round(time.perf_counter() - t0, 1)

    engine = _bench_engine() if use_db else None
    embedder = get_embedder()
    sparse_mod.warm_up()
    store_dir = out_dir / f"qdrant-{'demo' if demo else f'x{scale:g}'}"
    store = EdgeStore(store_dir, reload_interval_s=0)
    if collections == ["menus"]:
        # only the menu collection: shops are indexed without the shop collection's embeddings
        from models.retrieval import index as index_mod

        summary = _build_menus_only(index_mod, engine, store, embedder, shops, menus)
    else:
        summary = build_index(engine, store=store, embedder=embedder, shops=shops, menus=menus,
                              write_embedding_columns=False)
    report["index"] = summary.as_dict()
    report["points"] = {c: store.count(c) for c in ("shops", "menus")}
    log.info("index: %s", report["index"])

    redis_factory = None
    if use_redis:
        from infra.redis_client import get_redis

        redis_factory = get_redis

    def make_retriever():
        return Retriever(store=store, embedder=embedder, engine=engine, redis_factory=redis_factory)

    if truth is not None:
        queries = build_queries(truth)
        report["eval_queries"] = len(queries)
        if quality:
            report.update(score(make_retriever(), truth, menus, query_sets=query_sets, weights=weights))
    else:
        from models.retrieval.evalset import EvalQuery, nlu_standin

        texts = ["떡볶이 먹고 싶어", "떡뽁이", "5천원이하 김밥", "짜장면", "돈가스 추천", "국밥 한 그릇", "피자",
                 "매운 거 먹고 싶어", "빵집", "쌀국수", "라멘 맛집", "김밥 먹을래", "치킨", "죽", "삼겹살"]
        queries = [EvalQuery(t, "demo", filters=nlu_standin(t)) for t in texts * 4]
        queries = [EvalQuery(f"{q.text} {i // len(texts) or ''}".strip(), "demo", filters=q.filters)
                   for i, q in enumerate(queries)]
    _forget_query_caches(engine, redis_factory)
    # one query per distinct embedded text: two phrasings of one request ("떡볶이 먹을래", "떡볶이
    # 먹고 싶어") share a cached vector, so only the first of them is a miss
    from models.retrieval.sparse import dense_query
    from models.retrieval.text import normalize_query

    seen: set[str] = set()
    unique = [q for q in queries if not ((d := dense_query(normalize_query(q.text))) in seen or seen.add(d))]
    report["latency_queries"] = len(unique)
    if latency:
        report["latency"] = measure_latency(make_retriever, unique)
    report["cache_levels"] = {"redis": bool(redis_factory), "postgres": engine is not None}
    report["embedder"] = embedder.name
    report["omp_threads"] = os.environ.get("OMP_NUM_THREADS", "default")
    report["loadavg_after"] = os.getloadavg()
    store.close()
    return report


def _forget_query_caches(engine, redis_factory) -> None:
    """Measured misses must really miss: drop query embeddings and results of earlier runs."""
    if engine is not None:
        from sqlalchemy import text as sql

        with engine.begin() as conn:
            conn.execute(sql("DELETE FROM embedding_cache WHERE content_type = 'query'"))
            conn.execute(sql("DELETE FROM rag_query_cache"))
    if redis_factory is not None:
        from infra.settings import get_settings

        client = redis_factory()
        for k in client.scan_iter(match=get_settings().redis_key_prefix + "*", count=1000):
            client.delete(k)


def _build_menus_only(index_mod, engine, store, embedder, shops, menus):
    """``build_index`` restricted to the menu collection (large scales: shop texts are unique per
    shop and would dominate the embedding time of a benchmark run)."""
    from models.retrieval.documents import build_documents, content_hash

    summary = index_mod.IndexSummary(embedder=embedder.name)
    _, menu_docs = build_documents(shops, menus)
    texts, menu_hash = {}, {}
    for d in menu_docs:
        menu_hash[d.id] = content_hash(embedder.name, d.content_type, d.text)
        texts[menu_hash[d.id]] = (d.content_type, d.text)
    summary.texts = len(texts)
    t0 = time.perf_counter()
    vectors = index_mod.resolve_embeddings(engine, embedder, texts, summary=summary)
    staged = [False]
    try:
        index_mod._sync_collection(store, "menus", menu_docs, vectors, menu_hash, embedder.dim, False,
                                   summary.menus, staged, store.fingerprints("menus"))
        if staged[0]:
            store.commit_build()
    except BaseException:
        if staged[0]:
            store.abort_build()
        raise
    summary.generation = store.generation
    summary.seconds = time.perf_counter() - t0
    return summary


#: the query sets of a report and the key their scores sit under
QUALITY_SETS = (("dev", "quality"), ("meaning", "quality_meaning"), ("blind", "quality_blind"))


@dataclass(frozen=True)
class Published:
    """What ``publish`` left: the figures on disk and the MLflow run (None if it could not be logged)."""

    pngs: list[Path] = field(default_factory=list)
    run_id: str | None = None


def publish(report: dict[str, Any], out: Path, stem: str) -> Published:
    """The benchmark's quality as people look at it: MRR@10 and recall@10 by query type for each
    mode and query set, as PNGs beside the report, and the report with its figures as an MLflow run
    (experiment ``naviyam-retrieval``, no model_training_logs row: nothing is trained). An MLflow
    failure is logged, never raised (the report is already written)."""
    from models import plots
    from models.tracking import start_run

    pngs = []
    for query_set, key in QUALITY_SETS:
        if key in report:
            path = out / f"{stem}-by-query-type-{query_set}.png"
            plots.save_png(plots.retrieval_by_query_type(
                report[key], f"Retrieval by query type, {query_set} set ({report.get('data', '')})"), path)
            pngs.append(path)
    if not pngs:
        return Published()
    try:
        with start_run("naviyam-retrieval", model_type="retrieval_bench", engine=None,
                       params={k: report.get(k) for k in ("scale", "data", "shops", "menus", "eval_queries",
                                                          "embedder")},
                       description=f"Retrieval evaluation over {report.get('data')}: recall@10, MRR@10, nDCG@10 "
                                   "of dense, sparse and hybrid search, by query type.") as run:
            run.log_metrics(headline_metrics(report))
            run.log_dict(report, "report.json")
            for path in pngs:
                run.log_artifact(path, "plots")
            run_id = run.run_id
    except Exception as exc:  # noqa: BLE001 - the report and figures are on disk already
        log.warning("could not log the benchmark to MLflow: %s", exc)
        run_id = None
    return Published(pngs, run_id)


def headline_metrics(report: dict[str, Any]) -> dict[str, float]:
    """``<set>_<mode>_<metric>`` (e.g. ``blind_hybrid_mrr_at_10``) of every scored set and mode."""
    return {f"{query_set}_{mode}_{metric.replace('@', '_at_')}": scores[metric]
            for query_set, key in QUALITY_SETS for mode, scores in report.get(key, {}).items()
            if isinstance(scores, dict) for metric in ("recall@10", "mrr@10", "ndcg@10") if metric in scores}


def evaluate_index(engine, *, store=None, catalog=None) -> tuple[dict[str, Any], Published] | None:
    """Grade the index the service reads (``make_store``, or ``store``) with the dev and blind query
    sets against the hidden truth of the sample it was built from, and publish the result (figures,
    MLflow run). None when there is no hidden truth to grade against: a production catalogue has
    none, only the generated sample does."""
    from infra.settings import get_settings
    from models.retrieval.retriever import Retriever
    from models.retrieval.sample import load_from_files

    settings = get_settings()
    catalog = catalog or load_from_files(settings.sample_workbook, settings.hidden_truth_file)
    if catalog is None:
        return None
    retriever = Retriever(store=store, engine=engine)
    report: dict[str, Any] = {"data": f"served index, sample seed={catalog.seed} scale={catalog.scale:g}",
                              "scale": catalog.scale, "shops": len(catalog.shops), "menus": len(catalog.menus),
                              "embedder": retriever.embedder.name}
    try:
        report.update(score(retriever, catalog.truth, catalog.menus))
    finally:
        if store is None:  # the store this call opened
            retriever.store.close()
    out = settings.data_dir / "bench" / "retrieval"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report-index.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    return report, publish(report, out, "index")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=None, help="sample scale (default: settings)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--collections", default="shops,menus", help="'shops,menus' or 'menus'")
    parser.add_argument("--demo", action="store_true", help="hand-made demo data (latency only)")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-db", action="store_true", help="no PostgreSQL (no L3, no embedding reuse)")
    parser.add_argument("--no-redis", action="store_true", help="no Redis (no L2)")
    parser.add_argument("--weights", default="",
                        help="extra RRF (dense,sparse) weights to evaluate on the DEV set, e.g. '1,0.5;2,1'")
    parser.add_argument("--sets", default="dev,meaning,blind",
                        help="query sets to score, comma-separated: dev, meaning (both tunable), blind")
    parser.add_argument("--no-latency", action="store_true", help="quality only (skip the cache-level timings)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the shard and report.json")
    args = parser.parse_args(argv)
    known = [name for name, _ in QUALITY_SETS]
    unknown = sorted(set(args.sets.split(",")) - set(known))
    if unknown:
        parser.error(f"--sets: unknown query set(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    # a fresh Redis key prefix per run, so measured misses miss and the run leaves no shared keys
    os.environ["NAVIYAM_REDIS_KEY_PREFIX"] = f"naviyam-bench-{uuid.uuid4().hex[:8]}:"
    from infra.settings import get_settings, reset_settings_cache

    reset_settings_cache()
    settings = get_settings()
    scale = args.scale if args.scale is not None else settings.sample_scale
    out = args.out or settings.data_dir / "bench" / "retrieval"
    out.mkdir(parents=True, exist_ok=True)
    report = run(scale, seed=args.seed, collections=args.collections.split(","), demo=args.demo,
                 quality=not args.no_quality, out_dir=out, use_db=not args.no_db, use_redis=not args.no_redis,
                 weights=[tuple(float(x) for x in w.split(",")) for w in args.weights.split(";") if w],
                 query_sets=tuple(args.sets.split(",")), latency=not args.no_latency)
    if not args.no_redis:
        try:
            from infra.redis_client import get_redis

            client = get_redis()
            for k in client.scan_iter(match=settings.redis_key_prefix + "*", count=1000):
                client.delete(k)
        except Exception:  # noqa: BLE001
            pass
    stem = "demo" if args.demo else f"x{scale:g}"
    (out / f"report-{stem}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    publish(report, out, stem)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
