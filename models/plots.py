"""Figures people would rather look at than read: ranker ROC / PR / calibration against its
baselines, the NLU confusion matrix as a heatmap, retrieval metrics by query type; and markdown
tables for Dagster metadata. Logged as MLflow artifacts (``TrainingRun.log_figures``) and shown
in the Dagster UI.

matplotlib runs headless (Agg); every function returns figures and never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def ranker_curves(y_true: Sequence[int], scores: Mapping[str, Sequence[float]], bins: int = 10) -> dict[str, Any]:
    """``{"roc.png", "pr.png", "calibration.png"}`` for every scorer in ``scores`` (model and baselines)."""
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    plt = _plt()
    y = np.asarray(y_true, dtype=int)
    figs: dict[str, Any] = {}

    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, np.asarray(s, dtype=float))
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC on the holdout")
    ax.legend(loc="lower right", fontsize=8)
    figs["roc.png"] = fig

    fig, ax = plt.subplots(figsize=(5, 5))
    for name, s in scores.items():
        precision, recall, _ = precision_recall_curve(y, np.asarray(s, dtype=float))
        ax.plot(recall, precision, label=f"{name} (AP area {auc(recall, precision):.3f})")
    ax.axhline(y.mean() if len(y) else 0, ls="--", color="grey", label=f"base rate {y.mean():.3f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall on the holdout")
    ax.legend(loc="upper right", fontsize=8)
    figs["pr.png"] = fig

    fig, ax = plt.subplots(figsize=(5, 5))
    edges = np.linspace(0, 1, bins + 1)
    for name, s in scores.items():
        s = np.clip(np.asarray(s, dtype=float), 0, 1)
        which = np.clip(np.digitize(s, edges) - 1, 0, bins - 1)
        xs, ys = [], []
        for b in range(bins):
            mask = which == b
            if mask.sum() >= 5:  # a bin of a few rows says nothing
                xs.append(s[mask].mean())
                ys.append(y[mask].mean())
        ax.plot(xs, ys, "o-", label=name)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration on the holdout")
    ax.legend(loc="upper left", fontsize=8)
    figs["calibration.png"] = fig
    return figs


def confusion_heatmap(labels: Sequence[str], matrix: Sequence[Sequence[int]], title: str = "NLU intents") -> Any:
    """Rows: true label; columns: predicted; cells annotated with counts, colour by row share."""
    plt = _plt()
    m = np.asarray(matrix, dtype=float)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    size = max(5.0, 0.55 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if m[i, j]:
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")
    ax.set(xlabel="predicted", ylabel="true", title=f"{title}: confusion matrix")
    fig.tight_layout()
    return fig


def metrics_by_group(table: Mapping[str, Mapping[str, float]], title: str, *, ylabel: str = "",
                     ax: Any = None) -> Any:
    """Grouped bars: one group per key of ``table`` (a query type), one bar per inner key (a metric,
    or a retrieval mode). Draws on ``ax`` when given (a panel of a larger figure); returns the figure."""
    plt = _plt()
    groups = list(table)
    bars = list(dict.fromkeys(k for row in table.values() for k in row))  # in the caller's order
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(groups) + 2), 4))
    width = 0.8 / max(1, len(bars))
    for i, bar in enumerate(bars):
        ax.bar(np.arange(len(groups)) + i * width, [table[g].get(bar, 0.0) for g in groups], width, label=bar)
    ax.set_xticks(np.arange(len(groups)) + width * (len(bars) - 1) / 2, groups, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


#: the per-query-type metrics the retrieval benchmark reports (``<metric>_by_kind`` of each mode)
RETRIEVAL_METRICS = (("mrr@10", "MRR@10"), ("recall@10", "recall@10"))


def retrieval_by_query_type(quality: Mapping[str, Any], title: str = "Retrieval by query type",
                            modes: Sequence[str] = ("dense", "sparse", "hybrid")) -> Any:
    """One panel per metric (MRR@10, recall@10), query types on the x axis, a bar per retrieval mode.
    ``quality`` is the benchmark's ``evaluate()`` result: ``{mode: {"mrr@10_by_kind": {kind: v}, ...}}``."""
    plt = _plt()
    present = [m for m in modes if m in quality]
    kinds = sorted({k for m in present for metric, _ in RETRIEVAL_METRICS
                    for k in quality[m].get(f"{metric}_by_kind", {})})
    fig, axes = plt.subplots(1, len(RETRIEVAL_METRICS), figsize=(max(8.0, 1.6 * len(kinds) + 4), 4), squeeze=False)
    for ax, (metric, label) in zip(axes[0], RETRIEVAL_METRICS, strict=True):
        table = {kind: {m: quality[m].get(f"{metric}_by_kind", {}).get(kind, 0.0) for m in present} for kind in kinds}
        metrics_by_group(table, label, ylabel=label, ax=ax)
        ax.set_xlabel("query type")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def metric_trends(times: Sequence[Any], panels: Mapping[str, tuple[Sequence[float | None], float | None]],
                  title: str = "Monitoring") -> Any:
    """One panel per metric over ``times``: ``panels[name] = (values, threshold)``; a missing value
    (no evidence in that interval) is a gap, the threshold a dashed line."""
    plt = _plt()
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 2.2 * max(1, len(panels))), sharex=True, squeeze=False)
    for ax, (name, (values, threshold)) in zip(axes[:, 0], panels.items(), strict=True):
        ax.plot(list(times), [np.nan if v is None else float(v) for v in values], marker="o", markersize=3)
        if threshold is not None:
            ax.axhline(threshold, linestyle="--", color="tab:red", linewidth=1, label=f"threshold {threshold:g}")
            ax.legend(fontsize=8, loc="best")
        ax.set_ylabel(name, fontsize=8)
    axes[0, 0].set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def png_bytes(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    save_png(fig, buf)
    return buf.getvalue()


def markdown_images(images: Mapping[str, bytes]) -> str:
    """PNGs inline in Dagster's markdown metadata (the UI shows them; no file server needed)."""
    import base64

    return "\n\n".join(f"**{name}**\n\n![{name}](data:image/png;base64,{base64.b64encode(png).decode()})"
                       for name, png in sorted(images.items()))


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, digits: int = 4) -> str:
    """A GitHub-style table for Dagster ``MetadataValue.md`` (instead of raw JSON)."""
    if not rows:
        return "_(none)_"
    columns = list(columns or rows[0].keys())

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.{digits}f}" if np.isfinite(v) else "–"
        return "–" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def save_png(fig: Any, path) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _plt().close(fig)
