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
