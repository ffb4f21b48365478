"""What a chat turn leaves behind: the rows of the seven log tables, queued to the event log (never
waiting on the database), and the ``performance_logs`` row of a turn that failed."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from models.nlu import store as nlu_store
from infra.event_log import new_event_id
from serving import clock as sim_clock, dialogue, features as feat, strategy as st
from serving.chat_turn import ChatTurn
from infra.vocabulary import Intent

log = logging.getLogger(__name__)

CONTEXT_TTL = timedelta(hours=24)
HIT_LEVELS = frozenset({"l1", "l2", "l3", "redis", "postgres", "given", "cache_l1", "cache_redis", "cache_db"})


def _proc():
    try:
        import psutil

        return psutil.Process()
    except Exception:  # pragma: no cover
        return None


_PROC = _proc()


def perf_row(req, now, sw_stages, total, caches, *, success, error_type=None, confidence=None,
             operation="chat", variant=None, model=None) -> dict[str, Any]:
    stages = dict(sw_stages)
    # the cache levels this turn went through (user features read from Feast are a store, not a cache)
    hits = [v for k, v in caches.items() if k in ("context", "nlu", "embedding", "retrieval")
            or (k == "user_features" and v in ("l1", "miss"))]
    rate = (sum(1 for v in hits if v in HIT_LEVELS) / len(hits)) if hits else None
    measured = {k: v for k, v in stages.items() if k != "logging"}
    bottleneck = max(measured, key=lambda k: measured[k]) if measured else None
    mem = cpu = None
    if _PROC is not None:
        try:
            mem = round(_PROC.memory_info().rss / 2**20, 1)
            cpu = round(_PROC.cpu_percent(None), 1)  # since the previous turn, this process
        except Exception:
            mem = cpu = None
    n = len(req.text) if req is not None else 0
    return {
        "timestamp": now, "operation_type": operation,
        "processing_time_ms": int(round(total - stages.get("logging", 0.0))),
        "nlu_time_ms": int(round(stages.get("nlu", 0.0) + stages.get("embedding", 0.0))),
        "rag_time_ms": int(round(stages.get("retrieval", 0.0) + stages.get("alternatives", 0.0))),
        "recommendation_time_ms": int(round(stages.get("features", 0.0) + stages.get("ranking", 0.0)
                                            + stages.get("coupons", 0.0))),
        "response_generation_time_ms": int(round(stages.get("answer", 0.0))),
        "total_time_ms": int(round(total)), "memory_usage_mb": mem, "cpu_usage_percent": cpu,
        "cache_hit_rate": round(rate, 3) if rate is not None else None,
        "confidence_score": round(min(1.0, max(0.0, confidence)), 3) if confidence is not None else None,
        "success": success, "error_type": error_type,
        "user_id": req.user_id if req else None, "session_id": req.session_id if req else None,
        "request_complexity": "simple" if n < 12 else "moderate" if n < 40 else "complex",
        "bottleneck_component": bottleneck,
        "optimization_suggestions": {"stage_ms": {k: round(v, 3) for k, v in stages.items()}, "cache": caches,
                                     "model_variant": variant, "ranking_model": model,
                                     **sim_clock.audit()},
        "event_id": new_event_id(),
    }


def emit_failure(events, t: ChatTurn, exc: BaseException) -> None:
    try:
        row = perf_row(t.req, t.now, t.sw.stages, t.sw.total(), {}, success=False, error_type=type(exc).__name__)
        row["error_message"] = str(exc)[:300]
        events.emit_many([("performance_logs", row)])
    except Exception:  # logging must never mask the original error
        log.exception("could not log a failed turn")


def _unit(x: float) -> float:
    return round(min(1.0, max(0.0, x)), 3)


def emit_turn(events, t: ChatTurn, state: dialogue.DialogueState, recs_out: list[dict[str, Any]], text: str,
              timings: Mapping[str, float], total: float) -> None:
    req, now, nlu, turn, strategy = t.req, t.now, t.nlu, t.reading, t.strategy
    ents = nlu.entities
    rows: list[tuple[str, Mapping[str, Any]]] = [
        ("conversations", {
            "user_id": req.user_id, "session_id": req.session_id, "conversation_id": req.session_id,
            "input_text": req.text, "response_text": text, "timestamp": now, "extracted_intent": nlu.intent,
            "intent_confidence": _unit(nlu.confidence), "extracted_entities": ents,
            "user_strategy": strategy, "conversation_turn": state.turn, "previous_intent": state.last_intent,
            "processing_time_ms": int(round(total)), "nlu_time_ms": int(round(timings.get("nlu", 0.0))),
            "response_time_ms": int(round(timings.get("answer", 0.0))), "event_id": t.event_id}),
        ("conversation_contexts", {
            "session_id": req.session_id, "user_id": req.user_id, "conversation_turn": state.turn,
            "context_data": dialogue.context_data(state),
            "user_state": {"strategy": strategy, "user_turns": state.user_turns,
                           "completeness": round(min(1.0, len(state.liked_categories) / 3), 2)},
            "context_type": strategy, "importance_score": 0.9 if strategy == st.URGENT else 0.5,
            "timestamp": now, "expires_at": now + CONTEXT_TTL}),
        ("user_interactions", {
            "user_id": req.user_id, "session_id": req.session_id, "timestamp": now, "interaction_type": "text_input",
            "intent": turn.intent, "entities": turn.entities, "food_preference_extracted": ents.get("food_type"),
            "budget_pattern_extracted": ents.get("budget"), "companion_pattern_extracted": ents.get("companions"),
            "decision_confidence": _unit(nlu.confidence), "event_id": new_event_id()}),
        ("nlu_training_data", {
            **nlu_store.result_row(req.text, nlu.normalized_text, nlu.intent, nlu.confidence, ents,
                                   nlu.model_version or "", req.user_id),
            "created_at": now}),
    ]
    log_recs = [{"shop_id": r["shop_id"], "shop_name": r["shop_name"], "menu_id": r["menu_id"],
                 "menu_name": r["menu_name"], "score": r["score"], "ranking": r["rank"], "reason": r["reason"],
                 "reason_breakdown": r["reason_breakdown"],
                 "applicable_coupons": [r["coupon_id"]] if r["coupon_id"] else [],
                 "final_price_with_coupon": r["final_price"], "price": r["price"],
                 # which ranker scored it: the retrain trains on the served features only of the
                 # lists its own kind of model scored (models.ranking.served)
                 "scored_by": t.scorer_name,
                 **({"explored": True} if r.get("explored") else {})} for r in recs_out]
    cats = {r["category"] for r in recs_out}
    method = t.method if recs_out else ("coupon_based" if turn.intent == Intent.COUPON_INQUIRY else t.method)
    rows.append(("recommendations_log", {
        "user_id": req.user_id, "session_id": req.session_id, "timestamp": now, "request_intent": turn.intent,
        "request_entities": turn.entities, "recommendations": log_recs, "recommendation_count": len(recs_out),
        "recommendation_method": method, "confidence_score": _unit(nlu.confidence),
        "total_discount_available": sum(int(r["coupon"]["discount"]) for r in recs_out if r["coupon"]),
        "diversity_score": round(len(cats) / len(recs_out), 3) if recs_out else None,
        "personalization_score": round(sum(r["reason_breakdown"].get("personal_preference", 0.0) for r in recs_out)
                                       / len(recs_out), 3) if recs_out else None,
        "model_variant": t.variant, "event_id": t.event_id}))
    for p, r in zip(t.recommended, recs_out):
        if not p.features:
            continue
        stored = p.model_features or p.features
        row = {k: _unit(float(stored.get(k, p.features.get(k, 0.0)))) for k in feat.STORED}
        row.update({"user_id": req.user_id, "shop_id": p.cand.shop_id, "timestamp": now,
                    "visited_before": bool(p.features.get("visited_before")),
                    "predicted_score": _unit(p.score), "ranking_position": r["rank"],
                    "feature_contributions": r["feature_contributions"], "recommendation_event_id": t.event_id})
        rows.append(("recommendation_features", row))
    rows.append(("performance_logs", perf_row(
        req, now, timings, total, t.caches, success=True, confidence=nlu.confidence,
        operation="emergency_recommendation" if strategy == st.URGENT else "chat", variant=t.variant,
        model=t.scorer_name)))
    events.emit_many(rows)
