"""The demo's closing lines: the figures a newcomer looks for, short (the whole summary is a file)."""

from __future__ import annotations

from orchestration.demo import summary_lines


def test_summary_lines_are_few_and_carry_the_figures():
    summary = {
        "ingest": {"rows": 86790, "rows_per_second": 15312, "quarantined": 0},
        "assets": {"stages": {"warehouse": {"seconds": 20.8, "success": True, "checks_passed": 277, "checks_failed": []},
                              "training": {"seconds": 32.1, "success": False, "checks_passed": 0,
                                           "checks_failed": ["x"]}}},
        "chats": 5, "batch_success": True, "timings_s": {"assets": 253.9, "chats": 16.3},
    }
    lines = summary_lines(summary)
    assert len(lines) <= 6
    text = "\n".join(lines)
    assert "86,790 rows" in text and "warehouse 21s" in text and "training 32s FAILED" in text
    assert "277 passed, 1 failed" in text and "chats: 5" in text and "assets 254s" in text
