"""Intent cues and the contract's tie-break (rules alone, no model)."""

import numpy as np
import pytest

from models.nlu import hybrid
from models.nlu.entities import extract
from models.nlu.labels import INTENT_ORDER, Intent
from models.nlu.normalize import normalize
from models.nlu.rules import intent_cues, resolve, rule_intent


def rules(text):
    t = normalize(text)
    return rule_intent(t, extract(t)).value


def test_tie_break_order_is_the_contract():
    assert [i.value for i in INTENT_ORDER] == [
        "coupon_inquiry", "group_dining", "budget_inquiry", "emergency_food", "time_inquiry",
        "location_inquiry", "menu_option", "food_request", "general_chat"]
    assert resolve({Intent.FOOD_REQUEST, Intent.BUDGET_INQUIRY, Intent.COUPON_INQUIRY}) == Intent.COUPON_INQUIRY
    assert resolve({Intent.MENU_OPTION, Intent.LOCATION_INQUIRY}) == Intent.LOCATION_INQUIRY
    assert resolve(set()) == Intent.GENERAL_CHAT


@pytest.mark.parametrize("text, intent", [
    ("5천원 쿠폰 있어?", "coupon_inquiry"),                   # coupon beats budget
    ("친구 6명이서 만원씩 낼 건데", "group_dining"),            # group beats budget
    ("급한데 3천원밖에 없어", "budget_inquiry"),               # budget beats emergency
    ("당장 먹을 수 있는 근처 식당", "emergency_food"),          # emergency beats location
    ("지금 열린 근처 식당", "time_inquiry"),                  # time beats location
    ("강남역 근처 매운 거 빼고", "location_inquiry"),          # location beats menu_option
    ("돼지고기 빼고 짜장면 먹고 싶어", "menu_option"),          # menu_option beats food_request
    ("짜장면 먹고 싶어", "food_request"),
    ("안녕", "general_chat"),
])
def test_precedence(text, intent):
    assert rules(text) == intent


@pytest.mark.parametrize("text, intent", [
    ("할인 쿠폰 있어?", "coupon_inquiry"), ("이벤트 하는 가게", "coupon_inquiry"), ("적립 되나요", "coupon_inquiry"),
    ("회식 장소 추천", "group_dining"), ("10명 갈 수 있는 식당", "group_dining"), ("동아리 모임 장소", "group_dining"),
    ("돈이 없는데 뭐 먹지", "budget_inquiry"), ("싸게 먹을 수 있는 곳", "budget_inquiry"), ("가성비 맛집", "budget_inquiry"),
    ("만원으로 뭐 먹지", "budget_inquiry"), ("급해 빨리", "emergency_food"), ("배고파 죽겠어", "emergency_food"),
    ("몇 시까지 해?", "time_inquiry"), ("브레이크타임 언제야", "time_inquiry"), ("일요일에도 문 열어?", "time_inquiry"),
    ("근처 맛집", "location_inquiry"), ("그 식당 어디야", "location_inquiry"), ("곱빼기 돼요?", "menu_option"),
    ("오이 빼주세요", "menu_option"), ("채식 메뉴만", "menu_option"), ("떡볶이 먹고 싶다", "food_request"),
    ("매콤한 거 땡겨", "food_request"), ("고마워!", "general_chat"), ("오늘 날씨 좋다", "general_chat"),
    ("샌드위치 소스 따로 줘", "menu_option"),  # 샌드위치 is not 위치
])
def test_cues(text, intent):
    assert rules(text) == intent


def test_low_urgency_is_not_an_emergency():
    t = normalize("천천히 먹을 거 추천해줘")
    assert Intent.EMERGENCY_FOOD not in intent_cues(t, extract(t))


def _probs(**kw):
    p = np.full(9, 1e-6)
    for name, v in kw.items():
        p[Intent(name).precedence] = v
    return p / p.sum()


def test_hybrid_without_cues_follows_the_classifier():
    d = hybrid.decide(set(), _probs(food_request=0.9))
    assert d.intent == Intent.FOOD_REQUEST and d.source == "classifier"


def test_hybrid_rules_win_when_classifier_is_unsure():
    d = hybrid.decide({Intent.BUDGET_INQUIRY}, _probs(food_request=0.6, budget_inquiry=0.3))
    assert d.intent == Intent.BUDGET_INQUIRY and d.source == "rules"


def test_hybrid_confident_classifier_lifts_to_higher_precedence():
    d = hybrid.decide({Intent.FOOD_REQUEST}, _probs(group_dining=0.95))
    assert d.intent == Intent.GROUP_DINING and d.source == "override"


def test_hybrid_does_not_lower_precedence_without_near_certainty():
    d = hybrid.decide({Intent.LOCATION_INQUIRY}, _probs(general_chat=0.9, location_inquiry=0.09))
    assert d.intent == Intent.LOCATION_INQUIRY


def test_hybrid_agreement_scores_highest():
    agree = hybrid.decide({Intent.FOOD_REQUEST}, _probs(food_request=0.9))
    alone = hybrid.decide(set(), _probs(food_request=0.9))
    assert agree.score > alone.score


def test_hybrid_cue_intents_need_a_cue_or_near_certainty():
    d = hybrid.decide(set(), _probs(location_inquiry=0.9, general_chat=0.08))
    assert d.intent == Intent.GENERAL_CHAT
    d = hybrid.decide(set(), _probs(location_inquiry=0.9999))
    assert d.intent == Intent.LOCATION_INQUIRY
