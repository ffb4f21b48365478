"""The 5-minute batch's chores besides dbt (spec §13.3): cache cleanup and the training batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, text

NLU_TRAINING_MIN_QUALITY = 0.8


def clean_expired_caches(engine: Engine, now: datetime) -> dict[str, int]:
    """RAG results past their ttl_seconds and idle embeddings (the retrieval cache's own rules, so
    the shop/menu embeddings that keep index builds incremental survive), and expired contexts."""
    from models.retrieval.cache import purge_expired_caches

    purged = purge_expired_caches(engine, now=now)
    with engine.begin() as conn:
        contexts = conn.execute(
            text("DELETE FROM conversation_contexts WHERE expires_at IS NOT NULL AND expires_at < :now"), {"now": now}
        ).rowcount
    return {
        "rag_query_cache": purged.rag_rows,
        "embedding_cache": purged.query_embedding_rows + purged.document_embedding_rows + purged.invalid_embedding_rows,
        "conversation_contexts": contexts,
    }


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
