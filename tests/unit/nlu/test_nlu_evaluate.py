"""Our scorer agrees with shared/eval/score_nlu.py; JSONL input errors are clear."""

import importlib.util
import json
import random
from pathlib import Path

import pytest

from models.nlu.evaluate import InputError, format_confusion, read_jsonl, score, slot_pairs
from models.nlu.labels import INTENT_VALUES

from models.nlu.registry import default_dev_path

_DEV = default_dev_path()
OFFICIAL = _DEV.with_name("score_nlu.py") if _DEV else Path("/nonexistent/score_nlu.py")


def _random_frames(rng, n):
    values = {"food_type": ["분식", "치킨"], "budget": [5000, "5000", 10000], "urgency": ["high", "normal", "low"],
              "dietary_restrictions": [["no_pork"], ["no_pork", "vegan"], []], "portion_size": ["normal", "large"],
              "location_preference": ["nearby", "강남역", ""]}
    out = []
    for i in range(n):
        ents = {k: rng.choice(v) for k, v in values.items() if rng.random() < 0.4}
        out.append({"text": f"t{i}", "intent": rng.choice(INTENT_VALUES), "entities": ents})
    return out


@pytest.mark.skipif(not OFFICIAL.exists(), reason="official scorer not present")
def test_agrees_with_the_official_scorer():
    spec = importlib.util.spec_from_file_location("score_nlu", OFFICIAL)
    official = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(official)
    rng = random.Random(0)
    for _ in range(20):
        gold, pred = _random_frames(rng, 40), _random_frames(rng, 40)
        pred = [{**p, "text": g["text"]} if rng.random() < 0.5 else {**g} for g, p in zip(gold, pred)]
        theirs, their_misses = official.score(gold, pred)
        ours = score(gold, pred)
        assert ours.scores() == theirs
        assert len(ours.misses) == len(their_misses)


def test_slot_pairs_rules():
    assert slot_pairs({"urgency": "normal", "portion_size": "normal", "budget": "5000", "dietary_restrictions":
                       ["no_pork", "vegan"], "food_type": None, "location_preference": ""}) == {
        ("budget", "5000"), ("dietary_restrictions", "no_pork"), ("dietary_restrictions", "vegan")}


def test_perfect_and_confusion():
    gold = [{"text": "a", "intent": "food_request", "entities": {"food_type": "분식"}},
            {"text": "b", "intent": "general_chat", "entities": {}}]
    rep = score(gold, [{"intent": "food_request", "entities": {"food_type": "분식"}},
                       {"intent": "food_request", "entities": {}}])
    assert rep.intent_accuracy == 0.5 and rep.slot_micro_f1 == 1.0 and rep.frame_exact_match == 0.5
    assert rep.confusion["general_chat"] == {"food_request": 1}
    assert "general_chat" in format_confusion(rep.confusion)
    with pytest.raises(ValueError):
        score(gold, gold[:1])


def test_confusion_matrix_for_the_heatmap():
    gold = [{"text": t, "intent": i, "entities": {}} for t, i in
            (("a", "food_request"), ("b", "general_chat"), ("c", "general_chat"), ("d", "budget_inquiry"))]
    rep = score(gold, [{"intent": "food_request"}, {"intent": "food_request"}, {"intent": "general_chat"},
                       {"intent": None}])
    labels, matrix = rep.confusion_matrix()
    # only intents that occur, in the contract's order; an unparsed turn (None) is its own last column
    assert labels == ["budget_inquiry", "food_request", "general_chat", "None"]
    assert matrix == [[0, 0, 0, 1], [0, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0]]


def test_read_jsonl_errors(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text('{"text": "치킨"}\n\n{"text": "피자"}\n', encoding="utf-8")
    assert [r["text"] for r in read_jsonl(good)] == ["치킨", "피자"]
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes("\ufeff".encode() + b'{"text": "x"}\n')
    assert read_jsonl(bom)[0]["text"] == "x"
    cases = {
        b'{"text": "\xff\xfe"}\n': "invalid UTF-8",
        b'{"text": \n': "invalid JSON",
        b'["text"]\n': "expected a JSON object",
        b'{"txt": "a"}\n': "missing key 'text'",
        b'{"text": 5}\n': "must be a string",
    }
    for i, (content, message) in enumerate(cases.items()):
        f = tmp_path / f"bad{i}.jsonl"
        f.write_bytes(content)
        with pytest.raises(InputError, match=message):
            read_jsonl(f)
    with pytest.raises(InputError, match="cannot read"):
        read_jsonl(tmp_path / "missing.jsonl")


def test_official_dev_file_is_readable():
    dev = _DEV
    if dev is not None:
        rows = read_jsonl(dev, require=("text", "intent"))
        assert len(rows) == 60 and json.dumps(rows[0], ensure_ascii=False)
