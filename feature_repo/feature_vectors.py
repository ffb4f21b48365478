"""The spec's ``feature_vectors`` table as a readable mirror of what the online store serves: dense
numbers (the contract's dense features), sparse categories, the ranker's learned embedding when
a scorer is given, ``valid_until`` = next nightly refresh, and the ranker's feature importance."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd

from feature_repo.config import settings_or_default
from feature_repo.definitions import SOURCE_SCHEMA, SOURCE_TABLES
from infra.feature_contract import FEATURE_VERSION, SHOP, USER
from infra.vocabulary import CATEGORIES, MEAL_SLOTS

REFRESH = timedelta(days=1)  # the nightly rebuild: a served row is valid until the next one


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

    s = settings_or_default(settings)
    as_of = as_of or datetime.now(timezone.utc)
    importance = (scorer.meta.get("feature_importance") if scorer is not None else None) or None
    emb = _embeddings(scorer) if scorer is not None else {}
    counts = {}
    with psycopg.connect(s.libpq_dsn(database)) as conn:
        for group, entity in ((USER, "user"), (SHOP, "shop")):
            view, dense_cols = group.name, group.dense
            latest = _latest(conn, view, as_of)
            rows = []
            for rec in latest.to_dict("records"):
                key = int(rec[f"{entity}_id"])
                dense = {c: (None if rec.get(c) is None or (isinstance(rec.get(c), float) and np.isnan(rec[c]))
                             else round(float(rec[c]), 6)) for c in dense_cols}
                if entity == "user":
                    sparse = {"segment": rec.get("segment"),
                              "preferred_categories": _top(rec.get("category_share"), CATEGORIES, 3, 0.15),
                              "preferred_time_slots": _top(rec.get("slot_share"), MEAL_SLOTS, 2, 0.25),
                              "recent_shop_ids": list(rec.get("recent_shop_ids") or [])}
                    confidence = min(1.0, float(rec.get("total_orders") or 0) / 10.0)
                else:
                    sparse = {"category": rec.get("category"),
                              "busy_time_slots": _top(rec.get("slot_share"), MEAL_SLOTS, 2, 0.25)}
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
