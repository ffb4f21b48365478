"""What the chat service tells an operator: Prometheus metrics and OpenTelemetry spans per turn.

Metrics go through ``prometheus_client``; BentoML sets ``PROMETHEUS_MULTIPROC_DIR`` in every worker,
so ``/metrics`` (BentoML's route) aggregates all workers. BentoML's own middleware adds request
latency and counts per endpoint (``bentoml_service_request_duration_seconds``,
``bentoml_service_request_total``); this module adds what only the pipeline knows: stage latencies,
cache levels, NLU intents, empty answers by reason, the model variant served, feedback actions and
the event log's queue and spool. ``monitoring_gauges`` appends the §13 figures the 5-minute batch
computed (NLU accuracy and CTR need ground truth and feedback the request cannot see).

Spans: with ``NAVIYAM_OTLP_ENDPOINT`` set, each turn is one span with a child per pipeline stage,
exported over OTLP/HTTP as JSON (the protocol's JSON encoding, so no exporter package is needed).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from serving.dialogue import FOOD_FINDING_INTENTS

log = logging.getLogger(__name__)

#: stage latencies run from a fraction of a millisecond (cache hits) to seconds (a cold model)
STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: cache levels that answered without computing (the rest: miss, unavailable, computed)
HIT_LEVELS = frozenset({"l1", "l2", "l3", "redis", "postgres", "given", "hit", "cache_l1", "cache_redis", "cache_db"})
#: the pipeline's cache keys worth counting (user features from Feast are a store, not a cache)
CACHE_KEYS = ("context", "embedding", "nlu", "retrieval")
#: feedback that counts as a click for the CTR (as in the monitoring_5min mart)
CLICK_ACTIONS = ("detail_view", "selection", "order", "coupon_use")
#: turns that asked for food: an empty answer to one of them is worth counting
FINDING_INTENTS = FOOD_FINDING_INTENTS | {"coupon_inquiry"}

#: every metric this module exports (name as scraped → type); the alert-rule test checks against it
EXPORTED: dict[str, str] = {
    "naviyam_chat_turn_duration_seconds": "histogram",
    "naviyam_stage_duration_seconds": "histogram",
    "naviyam_cache_lookups_total": "counter",
    "naviyam_nlu_intent_total": "counter",
    "naviyam_empty_answers_total": "counter",
    "naviyam_model_variant_served_total": "counter",
    "naviyam_recommendation_impressions_total": "counter",
    "naviyam_feedback_total": "counter",
    "naviyam_event_log_pending": "gauge",
    "naviyam_event_log_db_up": "gauge",
    "naviyam_event_log_written_total": "counter",
    "naviyam_event_log_spooled_total": "counter",
    "naviyam_event_log_replayed_total": "counter",
    "naviyam_event_log_rejected_total": "counter",
    "naviyam_monitoring_nlu_accuracy": "gauge",
    "naviyam_monitoring_recommendation_ctr": "gauge",
    "naviyam_monitoring_cache_hit_rate": "gauge",
    "naviyam_monitoring_avg_response_time_ms": "gauge",
    # BentoML's own, per endpoint
    "bentoml_service_request_duration_seconds": "histogram",
    "bentoml_service_request_total": "counter",
    "bentoml_service_request_in_progress": "gauge",
}


class Metrics:
    """The service's instruments; create after the worker has its PROMETHEUS_MULTIPROC_DIR."""

    def __init__(self, registry=None) -> None:
        from prometheus_client import REGISTRY, Counter, Gauge, Histogram

        reg = registry if registry is not None else REGISTRY
        self.turn = Histogram("naviyam_chat_turn_duration_seconds", "Whole chat turn inside the pipeline.",
                              ["strategy"], buckets=TURN_BUCKETS, registry=reg)
        self.stage = Histogram("naviyam_stage_duration_seconds", "Pipeline stage latency (the stopwatch stages).",
                               ["stage"], buckets=STAGE_BUCKETS, registry=reg)
        self.cache = Counter("naviyam_cache_lookups", "Cache lookups by cache and the level that answered.",
                             ["cache", "level", "hit"], registry=reg)
        self.intent = Counter("naviyam_nlu_intent", "Turns by effective intent.", ["intent"], registry=reg)
        self.empty = Counter("naviyam_empty_answers", "Food-finding turns that recommended nothing, by reason.",
                             ["reason"], registry=reg)
        self.variant = Counter("naviyam_model_variant_served", "Ranked turns by A/B variant and ranking model.",
                               ["variant", "model"], registry=reg)
        self.impressions = Counter("naviyam_recommendation_impressions", "Recommendations shown.", registry=reg)
        self.feedback = Counter("naviyam_feedback", "Feedback by action and outcome.", ["action", "status"],
                                registry=reg)
        self.pending = Gauge("naviyam_event_log_pending", "Records queued for the database (all workers).",
                             registry=reg, multiprocess_mode="livesum")
        self.db_up = Gauge("naviyam_event_log_db_up", "1 when every worker's event log reaches PostgreSQL.",
                           registry=reg, multiprocess_mode="livemin")
        self.written = Counter("naviyam_event_log_written", "Records written to PostgreSQL.", registry=reg)
        self.spooled = Counter("naviyam_event_log_spooled", "Records spooled to local disk (database down).",
                               registry=reg)
        self.replayed = Counter("naviyam_event_log_replayed", "Spooled records replayed.", registry=reg)
        self.rejected = Counter("naviyam_event_log_rejected", "Records PostgreSQL refused (rejected.jsonl).",
                                registry=reg)
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def observe_turn(self, result: Mapping[str, Any]) -> None:
        timings = dict(result.get("timings_ms") or {})
        total = timings.pop("total", None)
        strategy = str(result.get("strategy") or "unknown")
        if total is not None:
            self.turn.labels(strategy).observe(total / 1000)
        for stage, ms in timings.items():
            self.stage.labels(stage).observe(ms / 1000)
        for name, level in (result.get("cache") or {}).items():
            if name in CACHE_KEYS:
                self.cache.labels(name, str(level), "true" if level in HIT_LEVELS else "false").inc()
        intent = str(result.get("intent") or "unknown")
        self.intent.labels(intent).inc()
        recs = result.get("recommendations") or []
        if recs:
            self.impressions.inc(len(recs))
            self.variant.labels(str(result.get("model_variant") or ""), str(result.get("ranking_model") or "")).inc()
        elif intent in FINDING_INTENTS or result.get("refinement"):
            self.empty.labels(empty_reason(result)).inc()

    def observe_feedback(self, action: str, status: str) -> None:
        self.feedback.labels(action, status).inc()

    def observe_event_log(self, events) -> None:
        """Counters from the event log's cumulative stats (delta since the last call), gauges as they are."""
        stats = events.stats
        with self._lock:
            for name, counter in (("written", self.written), ("spooled", self.spooled),
                                  ("replayed", self.replayed), ("rejected", self.rejected)):
                now = int(getattr(stats, name, 0))
                delta = now - self._seen.get(name, 0)
                if delta > 0:
                    counter.inc(delta)
                self._seen[name] = now
        self.pending.set(events.pending)
        self.db_up.set(1 if events.db_up else 0)


def empty_reason(result: Mapping[str, Any]) -> str:
    """Why a food-finding turn recommended nothing, from what the answer says."""
    cache = result.get("cache") or {}
    if cache.get("retrieval") == "unavailable":
        return "retrieval_unavailable"
    if result.get("alternatives"):
        return "over_budget"  # something matched, none of it payable: the answer offers alternatives
    card = result.get("meal_card") or {}
    if card.get("spend_limit") is not None and card["spend_limit"] <= 0:
        return "no_balance"
    return "no_match"


class EventLogExporter:
    """Copies one worker's event-log counters into the metrics every few seconds (replays and spools
    happen between requests, when nothing else would update them)."""

    def __init__(self, metrics: Metrics, events, every_s: float = 5.0) -> None:
        self.metrics, self.events, self.every_s = metrics, events, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="naviyam-metrics", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.metrics.observe_event_log(self.events)
            except Exception:  # a metrics hiccup must never touch serving
                log.debug("event-log metrics update failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()


# --- §13 figures from the 5-minute batch ----------------------------------------------------
MONITORING_SQL = """
select avg(nlu_accuracy) as nlu_accuracy,
       sum(clicks)::float / nullif(sum(impressions), 0) as recommendation_ctr,
       avg(cache_hit_rate) as cache_hit_rate,
       sum(avg_response_time_ms * request_count) / nullif(sum(request_count), 0) as avg_response_time_ms
from analytics.monitoring_5min
where bucket_start >= now() - interval '1 hour'
"""


class MonitoringGauges:
    """The last hour of ``analytics.monitoring_5min`` as gauge lines, read at most once a minute."""

    def __init__(self, engine, ttl_s: float = 60.0) -> None:
        self.engine, self.ttl_s = engine, ttl_s
        self._at, self._text = 0.0, ""
        self._lock = threading.Lock()

    def text(self) -> str:
        with self._lock:
            if time.monotonic() - self._at < self.ttl_s:
                return self._text
            self._at = time.monotonic()
        try:
            from sqlalchemy import text

            with self.engine.connect() as conn:
                conn.execute(text("SET LOCAL statement_timeout = 2000"))
                row = conn.execute(text(MONITORING_SQL)).mappings().first() or {}
        except Exception as exc:  # no warehouse yet, or PostgreSQL down: scrape the live metrics anyway
            log.debug("monitoring gauges unavailable (%s)", type(exc).__name__)
            row = {}
        lines = []
        for key in ("nlu_accuracy", "recommendation_ctr", "cache_hit_rate", "avg_response_time_ms"):
            value = row.get(key)
            if value is None:
                continue
            name = f"naviyam_monitoring_{key}"
            lines += [f"# HELP {name} Last hour of analytics.monitoring_5min (the 5-minute batch).",
                      f"# TYPE {name} gauge", f"{name} {float(value)}"]
        with self._lock:
            self._text = "\n".join(lines) + ("\n" if lines else "")
            return self._text


# --- tracing -------------------------------------------------------------------------------
class OtlpJsonExporter:
    """An OpenTelemetry SpanExporter posting OTLP/HTTP JSON (``/v1/traces``) with httpx."""

    def __init__(self, endpoint: str, timeout_s: float = 3.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s

    def export(self, spans) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            import httpx

            r = httpx.post(self.endpoint, content=json.dumps(encode_spans(spans)),
                           headers={"Content-Type": "application/json"}, timeout=self.timeout_s)
            return SpanExportResult.SUCCESS if r.status_code < 300 else SpanExportResult.FAILURE
        except Exception as exc:
            log.warning("OTLP export to %s failed (%s)", self.endpoint, type(exc).__name__)
            return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _attr_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def encode_spans(spans) -> dict[str, Any]:
    """ReadableSpans → the OTLP JSON body (one resource and scope per batch, as the SDK groups them)."""
    by_resource: dict[Any, list] = {}
    for span in spans:
        by_resource.setdefault(span.resource, []).append(span)
    resource_spans = []
    for resource, group in by_resource.items():
        out = []
        for s in group:
            ctx = s.context
            out.append({
                "traceId": f"{ctx.trace_id:032x}", "spanId": f"{ctx.span_id:016x}",
                **({"parentSpanId": f"{s.parent.span_id:016x}"} if s.parent is not None else {}),
                "name": s.name, "kind": int(s.kind.value) + 1,  # OTLP counts SPAN_KIND_UNSPECIFIED as 0
                "startTimeUnixNano": str(s.start_time), "endTimeUnixNano": str(s.end_time),
                "attributes": [{"key": k, "value": _attr_value(v)} for k, v in (s.attributes or {}).items()],
                "status": {"code": int(s.status.status_code.value)},
            })
        resource_spans.append({
            "resource": {"attributes": [{"key": k, "value": _attr_value(v)}
                                        for k, v in resource.attributes.items()]},
            "scopeSpans": [{"scope": {"name": "naviyam.serving"}, "spans": out}],
        })
    return {"resourceSpans": resource_spans}


class Tracer:
    """One span per turn and a child per stage; a no-op without an endpoint."""

    def __init__(self, endpoint: str | None, service_name: str = "naviyam", processor: str = "batch") -> None:
        self.enabled = bool(endpoint)
        self._tracer = None
        self.provider = None
        if not self.enabled:
            return
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        self.provider = TracerProvider(resource=Resource.create({"service.name": service_name,
                                                                  "service.instance.id": str(os.getpid())}))
        exporter = OtlpJsonExporter(endpoint)
        self.provider.add_span_processor(
            SimpleSpanProcessor(exporter) if processor == "simple" else BatchSpanProcessor(exporter))
        self._tracer = self.provider.get_tracer("naviyam.serving")

    def record_turn(self, name: str, started_ns: int, ended_ns: int, stages: list[tuple[str, int, int]],
                    attributes: Mapping[str, Any], error: BaseException | None = None,
                    headers: Mapping[str, str] | None = None) -> None:
        """Write the turn's span and its stage spans after the fact, from the stopwatch's marks.

        The parent is the caller's W3C ``traceparent`` when it sent one, never the ambient context:
        inside a request that is BentoML's own server span, unsampled and never exported, which
        would make every span of ours a dropped child."""
        if self._tracer is None:
            return
        from opentelemetry import trace
        from opentelemetry.context import Context
        from opentelemetry.trace import Status, StatusCode
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        caller = TraceContextTextMapPropagator().extract(dict(headers or {}), context=Context())
        root = self._tracer.start_span(name, context=caller, start_time=started_ns, kind=trace.SpanKind.SERVER,
                                       attributes={k: v for k, v in attributes.items() if v is not None})
        if error is not None:
            root.set_status(Status(StatusCode.ERROR, type(error).__name__))
        parent = trace.set_span_in_context(root)
        for stage, start, end in stages:
            span = self._tracer.start_span(f"stage.{stage}", context=parent, start_time=start)
            span.end(end_time=end)
        root.end(end_time=ended_ns)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()


def new_request_id() -> str:
    return secrets.token_hex(8)


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    """The process's one set of instruments (prometheus_client refuses to register a name twice)."""
    return Metrics()
