"""Schema, sample workbook and ingest as assets; these call infra, never reimplement it."""


import json

import dagster as dg

from infra.sample_data.columns import SHEETS
from orchestration.resources import PostgresResource

WORKBOOK_TABLES = tuple(SHEETS)  # shops, menus, coupons, users, foodcard_users, product_orders, user_coupon_wallet

# Tables written by the online service (or by later assets), not by the ingest: they appear
# in the graph as external sources of the warehouse.
SERVICE_TABLES = {
    "conversations": "Chat turns, written by the chat service (serving/).",
    "conversation_contexts": "Session contexts, written by the chat service; expire after 7 days.",
    "user_interactions": "Interaction events (selection, feedback, detail_view, ...), written by the app.",
    "recommendations_log": "Recommendation lists and the user's reaction, written by the recommender.",
    "performance_logs": "Per-request timings and cache hit rate, written by the chat service.",
    "rag_query_cache": "RAG result cache, written by the retrieval service; cleaned by the 5-minute batch.",
    "embedding_cache": "Embedding cache, written by the embedder; cleaned by the 5-minute batch.",
    "feature_vectors": "Feature rows; the 5-minute batch upserts user and shop rows.",
    "recommendation_features": "Per-request recommendation features, written by the recommender online.",
    "nlu_training_data": "NLU predictions and labels, written by the NLU service.",
    "model_training_logs": "Training runs, written by the training assets.",
    "user_journey_analytics": "Journeys; the warehouse maintains one lifetime row per user.",
    "user_profiles": "Profiles; the chat service writes the chatbot fields, the warehouse the derived ones.",
}

service_tables = [
    dg.AssetSpec(
        key=["raw", table],
        description=description,
        group_name="chat_logs",
        kinds={"postgres"},
    )
    for table, description in SERVICE_TABLES.items()
]


class WorkbookConfig(dg.Config):
    scale: float | None = None  # default: settings.sample_scale
    seed: int | None = None  # default: settings.sample_seed
    regenerate: bool = False


@dg.asset(group_name="ingest", kinds={"postgres"}, description="Create the database if missing, migrate to head, prepare the monthly partitions.")
def database_schema(postgres: PostgresResource) -> dg.MaterializeResult:
    from infra.schema import create_database, prepare

    settings = postgres.settings
    created_db = create_database(settings, postgres.database_name)
    partitions = prepare(postgres.engine(), settings)
    return dg.MaterializeResult(
        metadata={"database": postgres.database_name, "created": created_db, "new_partitions": len(partitions)}
    )


@dg.asset(group_name="ingest", kinds={"python", "excel"}, description="sample_data.xlsx from the deterministic generator (generated once per seed and scale).")
def sample_workbook(context: dg.AssetExecutionContext, config: WorkbookConfig, postgres: PostgresResource) -> dg.MaterializeResult:
    from infra.sample_data.generator import generate

    settings = postgres.settings
    wanted = {
        "seed": settings.sample_seed if config.seed is None else config.seed,
        "scale": settings.sample_scale if config.scale is None else config.scale,
    }
    marker = settings.sample_dir / "generated.json"  # the same marker orchestration.demo.run_demo writes
    try:
        current = json.loads(marker.read_text())
    except (OSError, ValueError):
        current = None
    if config.regenerate or current != wanted or not settings.sample_workbook.exists():
        context.log.info(f"generating sample data {wanted}")
        summary = generate(seed=wanted["seed"], scale=wanted["scale"], out_dir=settings.sample_dir)
        marker.write_text(json.dumps(wanted))
        rows = {k: int(v) for k, v in summary.rows.items()} if hasattr(summary, "rows") else {}
        return dg.MaterializeResult(metadata={**wanted, "generated": True, "path": str(settings.sample_workbook), **rows})
    context.log.info("workbook already generated for this seed and scale")
    return dg.MaterializeResult(metadata={**wanted, "generated": False, "path": str(settings.sample_workbook)})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key=["raw", table],
            deps=[sample_workbook, database_schema],
            description=f"public.{table}, loaded from the workbook sheet {table!r} (upsert; bad rows quarantined).",
            group_name="ingest",
            kinds={"postgres"},
        )
        for table in WORKBOOK_TABLES
    ],
    name="ingest_workbook",
)
def ingest_workbook_tables(context: dg.AssetExecutionContext, postgres: PostgresResource):
    from infra.ingest.load import ingest_workbook

    settings = postgres.settings
    report = ingest_workbook(postgres.engine(), settings.sample_workbook, settings, progress=context.log.info)
    for table in WORKBOOK_TABLES:
        sheet = report.sheets.get(table)
        meta = vars(sheet) if sheet is not None else {}
        yield dg.MaterializeResult(asset_key=["raw", table], metadata={**meta, "run_id": str(report.run_id)})


defs = dg.Definitions(assets=[database_schema, sample_workbook, ingest_workbook_tables, *service_tables])
