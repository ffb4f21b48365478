import numpy as np

from models import plots


def test_ranker_curves_draw_every_scorer_and_the_references(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    figs = plots.ranker_curves(y, {"wide_deep": good, "popularity": rng.random(400)})
    assert set(figs) == {"roc.png", "pr.png", "calibration.png"}
    roc = figs["roc.png"].axes[0]
    labels = [line.get_label() for line in roc.get_lines()]
    auc = {label.split(" ")[0]: float(label.split("AUC ")[1].rstrip(")")) for label in labels[:2]}
    assert 0.75 < auc["wide_deep"] < 1.0 and 0.4 < auc["popularity"] < 0.6
    assert labels[-1] == "random"
    for name, fig in figs.items():
        plots.save_png(fig, tmp_path / name)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_confusion_heatmap_annotates_counts():
    fig = plots.confusion_heatmap(["a", "b"], [[5, 1], [0, 7]])
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["1", "5", "7"]  # zero cells stay blank


def test_markdown_table_for_dagster_metadata():
    md = plots.markdown_table([{"query_type": "food", "recall@10": 0.85, "n": 40},
                               {"query_type": "a|b", "recall@10": float("nan"), "n": None}])
    assert md.splitlines() == ["| query_type | recall@10 | n |", "|---|---|---|",
                               "| food | 0.8500 | 40 |", "| a\\|b | – | – |"]
    assert plots.markdown_table([]) == "_(none)_"
    fig = plots.metrics_by_group({"food": {"recall@10": 0.8, "mrr@10": 0.7}, "place": {"recall@10": 0.5}}, "t")
    assert len(fig.axes[0].patches) == 4


def test_metrics_by_group_labels_its_axes_and_keeps_the_callers_bar_order():
    fig = plots.metrics_by_group({"dish": {"dense": 0.9, "sparse": 0.4}, "typo": {"dense": 0.5, "sparse": 0.2}},
                                 "MRR@10", ylabel="MRR@10")
    ax = fig.axes[0]
    assert ax.get_title() == "MRR@10" and ax.get_ylabel() == "MRR@10"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dish", "typo"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["dense", "sparse"]
    assert [round(p.get_height(), 2) for p in ax.patches] == [0.9, 0.5, 0.4, 0.2]


def test_retrieval_by_query_type_draws_mrr_and_recall_per_mode(tmp_path):
    quality = {mode: {"recall@10": 0.5, "mrr@10": 0.6,
                      "mrr@10_by_kind": {"dish": base, "typo": base / 2},
                      "recall@10_by_kind": {"dish": base / 3, "typo": base / 4}}
               for mode, base in (("dense", 0.9), ("sparse", 0.6), ("hybrid", 0.96))}
    quality["queries"] = 238  # the report's other keys are not modes
    fig = plots.retrieval_by_query_type(quality, "dev set")
    mrr, recall = fig.axes
    assert (mrr.get_title(), recall.get_title()) == ("MRR@10", "recall@10")
    assert mrr.get_xlabel() == "query type" and recall.get_ylabel() == "recall@10"
    assert [t.get_text() for t in mrr.get_legend().get_texts()] == ["dense", "sparse", "hybrid"]
    assert [t.get_text() for t in recall.get_xticklabels()] == ["dish", "typo"]
    # bars per mode, query types in order: dense dish, dense typo, sparse dish, ...
    assert [round(p.get_height(), 3) for p in mrr.patches] == [0.9, 0.45, 0.6, 0.3, 0.96, 0.48]
    assert [round(p.get_height(), 3) for p in recall.patches] == [0.3, 0.225, 0.2, 0.15, 0.32, 0.24]
    assert fig._suptitle.get_text() == "dev set"
    plots.save_png(fig, tmp_path / "q.png")
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metric_trends_has_a_panel_per_metric_with_its_threshold():
    from datetime import datetime, timedelta

    from models.plots import markdown_images, metric_trends, png_bytes

    hours = [datetime(2026, 12, 7, h) for h in range(5)]
    fig = metric_trends(hours, {"ctr": ([0.3, None, 0.2, 0.25, 0.4], 0.25), "ms": ([100, 200, 150, 90, 80], None)})
    axes = fig.axes
    assert [a.get_ylabel() for a in axes] == ["ctr", "ms"]
    assert len(axes[0].get_lines()) == 2 and len(axes[1].get_lines()) == 1  # the threshold is a line
    png = png_bytes(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert markdown_images({"t.png": png}).startswith("**t.png**\n\n![t.png](data:image/png;base64,")
    assert hours[-1] - hours[0] == timedelta(hours=4)
