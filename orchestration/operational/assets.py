"""``operational_derived_fields``: the marts' derived columns written into public's tables.

One subsettable multi-asset with one output per operational table (``operational/<table>``),
each depending on its mart, so the 5-minute batch writes back only what it rebuilt.
"""


import dagster as dg

from orchestration.operational.writeback import (
    WRITE_BACKS,
    write_back,
    write_feature_vectors,
    write_user_journeys,
    write_user_profiles,
)
from orchestration.resources import PostgresResource

_TARGETS = {spec.table: spec for spec in WRITE_BACKS}
_SPECIAL = {"user_profiles": write_user_profiles, "user_journey_analytics": write_user_journeys}


@dg.multi_asset(
    name="operational_derived_fields",
    specs=[
        dg.AssetSpec(
            key=["operational", table],
            deps=[dg.AssetKey(["analytics", table])],
            description=f"Derived columns of public.{table}, updated from analytics.{table} where they differ.",
            group_name="operational",
            kinds={"postgres"},
            skippable=True,
        )
        for table in (*_TARGETS, *_SPECIAL)
    ],
    can_subset=True,
)
def operational_derived_fields(context: dg.AssetExecutionContext, postgres: PostgresResource):
    engine = postgres.engine()
    for key in sorted(context.selected_asset_keys, key=lambda k: k.path[-1]):
        table = key.path[-1]
        with engine.begin() as conn:
            changed = _SPECIAL[table](conn) if table in _SPECIAL else write_back(conn, _TARGETS[table])
        context.log.info(f"public.{table}: {changed} rows written")
        yield dg.MaterializeResult(asset_key=key, metadata={"rows_written": changed})


@dg.asset(
    key=["operational", "feature_vectors"],
    deps=[dg.AssetKey(["analytics", "user_features"]), dg.AssetKey(["analytics", "shop_features"])],
    group_name="operational",
    kinds={"postgres"},
    description="User and shop feature rows (feature_version v1) upserted into public.feature_vectors where changed.",
)
def feature_vector_rows(postgres: PostgresResource) -> dg.MaterializeResult:
    with postgres.engine().begin() as conn:
        counts = write_feature_vectors(conn)
    return dg.MaterializeResult(metadata={f"{k}_rows_written": v for k, v in counts.items()})


defs = dg.Definitions(assets=[operational_derived_fields, feature_vector_rows])
