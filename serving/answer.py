"""Korean answers from a template grammar: short, friendly sentences for children.

``AnswerGenerator`` is the interface (one ``generate(plan) -> str``); ``TemplateAnswerer`` fills
it offline from a small grammar with variation (alternatives per phrase, picked by a seed, so the
same request always reads the same and different requests read differently). A LoRA-tuned LLM can
implement the same interface later and take the same ``AnswerPlan``: the plan carries every fact the
answer may state, so a generator never has to look anything up, and never invents a price.

Particles follow the last syllable (이/가, 은/는, 을/를, 으로/로, 과/와), so "김밥이에요" and
"떡볶이예요" both come out right.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from infra.vocabulary import Intent
from serving.opening import opens_text

# ---- particles -----------------------------------------------------------------------------

_DIGIT_BATCHIM = {"0": True, "1": True, "2": False, "3": True, "4": False, "5": False, "6": True,
                  "7": True, "8": True, "9": False}
_DIGIT_RIEUL = {"1", "7", "8"}  # 일 칠 팔 end in ㄹ


def _last_char(word: str) -> str:
    word = word.rstrip(" )]}\"'.!?~")
    return word[-1] if word else ""


def has_batchim(word: str) -> bool:
    ch = _last_char(word)
    if "가" <= ch <= "힣":
        return (ord(ch) - 0xAC00) % 28 != 0
    if ch.isdigit():
        return _DIGIT_BATCHIM[ch]
    return False


def _rieul(word: str) -> bool:
    ch = _last_char(word)
    if "가" <= ch <= "힣":
        return (ord(ch) - 0xAC00) % 28 == 8
    return ch in _DIGIT_RIEUL


def josa(word: str, pair: str) -> str:
    """``josa("김밥", "이/가")`` → "김밥이"; pairs: 이/가 은/는 을/를 과/와 으로/로 이에요/예요 아/야."""
    with_b, without_b = pair.split("/")
    if pair == "으로/로":
        return word + ("로" if not has_batchim(word) or _rieul(word) else "으로")
    return word + (with_b if has_batchim(word) else without_b)


def won(amount: int) -> str:
    return f"{amount:,}원"


def distance_text(m: float | None) -> str | None:
    if m is None:
        return None
    if m < 1000:
        return f"{int(round(m / 10.0) * 10)}m"
    return f"{m / 1000:.1f}km"


# ---- the plan ------------------------------------------------------------------------------

@dataclass
class AnswerPlan:
    """Every fact an answer may use. Recommendations are dicts with the response's field names."""

    strategy: str
    intent: str
    entities: dict[str, Any] = field(default_factory=dict)
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    spend_limit: int | None = None
    balance: int | None = None
    has_card: bool = False
    emergency_coupon: dict[str, Any] | None = None  # {"name", "amount"} when issued this turn
    wallet: list[dict[str, Any]] = field(default_factory=list)
    alternatives: list[dict[str, Any]] = field(default_factory=list)  # when nothing fits
    over_budget: list[dict[str, Any]] = field(default_factory=list)  # shown although over the limit
    ask_preference: bool = False
    party_size: int | None = None
    refinement: bool = False
    back_reference: bool = False
    cheaper: bool = False
    balance_unknown: bool = False  # the card could not be read (database down)
    why_nothing: dict[str, Any] | None = None  # {"reason", "binding", "shortfall"} when nothing fits
    area_known: bool = False  # distances are from where the child is (or lives): say them
    snack_fallback: bool = False  # a hungry child gets a snack: no meal fits the money
    seed: int = 0


class AnswerGenerator(Protocol):
    name: str

    def generate(self, plan: AnswerPlan) -> str: ...


# ---- the grammar ---------------------------------------------------------------------------

OPENERS = {
    "urgent": ["바로 갈 수 있는 곳이에요!", "빨리 먹을 수 있는 곳 찾았어요!", "지금 가면 돼요!"],
    "default": ["이런 곳은 어때요?", "찾아봤어요!", "좋은 곳이 있어요!", "이거 어때요?"],
    "refine": ["알겠어요, 다시 골라 봤어요.", "좋아요, 그 조건으로 찾아봤어요.", "바꿔서 골라 봤어요!"],
    "back": ["아까 추천한 곳이에요.", "아까 그 가게 다시 알려 줄게요."],
    "group": ["{n}명이 같이 가기 좋은 곳이에요!", "{n}명이 먹기 좋은 곳 찾았어요."],
}
ASK_PREFERENCE = [
    "어떤 음식 좋아해요? 떡볶이, 김밥, 치킨처럼 말해 주면 더 잘 골라 줄게요.",
    "좋아하는 음식이 뭐예요? 알려 주면 딱 맞게 찾아 줄게요!",
    "평소에 뭐 먹는 거 좋아해요? 매운 거, 순한 거도 알려 주세요.",
]
GREETING = [
    "안녕하세요! 배고프면 언제든 말해 주세요. 급식카드로 먹을 수 있는 곳을 찾아 줄게요.",
    "반가워요! 먹고 싶은 음식이나 가진 돈을 말해 주면 맛있는 곳을 골라 줄게요.",
]
CLOSERS = {
    "default": ["맛있게 먹어요!", "든든하게 먹어요!", "", ""],
    "urgent": [""],
}
REASON_PHRASES = {
    "budget_fit": ["예산에 딱 맞아요", "가진 돈으로 충분해요"],
    "distance_score": ["가까워요", "금방 갈 수 있어요"],
    "popularity": ["인기가 많아요", "다들 많이 가요"],
    "personal_preference": ["좋아하는 음식이에요", "취향에 맞을 거예요"],
    "good_influence": ["착한가게예요"],
    "open_now": ["지금 문 열었어요"],
}


def _pick(rng: random.Random, options: list[str]) -> str:
    return options[rng.randrange(len(options))] if options else ""


def reason_phrase(rec: dict[str, Any], rng: random.Random) -> str:
    """One short 'why' from the strongest parts of the reason breakdown."""
    breakdown = rec.get("reason_breakdown") or {}
    ranked = sorted((k for k in breakdown if k in REASON_PHRASES), key=lambda k: -float(breakdown[k] or 0))
    parts = [_pick(rng, REASON_PHRASES[k]) for k in ranked[:2] if float(breakdown[k] or 0) >= 0.5]
    return ", ".join(parts)


def _opens(rec: dict[str, Any]) -> str | None:
    at = rec.get("opens_at")
    if not at:
        return None
    hh, mm = (int(x) for x in at.split(":"))
    return opens_text(hh * 60 + mm)


def describe(rec: dict[str, Any], rng: random.Random, *, short: bool = False, party: int | None = None) -> str:
    shop, menu = rec["shop_name"], rec["menu_name"]
    price, final = int(rec["price"]), int(rec["final_price"])
    coupon = rec.get("coupon_name")
    dist = distance_text(rec.get("distance_m"))
    if short:
        head = f"{shop} {menu} {won(final)}"
        if coupon:
            head += "(쿠폰 적용)"
        opens = _opens(rec)
        return head + (f", {dist}" if dist else "") + (f", {opens}" if opens else "")
    if coupon:
        price_part = _pick(rng, [
            f"{josa(coupon, '을/를')} 쓰면 {won(price)}에서 {josa(won(final), '이에요/예요')}",
            f"쿠폰 쓰면 {won(final)}! (원래 {won(price)})",
        ])
    else:
        price_part = josa(won(final), "이에요/예요")
    sentence = f"{shop}의 {josa(menu, '은/는')} {price_part}"
    if party:
        sentence = sentence.rstrip(".!") + f". {party}명이면 {won(final * party)} 정도예요."
    reason = reason_phrase(rec, rng)
    opens = _opens(rec)
    extras = [x for x in (opens, reason, f"{dist} 거리" if dist else None) if x]
    if rec.get("meal_card_usable"):
        extras.append("급식카드 돼요")
    if extras:
        sentence = sentence.rstrip(".!") + ". " + ", ".join(extras) + "."
    elif not sentence.endswith((".", "!")):
        sentence += "."
    return sentence


class TemplateAnswerer:
    """The offline generator: a template grammar with seeded variation."""

    name = "template-v1"

    def generate(self, plan: AnswerPlan) -> str:
        rng = random.Random(plan.seed)
        lines: list[str] = []
        urgent = plan.strategy == "urgent"

        if plan.emergency_coupon:
            amount = plan.emergency_coupon.get("amount")
            lines.append(_pick(rng, [
                f"이번 달 카드 잔액이 얼마 안 남아서 {won(amount)} 긴급 지원 쿠폰을 넣어 줬어요.",
                f"월말이라 잔액이 부족하죠? {won(amount)} 긴급 쿠폰을 지갑에 넣어 줬어요!",
            ]) if amount else "긴급 지원 쿠폰을 지갑에 넣어 줬어요.")

        if plan.balance_unknown:
            lines.append("지금은 카드 잔액을 확인하지 못했어요. 가격을 꼭 확인해 주세요.")

        if plan.intent == Intent.COUPON_INQUIRY and not plan.recommendations:
            lines.append(self._wallet(plan, rng))
            return " ".join(lines)

        if plan.intent == Intent.GENERAL_CHAT and not plan.recommendations:
            lines.append(_pick(rng, GREETING))
            if plan.ask_preference:
                lines.append(_pick(rng, ASK_PREFERENCE))
            return " ".join(lines)

        if plan.recommendations:
            if plan.back_reference:
                lines.append(_pick(rng, OPENERS["back"]))
            elif plan.refinement:
                lines.append(_pick(rng, OPENERS["refine"]))
            elif plan.party_size and plan.party_size >= 2 and plan.intent == Intent.GROUP_DINING:
                lines.append(_pick(rng, OPENERS["group"]).format(n=plan.party_size))
            elif urgent:
                lines.append(_pick(rng, OPENERS["urgent"]))
            else:
                lines.append(_pick(rng, OPENERS["default"]))
            shown = plan.recommendations[: (2 if urgent else 3)]
            party = plan.party_size if plan.intent == Intent.GROUP_DINING else None
            if urgent:
                lines.append(" / ".join(f"{i + 1}. {describe(r, rng, short=True)}" for i, r in enumerate(shown)))
            else:
                for i, r in enumerate(shown):
                    lines.append(("" if len(shown) == 1 else f"{i + 1}. ") + describe(r, rng, party=party))
            if plan.snack_fallback:
                lines.append(_pick(rng, [f"{self._limit_words(plan)} 먹을 수 있는 식사 메뉴가 없어서 간식으로 골랐어요.",
                                         f"{self._limit_words(plan)}는 식사가 어려워서 간식이에요."]))
            if plan.over_budget:
                lines.append(self._over_budget(plan))
            if plan.intent == Intent.COUPON_INQUIRY:
                lines.append(self._wallet(plan, rng))
            if plan.ask_preference:
                lines.append(_pick(rng, ASK_PREFERENCE))
            if not urgent:
                closer = _pick(rng, CLOSERS["default"])
                if closer:
                    lines.append(closer)
            return " ".join(x for x in lines if x)

        lines.append(self._nothing_fits(plan, rng))
        if plan.ask_preference:
            lines.append(_pick(rng, ASK_PREFERENCE))
        return " ".join(x for x in lines if x)

    # -- pieces ---------------------------------------------------------------------------
    def _limit_words(self, plan: AnswerPlan) -> str:
        return limit_words(plan)

    def _over_budget(self, plan: AnswerPlan) -> str:
        r = plan.over_budget[0]
        return (f"참고로 {r['shop_name']} {josa(r['menu_name'], '은/는')} {won(int(r['final_price']))}이라 "
                f"{self._limit_words(plan)}는 조금 모자라요.")

    def _nothing_fits(self, plan: AnswerPlan, rng: random.Random) -> str:
        head = why_text(plan)
        tips = [alternative_text(alt) for alt in plan.alternatives[:3]]
        if not plan.alternatives:
            tips.append(_pick(rng, ["예산을 조금 늘리거나 다른 음식을 말해 줄래요?",
                                    "다른 음식이나 다른 동네로 다시 찾아볼까요?"]))
        return " ".join([head, *[t for t in tips if t]])

    def _wallet(self, plan: AnswerPlan, rng: random.Random) -> str:
        if not plan.wallet:
            return _pick(rng, ["지금 지갑에 쓸 수 있는 쿠폰은 없어요.",
                               "아직 쿠폰이 없어요. 새 쿠폰이 생기면 알려 줄게요!"])
        names = []
        for c in plan.wallet[:3]:
            if c.get("discount_amount"):
                names.append(f"{c['name']}({won(int(c['discount_amount']))} 할인)")
            elif c.get("discount_rate"):
                names.append(f"{c['name']}({int(round(float(c['discount_rate']) * 100))}% 할인)")
            else:
                names.append(c["name"])
        more = f" 외 {len(plan.wallet) - 3}장" if len(plan.wallet) > 3 else ""
        return f"지금 쓸 수 있는 쿠폰은 {', '.join(names)}{more}이 있어요."


# ---- when nothing fits ---------------------------------------------------------------------

DIETARY_WORDS = {"no_spicy": "매운 거", "no_pork": "돼지고기", "no_beef": "소고기", "no_seafood": "해산물",
                 "no_nuts": "견과류", "no_dairy": "우유·유제품", "vegetarian": "고기", "vegan": "고기·유제품",
                 "halal": "돼지고기"}


def limit_words(plan: AnswerPlan) -> str:
    """"카드 잔액 27,560원으로", "5,000원으로", or "조건에" when nothing limits the price."""
    if plan.spend_limit is None:
        return "조건에"
    if plan.balance is not None and plan.spend_limit == plan.balance:
        return f"카드 잔액 {won(plan.balance)}으로"
    return f"{won(plan.spend_limit)}으로"


def _food_words(plan: AnswerPlan) -> str:
    return plan.entities.get("food_type") or "식당"


def why_text(plan: AnswerPlan) -> str:
    """The reason nothing fits, in one sentence a child can act on (serving/nothing_fits.py finds it)."""
    why = plan.why_nothing or {}
    reason, food = why.get("reason"), _food_words(plan)
    limit = limit_words(plan)
    if reason == "closed_now":
        return f"지금 문 연 {food} 가게가 근처에 없어요."
    if reason == "over_budget":
        short = why.get("shortfall")
        gap = f" {won(int(short))} 모자라요." if short else ""
        return f"{limit} 먹을 수 있는 {food} 메뉴는 근처에 없어요.{gap}"
    if reason == "too_far":
        return f"걸어갈 수 있는 거리에는 {food} 가게가 없어요."
    if reason == "dietary":
        words = ", ".join(DIETARY_WORDS.get(d, d) for d in plan.entities.get("dietary_restrictions") or [])
        return f"{words} 빼고 먹을 수 있는 {food} 메뉴가 근처에 없어요."
    if reason == "card":
        return f"근처 {food} 가게는 급식카드가 안 돼요."
    if reason == "no_such_food":
        return f"근처에 {food} 파는 곳이 없어요."
    return f"아쉽지만 {limit} 지금 먹을 수 있는 곳을 못 찾았어요. 조건이 여러 개 겹쳤어요."


def alternative_text(alt: dict[str, Any]) -> str:
    kind, shop, menu = alt.get("kind"), alt["shop_name"], alt["menu_name"]
    price = won(int(alt["final_price"]))
    coupon = f", {alt['coupon_name']} 쓰면" if alt.get("coupon_name") else ""
    dist = distance_text(alt.get("distance_m"))
    if kind == "opens_soonest":
        return f"{josa(shop, '은/는')} {_opens(alt) or '나중에 문 열어요'}({menu} {price})."
    if kind == "cheapest":
        return f"제일 싼 건 {shop} {menu}{coupon} {josa(price, '이에요/예요')}."
    if kind == "a_bit_farther":
        return f"조금 멀지만 {shop}{f'({dist})' if dist else ''}에 {menu} {josa(price, '이/가')} 있어요."
    if kind == "without_restriction":
        return f"참고로 {shop} {josa(menu, '은/는')} {josa(price, '이에요/예요')}(조건에는 안 맞아요)."
    if kind == "no_meal_card":
        return f"{shop} {josa(menu, '은/는')} {price}지만 급식카드는 안 돼요."
    if kind == "other_food":
        return f"대신 {shop} {menu} {josa(price, '은/는')} 어때요?"
    return ""
