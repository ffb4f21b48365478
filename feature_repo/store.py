"""The Feast feature store of the ranker, configured from the project settings.

The nightly path: dbt builds the feature history (``analytics.*_features_daily``, the offline
store's sources) with the rest of the warehouse, then the Dagster asset
``feature_store/online_features`` calls ``refresh_feature_store``, which runs, in order:

* ``apply_feature_store(settings)`` — register entities / views / service (``feast apply``);
* ``materialize_incremental(settings, end)`` — load new rows into the Redis online store;
* ``sync_feature_vectors(settings)`` — mirror what the online store now serves into the spec's
  ``feature_vectors`` table, readable by a person.

Outside the graph (``naviyam rank features``, ``naviyam rank train --features feast``),
``build_feature_history`` runs that dbt build first. ``load_feature_history`` writes given
snapshots into the same relations instead, for tests that need a hand-made history.

Training reads ``historical_features(store, events)`` (point-in-time join in PostgreSQL);
serving reads ``online_features(store, user_id, shop_ids)`` (two batched Redis reads).

The configuration is built in code from ``infra.settings`` (PostgreSQL over TCP or over the
embedded server's Unix socket, ``sslmode: disable``; Redis from ``redis_url``; a file registry
under ``data_dir/feast``), so nothing host-specific is committed. ``write_feature_store_yaml``
writes the same configuration for the Feast CLI:
``feast -f data/feast/feature_store.yaml -c feature_repo plan``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd

from feature_repo.definitions import FEATURE_VIEWS, JOIN_KEYS, OBJECTS, SOURCE_SCHEMA, SOURCE_TABLES, feature_refs

log = logging.getLogger(__name__)

PROJECT = "naviyam"
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FEATURE_VERSION = "rank-v1"
REFRESH = timedelta(days=1)  # the nightly rebuild: a served row is valid until the next one


def _settings(settings: Any = None) -> Any:
    if settings is None:
        from infra.settings import get_settings

        settings = get_settings()
    return settings


def redis_connection_string(url: str) -> str:
    """``redis://[:pw@]host:port/db`` → Feast's ``host:port,db=N[,password=...]``."""
    parsed = urlparse(url)
    parts = [f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}"]
    db = (parsed.path or "/0").lstrip("/") or "0"
    parts.append(f"db={db}")
    if parsed.password:
        parts.append(f"password={unquote(parsed.password)}")
    if parsed.scheme == "rediss":
        parts.append("ssl=true")
    return ",".join(parts)


def config_dict(settings: Any = None, project: str = PROJECT, database: str | None = None,
                registry_path: Path | None = None) -> dict[str, Any]:
    """The feature_store.yaml content as a dict."""
    s = _settings(settings)
    registry = registry_path or (Path(s.data_dir) / "feast" / f"{project}_registry.db")
    registry.parent.mkdir(parents=True, exist_ok=True)
    return {
        "project": project,
        "provider": "local",
        "registry": {"registry_type": "file", "path": str(registry), "cache_ttl_seconds": 60},
        "offline_store": {
            "type": "postgres", "host": s.pg_host, "port": int(s.pg_port), "database": database or s.pg_database,
            # the search path of Feast's own connections: its temporary entity tables land here
            "db_schema": SOURCE_SCHEMA, "user": s.pg_user, "password": s.pg_password.get_secret_value(),
            "sslmode": "disable",
        },
        "online_store": {"type": "redis", "connection_string": redis_connection_string(s.redis_url)},
        "entity_key_serialization_version": 3,
    }


def write_feature_store_yaml(settings: Any = None, path: Path | None = None, **kwargs: Any) -> Path:
    import yaml

    s = _settings(settings)
    path = path or Path(s.data_dir) / "feast" / "feature_store.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config_dict(s, **kwargs), sort_keys=False, allow_unicode=True))
    return path


def get_feature_store(settings: Any = None, project: str = PROJECT, database: str | None = None,
                      registry_path: Path | None = None) -> Any:
    """A FeatureStore built from the settings (no YAML file needed)."""
    from feast import FeatureStore
    from feast.repo_config import RepoConfig

    cfg = RepoConfig(**config_dict(settings, project, database, registry_path))
    return FeatureStore(config=cfg)


# ---- offline sources: the dbt marts of the feature history --------------------------------------
HISTORY_MODELS: tuple[str, ...] = tuple(SOURCE_TABLES.values())
_ARRAY_DOUBLE = {"category_share", "slot_share", "customer_taste"}
_ARRAY_BIGINT = {"recent_shop_ids"}
_TEXT = {"segment", "category"}
_BIGINT = {"user_id", "shop_id", "category_idx"}


class FeatureHistoryError(RuntimeError):
    """dbt could not build or test the feature history."""


def build_feature_history(settings: Any = None, database: str | None = None) -> dict[str, int]:
    """``dbt build`` of the feature-history marts and everything upstream of them, with their
    tests; returns the rows of each view's source. The Dagster graph builds them with the rest
    of the warehouse; this is the same build for the CLI and for tests that start from raw rows."""
    from orchestration.warehouse.project import run_dbt

    s = _settings(settings)
    selection = [f"+{model}" for model in HISTORY_MODELS]
    # cautious: a test that also reads a model outside the selection (a relationships test of
    # another mart over the same staging view) belongs to the full warehouse build
    result = run_dbt(["build", "--select", *selection, "--indirect-selection", "cautious"], database=database)
    if result.returncode != 0:
        raise FeatureHistoryError(f"dbt build of the feature history failed:\n{result.stdout[-4000:]}")
    counts = history_row_counts(s, database)
    log.info("feature history built %s", counts)
    return counts


def history_row_counts(settings: Any = None, database: str | None = None) -> dict[str, int]:
    import psycopg

    s = _settings(settings)
    with psycopg.connect(s.libpq_dsn(database)) as conn:
        return {view: conn.execute(f"SELECT count(*) FROM {SOURCE_SCHEMA}.{table}").fetchone()[0]
                for view, table in SOURCE_TABLES.items()}


def source_column_types(view: str) -> dict[str, str]:
    """Column → PostgreSQL type (``format_type`` spelling) of a view's source, as the dbt mart
    builds it; tests/integration/test_feature_history_parity.py holds the two together."""
    def pg_type(col: str) -> str:
        if col in _ARRAY_DOUBLE:
            return "double precision[]"
        if col in _ARRAY_BIGINT:
            return "bigint[]"
        if col in _TEXT:
            return "text"
        if col in _BIGINT:
            return "bigint"
        if col in ("event_timestamp", "created_at"):
            return "timestamp with time zone"
        return "double precision"

    return {col: pg_type(col) for col in _view_columns(view)}


def _view_columns(view: str) -> list[str]:
    keys = [JOIN_KEYS[e] for e in FEATURE_VIEWS[view].entities]
    return keys + [f.name for f in FEATURE_VIEWS[view].features] + ["event_timestamp", "created_at"]


def _cell(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_source_table(conn: Any, view: str, frame: pd.DataFrame) -> int:
    """Replace a view's source relation with ``frame`` (COPY; one transaction with the caller)."""
    table = SOURCE_TABLES[view]
    types = source_column_types(view)
    columns = list(types)
    frame = frame.copy()
    frame["created_at"] = datetime.now(timezone.utc)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SOURCE_SCHEMA}")
    conn.execute(f"DROP TABLE IF EXISTS {SOURCE_SCHEMA}.{table}")
    definition = ", ".join(f'"{c}" {t}' for c, t in types.items())
    conn.execute(f"CREATE TABLE {SOURCE_SCHEMA}.{table} ({definition})")
    quoted = ", ".join(f'"{c}"' for c in columns)
    with conn.cursor().copy(f"COPY {SOURCE_SCHEMA}.{table} ({quoted}) FROM STDIN") as copy:
        for row in frame[columns].itertuples(index=False, name=None):
            copy.write_row([_cell(v) for v in row])
    keys = ", ".join(f'"{k}"' for k in columns if k in ("user_id", "shop_id"))
    conn.execute(f"CREATE INDEX ON {SOURCE_SCHEMA}.{table} ({keys}, event_timestamp)")
    return len(frame)


def load_feature_history(settings: Any, snapshots: Any, database: str | None = None) -> dict[str, int]:
    """Write given ``FeatureSnapshots`` into the relations the views read, in place of the dbt
    build: for tests with a hand-made history, or the in-memory reference's own output
    (``models.ranking.raw_features.build_snapshots``). The next dbt build replaces them."""
    import psycopg

    s = _settings(settings)
    counts = {}
    with psycopg.connect(s.libpq_dsn(database)) as conn:
        for view, frame in (("user_features", snapshots.user), ("shop_features", snapshots.shop),
                            ("user_shop_features", snapshots.user_shop)):
            counts[view] = write_source_table(conn, view, frame)
    log.info("loaded feature history %s", counts)
    return counts


def apply_feature_store(settings: Any = None, store: Any = None, **kwargs: Any) -> Any:
    """``feast apply`` through the SDK: register entities, views and the feature service."""
    store = store or get_feature_store(settings, **kwargs)
    store.apply(list(OBJECTS))
    return store


def materialize_incremental(settings: Any = None, end: datetime | None = None, store: Any = None,
                            **kwargs: Any) -> Any:
    """Load offline rows up to ``end`` into Redis; a never-materialized view is loaded from the start."""
    store = store or get_feature_store(settings, **kwargs)
    end = end or datetime.now(timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=timezone.utc)
    fresh = [fv.name for fv in store.list_feature_views() if fv.most_recent_end_time is None]
    if fresh:
        store.materialize(start_date=EARLIEST, end_date=end, feature_views=fresh)
    done = [fv.name for fv in store.list_feature_views() if fv.name not in fresh]
    if done:
        store.materialize_incremental(end_date=end, feature_views=done)
    return store


# ---- reads ------------------------------------------------------------------------------------
ALL_VIEWS = ("user_features", "shop_features", "user_shop_features")


def historical_features(store: Any, events: pd.DataFrame, views: Iterable[str] = ALL_VIEWS) -> pd.DataFrame:
    """Point-in-time join of labelled events (``user_id``, ``shop_id``, ``event_timestamp`` + any
    other columns) with every feature view, in the events' row order, ``<view>__<feature>`` names."""
    entity = events.copy()
    entity["_row"] = np.arange(len(entity))
    entity["event_timestamp"] = pd.to_datetime(entity["event_timestamp"], utc=True)
    for col in entity.columns:  # Feast's entity upload knows no tinyint/smallint
        if pd.api.types.is_integer_dtype(entity[col]) or pd.api.types.is_bool_dtype(entity[col]):
            entity[col] = entity[col].astype("int64")
    refs = [r for v in views for r in feature_refs(v)]
    out = store.get_historical_features(entity_df=entity, features=refs, full_feature_names=True).to_df()
    out = out.sort_values("_row").drop(columns="_row").reset_index(drop=True)
    out["event_timestamp"] = pd.to_datetime(out["event_timestamp"], utc=True)
    return out


def online_features(store: Any, user_id: int, shop_ids: Sequence[int]) -> tuple[dict[str, Any], pd.DataFrame]:
    """(the user's feature row, one row per candidate shop) from the online store, two batched reads.

    The result is what ``models.ranking.scorer.Scorer.score`` takes. A user or shop the store does
    not know comes back with empty values (the cold-start path of the scorer).
    """
    shop_ids = [int(s) for s in shop_ids]
    user = store.get_online_features(features=feature_refs("user_features"), entity_rows=[{"user_id": int(user_id)}]).to_dict()
    user_row = {k: v[0] for k, v in user.items()}
    rows = {"shop_id": shop_ids, "user_id": [int(user_id)] * len(shop_ids)}
    cand = store.get_online_features(features=feature_refs("shop_features") + feature_refs("user_shop_features"),
                                     entity_rows=rows).to_df()
    cand["visit_count"] = pd.to_numeric(cand["visit_count"], errors="coerce").fillna(0.0)
    return user_row, cand


# ---- feature_vectors ------------------------------------------------------------------------
_USER_DENSE = ("total_orders", "avg_order_value", "order_frequency", "favorite_count", "category_diversity",
               "shop_loyalty", "loc_lat", "loc_lon", "is_foodcard")
_SHOP_DENSE = ("median_price", "order_count", "order_count_30d", "distinct_customers", "repeat_customer_rate",
               "popularity_pct", "takes_food_card", "is_good_influence", "lat", "lon")


def _latest(conn: Any, view: str, as_of: datetime) -> pd.DataFrame:
    keys = "user_id" if view == "user_features" else "shop_id"
    sql = (f"SELECT DISTINCT ON ({keys}) * FROM {SOURCE_SCHEMA}.{SOURCE_TABLES[view]} "
           f"WHERE event_timestamp <= %s ORDER BY {keys}, event_timestamp DESC")
    cur = conn.execute(sql, (as_of,))
    cols = [d.name for d in cur.description]
    return pd.DataFrame(cur.fetchall(), columns=cols)


def _top(values: Sequence[float] | None, names: Sequence[str], k: int, floor: float) -> list[str]:
    if values is None or not len(values):
        return []
    order = np.argsort(values)[::-1][:k]
    return [names[i] for i in order if values[i] >= floor]


def sync_feature_vectors(settings: Any = None, as_of: datetime | None = None, database: str | None = None,
                         scorer: Any = None) -> dict[str, int]:
    """Upsert the rows the online store serves (latest per user/shop at ``as_of``) into
    ``feature_vectors``: dense numbers, sparse categories, the ranker's learned embedding (when a
    scorer is given), ``valid_until`` = next nightly refresh, and the ranker's feature importance."""
    import psycopg

    from models.ranking.features import CATEGORIES, SLOTS

    s = _settings(settings)
    as_of = as_of or datetime.now(timezone.utc)
    importance = (scorer.meta.get("feature_importance") if scorer is not None else None) or None
    emb = _embeddings(scorer) if scorer is not None else {}
    counts = {}
    with psycopg.connect(s.libpq_dsn(database)) as conn:
        for view, entity, dense_cols in (("user_features", "user", _USER_DENSE), ("shop_features", "shop", _SHOP_DENSE)):
            latest = _latest(conn, view, as_of)
            rows = []
            for rec in latest.to_dict("records"):
                key = int(rec[f"{entity}_id"])
                dense = {c: (None if rec.get(c) is None or (isinstance(rec.get(c), float) and np.isnan(rec[c]))
                             else round(float(rec[c]), 6)) for c in dense_cols}
                if entity == "user":
                    sparse = {"segment": rec.get("segment"),
                              "preferred_categories": _top(rec.get("category_share"), CATEGORIES, 3, 0.15),
                              "preferred_time_slots": _top(rec.get("slot_share"), SLOTS, 2, 0.25),
                              "recent_shop_ids": list(rec.get("recent_shop_ids") or [])}
                    confidence = min(1.0, float(rec.get("total_orders") or 0) / 10.0)
                else:
                    sparse = {"category": rec.get("category"),
                              "busy_time_slots": _top(rec.get("slot_share"), SLOTS, 2, 0.25)}
                    confidence = min(1.0, float(rec.get("order_count") or 0) / 20.0)
                valid_until = pd.Timestamp(rec["event_timestamp"]).to_pydatetime() + REFRESH
                vector = emb.get((entity, key))
                rows.append((entity, str(key), json.dumps(dense), json.dumps(sparse, ensure_ascii=False),
                             None if vector is None else json.dumps(vector), "hybrid" if vector else "rule_based",
                             FEATURE_VERSION, round(confidence, 3), max(valid_until, as_of + REFRESH),
                             None if importance is None else json.dumps(importance)))
            with conn.cursor() as cur:
                cur.executemany(
                    """INSERT INTO feature_vectors (entity_type, entity_id, feature_vector_dense, feature_vector_sparse,
                           embedding_vector, feature_extraction_method, feature_version, confidence_score, valid_until,
                           feature_importance)
                       VALUES (%s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s::jsonb)
                       ON CONFLICT (entity_type, entity_id, feature_version) DO UPDATE SET
                           feature_vector_dense = EXCLUDED.feature_vector_dense,
                           feature_vector_sparse = EXCLUDED.feature_vector_sparse,
                           embedding_vector = EXCLUDED.embedding_vector,
                           feature_extraction_method = EXCLUDED.feature_extraction_method,
                           confidence_score = EXCLUDED.confidence_score,
                           valid_until = EXCLUDED.valid_until,
                           feature_importance = EXCLUDED.feature_importance""",
                    rows,
                )
            counts[entity] = len(rows)
    return counts


def _embeddings(scorer: Any) -> dict[tuple[str, int], list[float]]:
    """The ranker's learned user and shop embeddings (deep part), keyed by (entity, id)."""
    model, enc = scorer.model, scorer.encoder
    out: dict[tuple[str, int], list[float]] = {}
    weight = model.embedding.weight.detach().numpy()
    offsets = dict(zip(enc.config.deep_categorical, model.deep_offsets.tolist()))
    for col, entity in (("user_id", "user"), ("shop_id", "shop")):
        if col not in enc.vocabs:
            continue
        base = offsets[col]
        for i, raw in enumerate(enc.vocabs[col]):
            out[(entity, int(raw))] = [round(float(x), 5) for x in weight[base + i + 1]]
    return out


def refresh_feature_store(settings: Any = None, end: datetime | None = None, database: str | None = None,
                          with_scorer: bool = True, build_history: bool = False) -> dict[str, Any]:
    """The whole nightly step after dbt, for one Dagster asset: apply → materialize →
    feature_vectors (with the champion's embeddings and importance when one is registered).
    ``build_history`` runs the dbt build of the history first, for callers outside the graph."""
    s = _settings(settings)
    end = end or datetime.now(timezone.utc)
    history = build_feature_history(s, database) if build_history else history_row_counts(s, database)
    store = apply_feature_store(s, database=database)
    materialize_incremental(s, end, store=store)
    scorer = None
    if with_scorer:
        try:
            from models.ranking.scorer import load_scorer

            scorer = load_scorer()
        except Exception as exc:  # noqa: BLE001 - no champion yet: mirror without embeddings
            log.info("no champion ranker (%s); feature_vectors without embeddings", exc)
    synced = sync_feature_vectors(s, as_of=end, database=database, scorer=scorer)
    return {"history_rows": history, "feature_vectors": synced, "materialized_until": end.isoformat(),
            "feature_store_yaml": str(write_feature_store_yaml(s))}
