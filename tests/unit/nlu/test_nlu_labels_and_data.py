"""The label contract module, the lexicon and the training-data grammar."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from models.nlu.labels import FOOD_CATEGORIES, INTENT_VALUES, SLOT_VALUES, Slot, validate_entities
from models.nlu.lexicon import FOOD_LEXICON
from models.nlu.training_data import class_balance, generate, money_surfaces
from models.nlu.amounts import budget_from_text

from models.nlu.registry import default_dev_path

DEV = default_dev_path() or Path("/nonexistent/nlu_dev.jsonl")


def test_contract_sizes():
    assert len(INTENT_VALUES) == 9 and len(SLOT_VALUES) == 9 and len(FOOD_CATEGORIES) == 13
    assert Slot.DIETARY_RESTRICTIONS.value == "dietary_restrictions"


def test_lexicon_maps_to_the_13_categories():
    assert set(FOOD_LEXICON.values()) == set(FOOD_CATEGORIES)


@pytest.fixture(scope="module")
def rows():
    return generate(3000, seed=11)


def test_generate_is_deterministic():
    assert generate(200, seed=3) == generate(200, seed=3)
    assert generate(200, seed=3) != generate(200, seed=4)


def test_every_intent_is_generated(rows):
    balance = class_balance(rows)
    assert set(balance) == set(INTENT_VALUES)
    assert min(balance.values()) >= 150


def test_gold_frames_follow_the_contract(rows):
    for r in rows:
        assert r["intent"] in INTENT_VALUES
        assert validate_entities(r["entities"]) == [], r


def test_texts_are_varied(rows):
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts)
    endings = Counter(t.split()[-1] for t in texts if t.split())
    assert len(endings) > 300


@pytest.mark.skipif(not DEV.exists(), reason="public dev set not present")
def test_no_dev_sentence_is_in_the_training_data():
    """The grammar never reproduces a dev sentence (greetings of a few characters excepted: "고마워!")."""
    def key(text):
        return re.sub(r"[\s?!.~]", "", text)

    dev = {key(json.loads(line)["text"]) for line in DEV.read_text(encoding="utf-8").splitlines() if line}
    generated = {key(r["text"]) for r in generate(9000, seed=20261125)}
    assert not {d for d in dev & generated if len(d) > 5}


@pytest.mark.parametrize("value", [3000, 5000, 10000, 12000, 15000, 20000, 25000, 3500])
def test_money_surfaces_parse_back(value):
    for surface in money_surfaces(value):
        assert budget_from_text(surface) == value, surface


def test_training_drops_generated_rows_that_are_evaluation_lines(tmp_path):
    from models.nlu.training_data import without_lines_of

    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "지금 열린 곳 있어?", "intent": "time_inquiry", "entities": {}}\nnot json\n', encoding="utf-8")
    rows = [{"text": "지금 열린곳 있어", "intent": "time_inquiry"}, {"text": "짜장면 먹고 싶어", "intent": "food_request"}]
    assert [r["text"] for r in without_lines_of(rows, gold)] == ["짜장면 먹고 싶어"]
    assert without_lines_of(rows, None) == rows and without_lines_of(rows, tmp_path / "missing.jsonl") == rows
