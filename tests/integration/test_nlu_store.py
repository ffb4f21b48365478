"""NLU against the real PostgreSQL (nlu_training_data) and Redis: the cache levels and the collector."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from models.nlu import store
from models.nlu.cache import RedisCache, TTLCache
from models.nlu.classifier import fit_classifier
from models.nlu.normalize import normalize
from models.nlu.parser import NLUParser
from models.nlu.training_data import generate

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def model():
    rows = generate(1500, seed=5)
    return fit_classifier([normalize(r["text"]) for r in rows], [r["intent"] for r in rows], seed=5)


def _parser(model, engine, redis_client, persist=True):
    return NLUParser(model, engine=engine, redis_cache=RedisCache(redis_client), l1=TTLCache(), persist=persist)


def _insert(engine, row: dict) -> None:
    """Seed a row the way every nlu_training_data row is written: through the event log."""
    writer = store.TrainingDataWriter(lambda: engine, spool_dir=Path(tempfile.mkdtemp(prefix="nlu-spool-")))
    writer.submit(row)
    assert writer.flush()


def test_results_are_collected_for_training(migrated_engine, redis_client, model, tmp_path):
    p = _parser(model, migrated_engine, redis_client)
    p.writer = store.TrainingDataWriter(p._get_engine, spool_dir=tmp_path)  # this test's own spool
    p.parse("강남역 근처 분식집 추천해줘", user_id="42")
    p.parse("만 오천원 있는데 동생이랑 뭐 먹을까", user_id="42")
    p.parse("")  # nothing to read: answered, not collected
    p.flush()
    with migrated_engine.connect() as conn:
        rows = conn.execute(text("""SELECT input_text, normalized_text, predicted_intent, intent_confidence,
                                    extracted_entities, user_id, data_source, quality_score, model_version
                                    FROM nlu_training_data ORDER BY id""")).mappings().all()
    assert len(rows) == 2
    first = rows[0]
    assert first["predicted_intent"] == "location_inquiry" and first["user_id"] == "42"
    assert first["extracted_entities"] == {"location_preference": "강남역", "food_type": "분식"}
    assert first["data_source"] == "user_interaction" and 0 <= float(first["intent_confidence"]) <= 1
    assert first["model_version"] == model.version[:20]
    assert rows[1]["extracted_entities"] == {"budget": 15000, "companions": "family"}


def test_redis_level_has_a_five_minute_ttl(migrated_engine, redis_client, model, settings):
    p = _parser(model, migrated_engine, redis_client, persist=False)
    assert p.parse("짜장면 먹고 싶어").source == "model"
    p.flush()
    keys = list(redis_client.scan_iter(match=settings.redis_key_prefix + "nlu:*"))
    assert keys and all(0 < redis_client.ttl(k) <= 300 for k in keys)
    fresh = _parser(model, migrated_engine, redis_client, persist=False)  # another process: empty L1
    assert fresh.parse("짜장면 먹고 싶어").source == "cache_redis"


def test_database_level_serves_high_quality_rows(migrated_engine, redis_client, model):
    normalized = normalize("오늘은 뭔가 특별한 게 먹고 싶어")
    _insert(migrated_engine, store.result_row("오늘은 뭔가 특별한 게 먹고 싶어", normalized, "food_request", 0.95,
                                 {"urgency": "low"}, model.version))
    _insert(migrated_engine, store.result_row("애매한 문장", normalize("애매한 문장"), "coupon_inquiry", 0.5,
                                 {}, model.version))
    _insert(migrated_engine, store.result_row("옛 모델 문장", normalize("옛 모델 문장"), "coupon_inquiry", 0.99,
                                 {}, "an-older-model"))
    p = _parser(model, migrated_engine, redis_client, persist=False)
    hit = p.parse("오늘은 뭔가 특별한 게 먹고 싶어")
    assert hit.source == "cache_db" and hit.entities == {"urgency": "low"}
    assert p.parse("애매한 문장").source == "model"  # quality 0.5 is not > 0.8
    assert p.parse("옛 모델 문장").source == "model"  # another model's prediction is not this model's answer


def test_a_correction_wins_and_is_training_data(migrated_engine, redis_client, model):
    text_ = "반 애들 다 같이 먹을 데"
    _insert(migrated_engine, store.result_row(text_, normalize(text_), "food_request", 0.9, {}, "test"))
    row_id = store.record_correction(migrated_engine, text_, normalize(text_), "group_dining", {"companions": "group"})
    p = _parser(model, migrated_engine, redis_client, persist=False)
    r = p.parse(text_)
    assert (r.source, r.intent, r.entities, r.confidence) == ("cache_db", "group_dining", {"companions": "group"}, 1.0)
    labelled = store.fetch_labelled(migrated_engine)
    assert any(x["id"] == row_id and x["intent"] == "group_dining" for x in labelled)
    store.mark_used(migrated_engine, [row_id], "batch-1", "v-test")
    with migrated_engine.connect() as conn:
        used = conn.execute(text("SELECT used_for_training, training_batch_id FROM nlu_training_data WHERE id=:i"),
                            {"i": row_id}).one()
    assert used == (True, "batch-1")


def test_redis_down_still_answers(migrated_engine, model):
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    p = NLUParser(model, engine=migrated_engine, redis_cache=RedisCache(dead), persist=False)
    assert p.parse("피자 먹고 싶어").intent == "food_request"
    assert not p.redis.breaker.available()
