"""The A/B runs' report: per-arm outcome table, per-arm latency table, the LoRA model's offline line."""

from orchestration.simulation.ab_runs import format_report


def test_report_has_arms_latency_and_the_group_b_models_offline_figures():
    report = {
        "experiments": {"lora_group_b": {
            "champion": "learned", "challenger": "lora", "expected": None, "outcome": "keep",
            "reason": "order rate 0.30 vs 0.33",
            "arms": {"champion": {"lists": 800, "order_rate": 0.33, "order_rate_ci_low": 0.30,
                                  "order_rate_ci_high": 0.36, "satisfaction_mean": 2.2, "ctr": 0.7},
                     "lora_model": {"lists": 790, "order_rate": 0.30, "order_rate_ci_low": 0.27,
                                    "order_rate_ci_high": 0.33, "satisfaction_mean": 2.1, "ctr": 0.68}},
            "latency": {"champion": {"turns": 2000, "ranking_ms_p50": 9.5, "ranking_ms_p99": 40.0,
                                     "total_ms_p50": 120, "total_ms_p99": 400},
                        "lora_model": {"turns": 1900, "ranking_ms_p50": 14.0, "ranking_ms_p99": 55.0,
                                       "total_ms_p50": 125, "total_ms_p99": 420}}}},
        "models": {"lora": {"train_seconds": 95.0, "holdout": {
            "lora_two_tower": {"auc": 0.61, "ndcg@10": 0.5, "score_ms_p50": 12.0, "score_ms_p99": 30.0},
            "popularity": {"auc": 0.55, "ndcg@10": 0.45}}}},
    }
    text = format_report(report)
    assert "| lora_group_b | learned | lora | lora_model | 790 | 0.300 [0.270, 0.330] | 2.10 | 0.680 |" in text
    assert "| lora_group_b | lora_model | 1900 | 14.0 | 55.0 | 125 | 420 |" in text
    assert "lora: trained in 95 s; holdout lora_two_tower AUC 0.6100 NDCG@10 0.5000 (12.0 / 30.0 ms per request)" in text
    assert "**lora_group_b**: keep (expected nothing in particular)" in text
