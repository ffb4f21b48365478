"""`naviyam nlu` commands (typer), with the small session model instead of the registry's."""

import json

import pytest
from typer.testing import CliRunner

from models.nlu import cli
from models.nlu.cache import RedisCache
from models.nlu.parser import NLUParser
from tests.unit.nlu.conftest import FakeRedis

runner = CliRunner()


@pytest.fixture(autouse=True)
def small_parser(small_model, monkeypatch):
    def make(use_cache=True, persist=True):
        p = NLUParser(small_model, redis_cache=RedisCache(FakeRedis()), use_cache=use_cache, persist=False)
        p._db_lookup = lambda normalized: None
        return p

    monkeypatch.setattr(cli, "_parser", make)


def test_parse_prints_the_frame():
    result = runner.invoke(cli.app, ["parse", "배고픈데 5천원밖에 없어"])
    assert result.exit_code == 0, result.output
    frame = json.loads(result.stdout.strip().splitlines()[-1])
    assert frame["intent"] == "budget_inquiry" and frame["entities"] == {"budget": 5000, "urgency": "high"}
    assert set(frame) == {"text", "intent", "confidence", "entities"}


def test_parse_full_and_empty():
    result = runner.invoke(cli.app, ["parse", "", "--full"])
    assert result.exit_code == 0
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["intent"] == "general_chat" and out["source"] == "empty"


def test_predict_keeps_order(tmp_path):
    src = tmp_path / "in.jsonl"
    texts = ["치킨 먹고 싶어", "", "할인 쿠폰 있어?", "😂", "강남역 근처 분식집"]
    src.write_text("\n".join(json.dumps({"text": t, "id": i}, ensure_ascii=False) for i, t in enumerate(texts)) + "\n",
                   encoding="utf-8")
    out = tmp_path / "sub" / "out.jsonl"
    result = runner.invoke(cli.app, ["predict", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["text"] for x in lines] == texts
    assert all(set(x) == {"text", "intent", "confidence", "entities"} for x in lines)
    assert lines[2]["intent"] == "coupon_inquiry"


def test_predict_rejects_invalid_utf8(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b'{"text": "ok"}\n{"text": "\xc3\x28"}\n')
    result = runner.invoke(cli.app, ["predict", "--input", str(src), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "bad.jsonl:2: invalid UTF-8" in result.output
    assert "Traceback" not in result.output


def test_predict_missing_file(tmp_path):
    result = runner.invoke(cli.app, ["predict", "-i", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "cannot read" in result.output


def test_eval_prints_scores_confusion_and_misses(tmp_path):
    gold = tmp_path / "gold.jsonl"
    rows = [{"text": "치킨 먹고 싶어", "intent": "food_request", "entities": {"food_type": "치킨"}},
            {"text": "안녕", "intent": "general_chat", "entities": {}},
            {"text": "쿠폰 있어?", "intent": "budget_inquiry", "entities": {}}]
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = runner.invoke(cli.app, ["eval", str(gold)])
    assert result.exit_code == 0, result.output
    assert "intent_accuracy" in result.output and "confusion" in result.output and "MISS" in result.output
    scores = json.loads(result.stdout.strip().splitlines()[-1])
    assert scores["intent_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    js = runner.invoke(cli.app, ["eval", str(gold), "--json"])
    assert json.loads(js.stdout) == scores


def test_eval_empty_file(tmp_path):
    gold = tmp_path / "empty.jsonl"
    gold.write_text("\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["eval", str(gold)])
    assert result.exit_code == 2 and "no lines" in result.output
