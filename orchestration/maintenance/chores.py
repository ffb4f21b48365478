"""The 5-minute batch's chores besides dbt (spec §13.3): cache cleanup and the training batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text

# §10: embeddings live 7 days in the cache tier, RAG results their own ttl_seconds (1 hour by
# default); session contexts until expires_at.
EMBEDDING_TTL_DAYS = 7
NLU_TRAINING_MIN_QUALITY = 0.8


def clean_expired_caches(engine: Engine, now: datetime) -> dict[str, int]:
    with engine.begin() as conn:
        rag = conn.execute(
            text("DELETE FROM rag_query_cache WHERE created_at + make_interval(secs => ttl_seconds) < :now"),
            {"now": now},
        ).rowcount
        embeddings = conn.execute(
            text(
                "DELETE FROM embedding_cache WHERE NOT is_valid "
                f"OR last_accessed < CAST(:now AS timestamptz) - interval '{EMBEDDING_TTL_DAYS} days'"
            ),
            {"now": now},
        ).rowcount
        contexts = conn.execute(
            text("DELETE FROM conversation_contexts WHERE expires_at IS NOT NULL AND expires_at < :now"), {"now": now}
        ).rowcount
    return {"rag_query_cache": rag, "embedding_cache": embeddings, "conversation_contexts": contexts}


def prepare_training_batch(engine: Engine, now: datetime) -> tuple[str, int]:
    """Assign the NLU examples fit for training (labelled, or quality >= 0.8) and not yet in a
    batch to a new batch id; the training assets consume batches and set used_for_training."""
    batch_id = f"nlu-{now:%Y%m%d%H%M}"
    with engine.begin() as conn:
        assigned = conn.execute(
            text(
                "UPDATE nlu_training_data SET training_batch_id = :batch "
                "WHERE training_batch_id IS NULL AND NOT used_for_training "
                "AND (true_intent IS NOT NULL OR quality_score >= :quality)"
            ),
            {"batch": batch_id, "quality": NLU_TRAINING_MIN_QUALITY},
        ).rowcount
    return batch_id, assigned
