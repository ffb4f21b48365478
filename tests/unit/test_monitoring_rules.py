"""The Grafana dashboard and the Prometheus alert rules name only metrics the service exports,
and the spec's four §13 thresholds are there with their values."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from serving import telemetry

MONITORING = Path(__file__).resolve().parents[2] / "infra" / "deploy" / "monitoring"
METRIC = re.compile(r"\b((?:naviyam|bentoml)_[a-z0-9_]+)")
SUFFIXES = ("_bucket", "_count", "_sum")


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and telemetry.EXPORTED.get(name[: -len(suffix)]) == "histogram":
            return name[: -len(suffix)]
    return name


def _rules() -> list[dict]:
    doc = yaml.safe_load((MONITORING / "prometheus-alerts.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


def test_every_metric_named_is_exported():
    named = {_base(m) for expr in [r["expr"] for r in _rules()] + _dashboard_exprs() for m in METRIC.findall(expr)}
    assert named, "no metric found: the parser is wrong"
    assert named <= set(telemetry.EXPORTED), f"not exported: {sorted(named - set(telemetry.EXPORTED))}"


def test_exported_list_matches_what_the_service_registers():
    registry = CollectorRegistry()
    telemetry.Metrics(registry=registry)
    registered = set()
    for family in registry.collect():
        kind = family.type
        registered.add(family.name + ("_total" if kind == "counter" else ""))
    ours = {n for n in telemetry.EXPORTED if n.startswith("naviyam_") and not n.startswith("naviyam_monitoring_")}
    assert ours == registered
    # the batch's §13 figures: one gauge per column MonitoringGauges reads
    monitoring = {n for n in telemetry.EXPORTED if n.startswith("naviyam_monitoring_")}
    assert monitoring == {f"naviyam_monitoring_{c}" for c in
                          ("nlu_accuracy", "recommendation_ctr", "cache_hit_rate", "avg_response_time_ms")}


def test_spec_13_thresholds_are_alert_rules():
    by_name = {r["alert"]: r for r in _rules()}
    assert "> 0.5" in by_name["NaviyamResponseTimeHigh"]["expr"]          # 500 ms
    assert "< 0.7" in by_name["NaviyamCacheHitRateLow"]["expr"]           # 70 %
    assert "< 0.85" in by_name["NaviyamNluAccuracyLow"]["expr"]           # 85 %
    assert "< 0.25" in by_name["NaviyamRecommendationCtrLow"]["expr"]     # 25 %
    for rule in by_name.values():
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in ("warning", "critical")


def test_dashboard_covers_the_operators_questions():
    dash = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    titles = " | ".join(p["title"] for p in dash["panels"])
    for topic in ("latency", "Throughput", "Errors", "Cache hit rate", "stage", "Event log", "intents",
                  "Model variant", "Empty answers"):
        assert topic.lower() in titles.lower(), topic
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:  # panels never overlap the 24-column grid
        assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24


def test_turn_metrics_from_a_response(tmp_path):
    registry = CollectorRegistry()
    m = telemetry.Metrics(registry=registry)
    m.observe_turn({"timings_ms": {"nlu": 1.5, "retrieval": 4.0, "total": 9.0}, "strategy": "urgent",
                    "cache": {"nlu": "redis", "retrieval": "miss", "account": "postgres"}, "intent": "food_request",
                    "recommendations": [{}, {}], "model_variant": "champion", "ranking_model": "wide_deep"})
    m.observe_turn({"timings_ms": {"total": 3.0}, "strategy": "normal", "cache": {}, "intent": "food_request",
                    "recommendations": [], "alternatives": [{}], "meal_card": {}})

    def value(name, **labels):
        return registry.get_sample_value(name, labels)

    assert value("naviyam_stage_duration_seconds_count", stage="nlu") == 1
    assert value("naviyam_cache_lookups_total", cache="nlu", level="redis", hit="true") == 1
    assert value("naviyam_cache_lookups_total", cache="retrieval", level="miss", hit="false") == 1
    assert value("naviyam_cache_lookups_total", cache="account", level="postgres", hit="true") is None
    assert value("naviyam_recommendation_impressions_total") == 2
    assert value("naviyam_model_variant_served_total", variant="champion", model="wide_deep") == 1
    assert value("naviyam_empty_answers_total", reason="over_budget") == 1
    assert value("naviyam_nlu_intent_total", intent="food_request") == 2
