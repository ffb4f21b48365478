"""What the event log writes: one ``TableSpec`` per table (its columns, how each value is cast, its
idempotency key), the ``UPDATES`` a later record makes to an earlier one, and how a row becomes
JSON-native parameters (the same encoding for the live path and the spool replay).

The specs restate the columns of the migration (infra/migrations) that the service writes; the
``recommendation_features`` feature columns come from the ranker's contract
(``infra.feature_contract``). tests/integration/test_event_log.py checks every spec against the
migrated schema, so a column renamed there fails here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.feature_contract import STORED_FEATURES
from infra.jsonable import jsonable


@dataclass(frozen=True)
class TableSpec:
    columns: tuple[str, ...]
    conflict: str | None  # ON CONFLICT target; None: NOT EXISTS key below
    ts: frozenset[str] = frozenset()
    json: frozenset[str] = frozenset()
    uuid: frozenset[str] = frozenset()
    not_exists_key: tuple[str, ...] = ()
    casts: tuple[tuple[str, str], ...] = ()  # explicit types where PostgreSQL cannot infer them

    def placeholder(self, col: str) -> str:
        for name, sqltype in self.casts:
            if name == col:
                return f"CAST(:{col} AS {sqltype})"
        if col in self.ts:
            return f"CAST(:{col} AS timestamptz)"
        if col in self.json:
            return f"CAST(:{col} AS jsonb)"
        if col in self.uuid:
            return f"CAST(:{col} AS uuid)"
        return f":{col}"


def quote_column(col: str) -> str:
    return '"timestamp"' if col == "timestamp" else col


TABLES: dict[str, TableSpec] = {
    "conversations": TableSpec(
        columns=("user_id", "session_id", "conversation_id", "input_text", "response_text", "timestamp",
                 "extracted_intent", "intent_confidence", "extracted_entities", "user_strategy",
                 "conversation_turn", "previous_intent", "processing_time_ms", "nlu_time_ms",
                 "response_time_ms", "response_quality_score", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"extracted_entities"}), uuid=frozenset({"event_id"})),
    "conversation_contexts": TableSpec(
        columns=("session_id", "user_id", "conversation_turn", "context_data", "user_state",
                 "extracted_patterns", "context_type", "importance_score", "timestamp", "expires_at"),
        conflict="(session_id, conversation_turn)", ts=frozenset({"timestamp", "expires_at"}),
        json=frozenset({"context_data", "user_state", "extracted_patterns"})),
    "user_interactions": TableSpec(
        columns=("user_id", "session_id", "timestamp", "interaction_type", "intent", "entities",
                 "user_selection", "food_preference_extracted", "budget_pattern_extracted",
                 "companion_pattern_extracted", "coupon_usage", "satisfaction_score",
                 "interaction_sequence_pattern", "decision_confidence", "exploration_score", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"entities", "user_selection", "coupon_usage"}), uuid=frozenset({"event_id"})),
    "recommendations_log": TableSpec(
        columns=("user_id", "session_id", "timestamp", "request_intent", "request_entities", "recommendations",
                 "recommendation_count", "recommendation_method", "confidence_score",
                 "total_discount_available", "diversity_score", "personalization_score", "relevance_score",
                 "novelty_score", "model_variant", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"request_entities", "recommendations"}), uuid=frozenset({"event_id"})),
    "recommendation_features": TableSpec(
        # the ranker's stored columns come from its feature contract, never spelled here
        columns=("user_id", "shop_id", "timestamp", *STORED_FEATURES, "predicted_score", "ranking_position",
                 "feature_contributions", "recommendation_event_id"),
        conflict="(recommendation_event_id, shop_id)", ts=frozenset({"timestamp"}),
        json=frozenset({"feature_contributions"}), uuid=frozenset({"recommendation_event_id"})),
    "nlu_training_data": TableSpec(
        columns=("input_text", "normalized_text", "predicted_intent", "intent_confidence", "extracted_entities",
                 "user_id", "data_source", "quality_score", "created_at", "model_version"),
        conflict=None, ts=frozenset({"created_at"}), json=frozenset({"extracted_entities"}),
        not_exists_key=("created_at", "user_id", "input_text"),
        casts=(("input_text", "text"), ("normalized_text", "text"), ("predicted_intent", "varchar"),
               ("intent_confidence", "numeric"), ("user_id", "varchar"), ("data_source", "varchar"),
               ("quality_score", "numeric"), ("model_version", "varchar"))),
    "performance_logs": TableSpec(
        columns=("timestamp", "operation_type", "processing_time_ms", "nlu_time_ms", "rag_time_ms",
                 "recommendation_time_ms", "response_generation_time_ms", "total_time_ms", "memory_usage_mb",
                 "cpu_usage_percent", "cache_hit_rate", "confidence_score", "success", "error_type",
                 "error_message", "user_id", "session_id", "request_complexity", "bottleneck_component",
                 "optimization_suggestions", "event_id"),
        conflict='(event_id, "timestamp")', ts=frozenset({"timestamp"}),
        json=frozenset({"optimization_suggestions"}), uuid=frozenset({"event_id"})),
}


#: Changes a later record makes to an earlier one, applied after the batch's inserts (so a log row
#: and a reaction to it in the same batch meet in order). Each is idempotent, so a replayed spool
#: segment applies it again harmlessly. A reaction to a recommendation nobody logged updates nothing
#: (its user_interactions row is still the record).
#: how long after an answer a reaction to it still counts (here and in /feedback's own check)
REACTION_WINDOW_DAYS = 7

UPDATES: dict[str, tuple[tuple[str, ...], str]] = {
    # /feedback → the recommendation's log row: which shops the child opened, which one they chose,
    # and how long that took (what the warehouse's click-through and conversion rates count)
    "recommendation_reactions": (
        ("recommendation_id", "viewed_shop_id", "selected_shop_id", "at", "user_id", "session_id"),
        f"""
        UPDATE recommendations_log SET
            user_viewed_details = CASE WHEN CAST(:viewed_shop_id AS int) IS NULL THEN user_viewed_details
                ELSE (SELECT jsonb_agg(DISTINCT v ORDER BY v) FROM jsonb_array_elements(
                          COALESCE(user_viewed_details, '[]'::jsonb) || to_jsonb(CAST(:viewed_shop_id AS int))) AS v)
                END,
            user_final_selection = COALESCE(CAST(:selected_shop_id AS int), user_final_selection),
            time_to_decision_ms = CASE
                WHEN CAST(:selected_shop_id AS int) IS NOT NULL AND time_to_decision_ms IS NULL
                THEN GREATEST(0, ROUND(EXTRACT(EPOCH FROM (CAST(:at AS timestamptz) - "timestamp")) * 1000))::int
                ELSE time_to_decision_ms END
        WHERE event_id = CAST(:recommendation_id AS uuid)
          AND "timestamp" <= CAST(:at AS timestamptz) AND "timestamp" > CAST(:at AS timestamptz) - interval '{REACTION_WINDOW_DAYS} days'
          -- only the child it was shown to, in that session, about a shop it contained
          AND user_id = CAST(:user_id AS varchar) AND session_id = CAST(:session_id AS varchar)
          AND recommendations @> jsonb_build_array(jsonb_build_object(
                'shop_id', CAST(COALESCE(:selected_shop_id, :viewed_shop_id) AS int)))
        """,
    ),
}


RECORD_KINDS = frozenset(TABLES) | frozenset(UPDATES)


def encode_row(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as JSON-native parameters: every column present, documents JSON-encoded."""
    if table in UPDATES:
        params = UPDATES[table][0]
        unknown = set(row) - set(params)
        if unknown:
            raise ValueError(f"{table}: unknown field(s) {sorted(unknown)}")
        return {p: jsonable(row.get(p)) for p in params}
    spec = TABLES[table]
    unknown = set(row) - set(spec.columns)
    if unknown:
        raise ValueError(f"{table}: unknown column(s) {sorted(unknown)}")
    out: dict[str, Any] = {}
    for c in spec.columns:
        v = row.get(c)
        if c in spec.json and v is not None and not isinstance(v, str):
            v = json.dumps(v, ensure_ascii=False, default=jsonable)
        out[c] = jsonable(v)
    return out


def new_event_id() -> str:
    return str(uuid.uuid4())
