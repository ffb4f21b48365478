"""A simulation's per-day table and its plot (``orchestration/simulation`` logs both to MLflow)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PLOTTED = (("ctr", "CTR (views / shown)"), ("order_rate", "order rate (orders / session)"),
           ("satisfaction", "satisfaction (1–5)"), ("buyable_share", "share the child could buy"))
TABLE_COLUMNS = ("day", "sessions", "requests", "ctr", "order_rate", "satisfaction", "buyable_share",
                 "spend_to_balance", "refinements_per_session", "nlu_food_agreement", "nlu_budget_agreement",
                 "errors", "seconds", "req_per_s")


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] = TABLE_COLUMNS) -> str:
    """A Markdown table (what the closing note and the CLI print)."""
    def cell(v: Any) -> str:
        return "" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else list(TABLE_COLUMNS))
        w.writeheader()
        w.writerows(rows)
    return path


def plot(series: dict[str, Sequence[dict[str, Any]]], path: Path, title: str) -> Path:
    """One panel per metric, one line per labelled run (e.g. popularity / wide&deep / oracle)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, (key, label) in zip(axes.flat, PLOTTED):
        for name, rows in series.items():
            xs = [i + 1 for i, r in enumerate(rows) if r.get(key) is not None]
            ys = [r[key] for r in rows if r.get(key) is not None]
            ax.plot(xs, ys, marker="o", ms=3, label=name)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("simulated day")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
