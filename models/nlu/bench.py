"""Benchmark: dev-set scores and parse latency (``python -m models.nlu.bench [DEV.jsonl]``).

Latencies, with the model loaded once and warmed up:
* ``model_path``  — parse() on a cache miss without I/O (normalize, Kiwi keywords, rules, classifier);
* ``rule_path``   — normalization + entity rules + intent cues + tie-break only (no Kiwi, no model);
* ``full_miss``   — parse() with every cache level live (L1, Redis, nlu_training_data lookup) on text
  never seen before: what a new utterance costs in the service (its nlu_training_data insert is
  write-behind, off the request path, and left out here so bench rows never reach the table);
* ``cache_hit``   — parse() answered by the L1 cache.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np


def _pct(samples: list[float]) -> dict:
    arr = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(arr, 50)), 3), "p99_ms": round(float(np.percentile(arr, 99)), 3),
            "mean_ms": round(float(arr.mean()), 3), "n": len(samples)}


def run_bench(dev: Path | None = None, repeats: int = 5) -> dict:
    from models.nlu.evaluate import read_jsonl, score  # noqa: PLC0415
    from models.nlu.parser import NLUParser  # noqa: PLC0415
    from models.nlu.preprocess import preprocess  # noqa: PLC0415
    from models.nlu.registry import default_dev_path  # noqa: PLC0415
    from models.nlu.rules import intent_cues, resolve  # noqa: PLC0415
    from models.nlu.train import load_or_train  # noqa: PLC0415

    dev = dev or default_dev_path()
    if dev is None:
        raise SystemExit("no dev file: pass one (e.g. shared/eval/nlu_dev.jsonl)")
    gold = read_jsonl(Path(dev), require=("text", "intent"))
    texts = [g["text"] for g in gold]
    t0 = time.perf_counter()
    parser = NLUParser(load_or_train())
    load_s = time.perf_counter() - t0
    results = parser.parse_many(texts)
    report = score(gold, [{"intent": r.intent, "entities": r.entities} for r in results])

    for t in texts[:10]:  # warm-up: Kiwi, vectorizer, regexes
        parser.parse(t, use_cache=False, persist=False)
    model_path, rule_path = [], []
    for _ in range(repeats):
        for t in texts:
            s = time.perf_counter()
            parser.parse(t, use_cache=False, persist=False)
            model_path.append(time.perf_counter() - s)
            s = time.perf_counter()
            pre = preprocess(t, with_keywords=False)
            resolve(intent_cues(pre.normalized_text, pre.extraction))
            rule_path.append(time.perf_counter() - s)

    full_miss, hits = [], []
    nonce = uuid.uuid4().hex[:8]
    parser.parse(f"warm-up {nonce}", persist=False)  # opens the lookup connection and the Redis pool once
    parser.flush()
    for i, t in enumerate(texts * max(1, repeats // 2)):
        unique = f"{t} {nonce}{i}"
        s = time.perf_counter()
        parser.parse(unique, persist=False)  # the insert is write-behind; bench rows stay out of the table
        full_miss.append(time.perf_counter() - s)
        s = time.perf_counter()
        parser.parse(unique, persist=False)
        hits.append(time.perf_counter() - s)
    parser.flush()
    return {
        "dev_file": str(dev), "model_version": parser.model_version, "model_kind": getattr(parser.model, "kind", None),
        "model_load_seconds": round(load_s, 2), "dev": report.scores(),
        "latency": {"model_path": _pct(model_path), "rule_path": _pct(rule_path), "full_miss": _pct(full_miss),
                    "cache_hit": _pct(hits)},
        "redis_available": parser.redis.breaker.available(), "db_available": parser.db_breaker.available(),
    }


def run_sets(dev: Path | None = None, model_path: Path | None = None, kind: str | None = None) -> dict:
    """Scores of one model on the three sets: dev (smoke test), blind split (the gate's), and the
    robustness suite per category. Default model: the registry's champion."""
    from models.nlu import blind, gate, registry  # noqa: PLC0415
    from models.nlu.evaluate import read_jsonl  # noqa: PLC0415
    from models.nlu.train import load_or_train  # noqa: PLC0415

    if model_path is not None:
        model = registry.load_kind(kind or registry.KIND_CLASSIFIER, Path(model_path))
    else:
        model = load_or_train()
    dev = dev or registry.default_dev_path()
    out = {"model_version": getattr(model, "version", None), "model_kind": getattr(model, "kind", None),
           "blind": gate.scores_on(model, blind.blind_rows()), "blind_size": len(blind.blind_rows()),
           "robustness": gate.robustness_scores(model)}
    if dev is not None and Path(dev).exists():
        out["dev"] = gate.scores_on(model, read_jsonl(Path(dev), require=("text", "intent")))
    return out


if __name__ == "__main__":
    print(json.dumps(run_bench(Path(sys.argv[1]) if len(sys.argv) > 1 else None), ensure_ascii=False, indent=2))
