"""The simulator's own Korean phrasing model: meaning kept, noise applied, separate from the NLU grammar."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from infra.simulator import phrasing
from infra.simulator.phrasing import Phraser, Want, korean_amount

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("won, style, expected", [
    (5000, 0, "5000원"), (5000, 1, "5천원"), (5000, 2, "오천원"), (6500, 1, "6천5백원"), (6500, 2, "육천오백원"),
    (10000, 1, "만원"), (10000, 2, "만 원"), (25000, 1, "25000원"),
])
def test_amounts_are_spelled_the_ways_children_write_them(won, style, expected):
    assert korean_amount(won, style) == expected


def test_openings_carry_the_meaning_through_the_noise():
    p = Phraser(np.random.default_rng(0))
    texts = []
    for i in range(400):
        want = Want(category="분식", dish="떡볶이", budget=6000 if i % 2 else None, near=i % 5 == 0)
        u = p.opening(want)
        texts.append(u.text)
        assert u.want == want and u.text.strip()
        squashed = u.text.replace(" ", "")
        # the dish survives unless a typo hit it (떠볶이: that is the point of typos)
        assert "떡볶이" in squashed or any(n.startswith("typo") for n in u.noise)
        if want.budget:
            assert re.search(r"6000원|6천|육천", squashed)
    assert len(set(texts)) > 150  # varied, not a handful of fixed strings


def test_noise_kinds_all_occur_and_are_reported():
    p = Phraser(np.random.default_rng(1))
    seen = set()
    for _ in range(600):
        u = p.opening(Want(category="치킨", dish="양념치킨"))
        seen |= {n.split(":")[0] for n in u.noise}
        if "emoji" in u.noise:
            assert any(e in u.text for e in phrasing.EMOJI)
        if "spacing:no_spaces" in u.noise:
            assert " " not in u.text.split(" ")[0] or "emoji" in u.noise
    assert seen == {"typo", "spacing", "slang", "emoji"}


def test_typos_change_hangul_only_and_keep_length_close():
    rng = np.random.default_rng(2)
    kinds = set()
    for _ in range(300):
        out, kind = phrasing.typo("떡볶이 먹고 싶어", rng)
        kinds.add(kind)
        assert abs(len(out) - len("떡볶이 먹고 싶어")) <= 1 and (out != "떡볶이 먹고 싶어") == (kind != "none")
        assert sorted(out.replace(" ", "")) != [] and set(out) - set("떡볶이 먹고 싶어") <= set("떠보머시")
    assert {"batchim", "double", "swap"} <= kinds
    assert phrasing.drop_batchim("밥") == "바" and phrasing.drop_batchim("a") == "a"


@pytest.mark.parametrize("kind, pattern", [
    ("cheaper", r"싼|저렴|비싸"), ("no_spicy", r"매운|맵"), ("other", r"다른|딴"), ("closer", r"가까운"),
])
def test_refinements_say_what_they_mean(kind, pattern):
    p = Phraser(np.random.default_rng(3))
    for _ in range(50):
        text = p.refine(kind).text.replace(" ", "")
        assert re.search(pattern, text), text


def test_seeded_and_separate_from_the_nlu_training_grammar():
    a = [Phraser(np.random.default_rng(9)).opening(Want(dish="짜장면", category="중식")).text for _ in range(3)]
    b = [Phraser(np.random.default_rng(9)).opening(Want(dish="짜장면", category="중식")).text for _ in range(3)]
    assert a == b
    source = (ROOT / "infra/simulator/phrasing.py").read_text(encoding="utf-8")
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    assert not any(m and m.startswith("models") for m in imported)  # never the NLU's grammar or lexicon
    from models.nlu import training_data

    grammar = set()
    for name in dir(training_data):
        value = getattr(training_data, name)
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
            grammar |= set(value)
    templates = set(phrasing.HUNGER) | set(phrasing.WANT_ENDINGS) | set(phrasing.BUDGET_FRAMES) | set(
        phrasing.BUDGET_WITH_DISH) | {t for ts in phrasing.REFINEMENTS.values() for t in ts}
    shared = {t for t in templates if t in grammar}
    assert len(shared) <= len(templates) // 5, shared  # its own templates, not the grammar's
