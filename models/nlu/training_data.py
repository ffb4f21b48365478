"""The training-data grammar: Korean templates and paraphrases written for Naviyam.

``generate(n, seed)`` returns ``n`` examples ``{"text", "intent", "entities"}`` with gold frames.
Each example is built from an intent template whose slots are filled from surface lexicons that
carry their normalized value (``("오천원", budget=5000)``). The gold intent follows the contract:
the template's own intent plus every intent a filler is a cue for (an amount → budget_inquiry,
a party of five → group_dining, ...), resolved by the tie-break order. Surface variation comes from
endings, particles, slang, spacing, typos, emoticons and code-switching ("치킨 ㄱㄱ").

None of these sentences is copied from an evaluation file; the grammar is the product's own.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from models.nlu.entities import extract_entities
from models.nlu.labels import INTENT_ORDER, Intent
from models.nlu.preprocess import normalize_text as normalize

# ----------------------------------------------------------------------------------------
# fillers: (surface, value) — value is the normalized slot value
# ----------------------------------------------------------------------------------------

FOODS: list[tuple[str, str]] = [
    ("치킨", "치킨"), ("후라이드 치킨", "치킨"), ("양념치킨", "치킨"), ("통닭", "치킨"), ("닭강정", "치킨"),
    ("피자", "피자"), ("페퍼로니 피자", "피자"), ("pizza", "피자"),
    ("햄버거", "패스트푸드"), ("버거", "패스트푸드"), ("샌드위치", "패스트푸드"), ("핫도그", "패스트푸드"),
    ("토스트", "패스트푸드"), ("burger", "패스트푸드"), ("패스트푸드", "패스트푸드"),
    ("김밥", "분식"), ("떡볶이", "분식"), ("라면", "분식"), ("순대", "분식"), ("튀김", "분식"), ("쫄면", "분식"),
    ("라볶이", "분식"), ("분식", "분식"), ("어묵", "분식"), ("떡뽁이", "분식"),
    ("짜장면", "중식"), ("짬뽕", "중식"), ("탕수육", "중식"), ("볶음밥", "중식"), ("마라탕", "중식"),
    ("중국 음식", "중식"), ("중식", "중식"), ("양꼬치", "중식"), ("자장면", "중식"),
    ("돈까스", "일식"), ("돈가스", "일식"), ("초밥", "일식"), ("스시", "일식"), ("우동", "일식"), ("라멘", "일식"),
    ("덮밥", "일식"), ("일식", "일식"), ("규동", "일식"), ("회", "일식"),
    ("파스타", "양식"), ("스테이크", "양식"), ("리조또", "양식"), ("스파게티", "양식"), ("양식", "양식"),
    ("오므라이스", "양식"), ("함박스테이크", "양식"),
    ("케이크", "카페·디저트"), ("빙수", "카페·디저트"), ("와플", "카페·디저트"), ("음료", "카페·디저트"),
    ("커피", "카페·디저트"), ("디저트", "카페·디저트"), ("아이스크림", "카페·디저트"), ("마카롱", "카페·디저트"),
    ("버블티", "카페·디저트"), ("탕후루", "카페·디저트"),
    ("빵", "베이커리"), ("베이커리", "베이커리"), ("소금빵", "베이커리"), ("베이글", "베이커리"), ("도넛", "베이커리"),
    ("쌀국수", "아시안"), ("팟타이", "아시안"), ("커리", "아시안"), ("카레", "아시안"), ("분짜", "아시안"),
    ("동남아 음식", "아시안"),
    ("도시락", "도시락·죽"), ("죽", "도시락·죽"), ("전복죽", "도시락·죽"), ("호박죽", "도시락·죽"),
    ("삼겹살", "고기·구이"), ("갈비", "고기·구이"), ("고기", "고기·구이"), ("목살", "고기·구이"), ("곱창", "고기·구이"),
    ("소고기", "고기·구이"),
    ("국밥", "한식"), ("백반", "한식"), ("비빔밥", "한식"), ("찌개", "한식"), ("김치찌개", "한식"), ("된장찌개", "한식"),
    ("불고기", "한식"), ("제육", "한식"), ("제육볶음", "한식"), ("냉면", "한식"), ("칼국수", "한식"),
    ("순두부찌개", "한식"), ("한식", "한식"), ("부대찌개", "한식"), ("감자탕", "한식"), ("닭갈비", "한식"),
]
# place words with a suffix: shop nouns
FOOD_SHOPS: list[tuple[str, str]] = [
    ("치킨집", "치킨"), ("피자집", "피자"), ("분식집", "분식"), ("떡볶이집", "분식"), ("중국집", "중식"),
    ("일식집", "일식"), ("초밥집", "일식"), ("라멘집", "일식"), ("빵집", "베이커리"), ("카페", "카페·디저트"),
    ("햄버거집", "패스트푸드"), ("고깃집", "고기·구이"), ("국밥집", "한식"), ("한식당", "한식"), ("죽집", "도시락·죽"),
    ("김밥집", "분식"), ("양식당", "양식"), ("쌀국수집", "아시안"), ("도시락집", "도시락·죽"), ("중식당", "중식"),
]

# amounts: value → many surface forms
_SINO = "영일이삼사오육칠팔구"


def _sino(n: int) -> str:
    """Sino-Korean reading of 1..9999 (천/백/십 with the usual omission of 일)."""
    out = []
    for unit_value, unit in ((1000, "천"), (100, "백"), (10, "십")):
        d, n = divmod(n, unit_value)
        if d:
            out.append(("" if d == 1 else _SINO[d]) + unit)
    if n:
        out.append(_SINO[n])
    return "".join(out)


def money_surfaces(value: int) -> list[str]:
    """Ways to write ``value`` won: 5천원, 오천원, 5,000원, 5000원, 만 오천원, 1만5천원, 1.5만원..."""
    man, rest = divmod(value, 10000)
    forms = [f"{value}원", f"{value:,}원"]
    if man == 0:
        if rest % 1000 == 0:
            forms += [f"{rest // 1000}천원", f"{rest // 1000}천 원"]
        forms += [f"{_sino(rest)}원", f"{_sino(rest)} 원"]
        if rest % 1000 == 500:
            forms.append(f"{rest // 1000}천5백원")
    else:
        sm = "" if man == 1 else _sino(man)
        if rest == 0:
            forms += [f"{man}만원", f"{sm}만원", f"{man}만 원", f"{sm}만 원"]
            if man == 1:
                forms.append("1만원")
        else:
            forms += [f"{sm}만 {_sino(rest)}원", f"{sm}만{_sino(rest)}원"]
            if rest % 1000 == 0:
                forms += [f"{man}만{rest // 1000}천원", f"{man}만 {rest // 1000}천원"]
                if rest % 1000 == 0 and (rest // 1000) == 5:
                    forms.append(f"{man}.5만원")
    return forms


AMOUNTS = [2000, 3000, 3500, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000, 15000, 20000, 25000, 30000, 50000]

PEOPLE_GROUP: list[str] = [
    "5명", "6명", "7명", "8명", "10명", "12명", "15명", "20명", "30명", "다섯 명", "여섯 명", "일곱 명", "열 명",
    "다섯이서", "여섯이서", "5명이서", "8명이서", "10명이서", "스무 명", "25명", "5인", "6인",
]
GROUP_WORDS: list[str] = ["단체로", "회식", "모임", "반 전체", "우리 반 애들", "동아리 사람들", "반 친구들 다", "동아리 모임",
                          "반 모임", "단체", "학급", "팀원들"]
PLACES: list[tuple[str, str]] = [
    ("근처", "nearby"), ("주변", "nearby"), ("가까운", "nearby"), ("여기서 가까운", "nearby"), ("걸어서 갈 수 있는", "nearby"),
    ("5분 거리", "nearby"), ("10분 거리에 있는", "nearby"), ("이 근처", "nearby"), ("우리 동네", "nearby"),
    ("근처에 있는", "nearby"), ("주변에", "nearby"), ("도보로 갈 수 있는", "nearby"), ("가까이 있는", "nearby"),
    ("강남역 근처", "강남역"), ("홍대 주변", "홍대"), ("신촌 근처", "신촌"), ("학교 앞", "학교 앞"),
    ("잠실역 근처", "잠실역"), ("집 근처", "집"), ("학원 앞", "학원 앞"), ("서울역 주변", "서울역"),
    ("건대 쪽", "건대"), ("명동에서", "명동"), ("수원역 앞", "수원역 앞"), ("서면 쪽", "서면"), ("이태원", "이태원"),
    ("신림역 근처", "신림역"), ("종로 쪽", "종로"), ("판교 근처", "판교"), ("도서관 근처", "도서관"),
    ("공원 근처", "공원"), ("성수 쪽", "성수"), ("합정역 주변", "합정역"), ("노원역 근처", "노원역"),
    ("학교 근처", "학교"), ("우리 학교 앞", "학교 앞"), ("사당역 근처", "사당역"), ("일산 쪽", "일산"),
]
TIMES: list[tuple[str, str]] = [
    ("점심에", "lunch"), ("점심으로", "lunch"), ("점심", "lunch"), ("저녁에", "dinner"), ("저녁으로", "dinner"),
    ("저녁", "dinner"), ("아침에", "breakfast"), ("아침으로", "breakfast"), ("아침", "breakfast"),
    ("야식으로", "late_night"), ("야식", "late_night"), ("밤늦게", "late_night"), ("새벽에", "late_night"),
    ("오늘 저녁", "dinner"), ("내일 점심", "lunch"), ("지금", "now"), ("조식으로", "breakfast"),
]
TASTES: list[tuple[str, str]] = [
    ("매운", "spicy"), ("매콤한", "spicy"), ("얼큰한", "spicy"), ("아주 매운", "spicy"), ("칼칼한", "spicy"),
    ("순한", "mild"), ("안 매운", "mild"), ("맵지 않은", "mild"), ("짭짤한", "salty"), ("짭조름한", "salty"),
    ("달달한", "sweet"), ("달콤한", "sweet"), ("담백한", "light"), ("깔끔한", "light"),
    ("슴슴한", "light"),
]
COMPANIONS: list[tuple[str, str]] = [
    ("혼자", "alone"), ("혼밥으로", "alone"), ("나 혼자", "alone"), ("친구랑", "friends"), ("친구들이랑", "friends"),
    ("친구하고", "friends"), ("베프랑", "friends"), ("친구 두 명이랑", "friends"), ("엄마랑", "family"),
    ("아빠랑", "family"), ("동생이랑", "family"), ("가족이랑", "family"), ("가족끼리", "family"),
    ("부모님이랑", "family"), ("누나랑", "family"), ("할머니랑", "family"), ("언니랑", "family"),
]
URGENT_STRONG: list[str] = [
    "당장", "급해", "빨리", "배고파 죽겠다", "배고파서 죽겠어", "지금 바로", "너무 배고파", "급하게", "얼른", "배고파 미치겠어",
    "진짜 급해", "빨리빨리", "지금 당장", "배고파서 쓰러질 것 같아", "시간이 없어", "10분 안에",
]
URGENT_WEAK: list[str] = ["배고픈데", "배고파", "배고프다", "배가 고파서", "배고파서"]
URGENT_LOW: list[str] = ["천천히", "나중에", "여유롭게", "여유 있게", "느긋하게"]
DIETARY: list[tuple[str, list[str]]] = [
    ("매운 거 빼고", ["no_spicy"]), ("매운거 빼고", ["no_spicy"]), ("매운 거 못 먹어서", ["no_spicy"]),
    ("매운 음식 말고", ["no_spicy"]), ("돼지고기 빼고", ["no_pork"]), ("돼지고기 못 먹어서", ["no_pork"]),
    ("돼지고기 안 들어간", ["no_pork"]), ("소고기 빼고", ["no_beef"]), ("소고기 안 먹어서", ["no_beef"]),
    ("해산물 빼고", ["no_seafood"]), ("새우 알레르기 있어서", ["no_seafood"]), ("생선 못 먹어서", ["no_seafood"]),
    ("해산물 알레르기 있는데", ["no_seafood"]), ("땅콩 알레르기 있어서", ["no_nuts"]), ("견과류 빼고", ["no_nuts"]),
    ("우유 못 먹어서", ["no_dairy"]), ("유제품 빼고", ["no_dairy"]), ("치즈 빼고", ["no_dairy"]),
    ("채식하는데", ["vegetarian"]), ("채식", ["vegetarian"]), ("고기 없는", ["vegetarian"]),
    ("고기 빼고", ["vegetarian"]), ("비건", ["vegan"]), ("비건인데", ["vegan"]), ("할랄", ["halal"]),
    ("할랄 음식만", ["halal"]),
]
PORTION_LARGE: list[str] = ["곱빼기로", "양 많은", "배 터지게", "든든하게", "푸짐하게", "양 많이"]
PORTION_SMALL: list[str] = ["조금만", "양 적은", "간단히", "간단하게", "가볍게"]

# endings: the same request said many ways
WANT = ["먹고 싶어", "먹고싶어", "먹고 싶다", "먹고 싶은데", "먹고 싶어요", "먹구 싶어", "먹고파", "땡겨", "땡긴다",
        "당긴다", "먹을래", "먹자", "먹으러 가자", "먹고 싶당", "먹고 싶어ㅠㅠ", "ㄱㄱ", "고고", "먹어야겠다", "먹을까?",
        "먹고 싶네", "먹을래요", "먹고 싶은 날이다", "먹으러 갈까"]
RECOMMEND = ["추천해줘", "추천해 줘", "추천해주세요", "추천 좀", "추천 부탁해", "알려줘", "알려주세요", "찾아줘", "보여줘",
             "추천해줄래?", "골라줘", "있어?", "있나요?", "있을까?", "좀 찾아줘", "추천!", "뭐 있어?"]
PLACE_NOUN = ["곳", "데", "집", "가게", "식당", "맛집"]
Q_END = ["?", "", "??", "요?", ""]
PREFIX = ["", "", "", "", "음 ", "아 ", "야 ", "혹시 ", "저기 ", "나 ", "오늘 ", "그럼 ", "근데 ", "헐 ", "나비야 ", "음.. "]
SUFFIX = ["", "", "", "", "", "!", "?", " ㅋㅋ", " ㅎㅎ", " ㅠㅠ", "~", " 😋", " 🙏", "..", " ㅜㅜ", " !!"]


@dataclass
class Example:
    text: str
    intent: str
    entities: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"text": self.text, "intent": self.intent, "entities": self.entities}


class _Builder:
    """One utterance under construction: text pieces, gold slots, intent reasons."""

    def __init__(self, rng: random.Random, base: Intent):
        self.rng = rng
        self.reasons: set[Intent] = {base}
        self.entities: dict = {}
        self.silver = False  # a fixed phrase: its slots are read by the extractor, not by the grammar

    def fixed(self, phrases: list[str]) -> str:
        self.silver = True
        return self.rng.choice(phrases)

    # each pick returns the surface and records the gold value and any intent it is a cue for
    def food(self, shop: bool = False) -> str:
        surface, value = self.rng.choice(FOOD_SHOPS if shop else FOODS)
        self.entities["food_type"] = value
        return surface

    def money(self) -> str:
        value = self.rng.choice(AMOUNTS)
        self.entities["budget"] = value
        self.reasons.add(Intent.BUDGET_INQUIRY)
        return self.rng.choice(money_surfaces(value))

    def place(self) -> str:
        surface, value = self.rng.choice(PLACES)
        self.entities["location_preference"] = value
        self.reasons.add(Intent.LOCATION_INQUIRY)
        return surface

    def time(self, allow_now: bool = True) -> str:
        choices = TIMES if allow_now else [t for t in TIMES if t[1] != "now"]
        surface, value = self.rng.choice(choices)
        self.entities["time_preference"] = value
        return surface

    def taste(self) -> str:
        surface, value = self.rng.choice(TASTES)
        self.entities["taste_preference"] = value
        return surface

    def companion(self) -> str:
        surface, value = self.rng.choice(COMPANIONS)
        self.entities["companions"] = value
        return surface

    def group(self) -> str:
        self.entities["companions"] = "group"
        self.reasons.add(Intent.GROUP_DINING)
        if self.rng.random() < 0.55:
            return self.rng.choice(PEOPLE_GROUP)
        return self.rng.choice(GROUP_WORDS)

    def urgent(self, strong: bool = True) -> str:
        self.entities["urgency"] = "high"
        if strong:
            self.reasons.add(Intent.EMERGENCY_FOOD)
            surface = self.rng.choice(URGENT_STRONG)
            if re.search(r"지금|당장", surface):
                self.entities["time_preference"] = "now"
            return surface
        return self.rng.choice(URGENT_WEAK)

    def relaxed(self) -> str:
        self.entities["urgency"] = "low"
        return self.rng.choice(URGENT_LOW)

    def dietary(self) -> str:
        surface, values = self.rng.choice(DIETARY)
        self.entities["dietary_restrictions"] = list(values)
        self.reasons.add(Intent.MENU_OPTION)
        return surface

    def portion(self, large: bool | None = None) -> str:
        if large is None:
            large = self.rng.random() < 0.6
        self.entities["portion_size"] = "large" if large else "small"
        surface = self.rng.choice(PORTION_LARGE if large else PORTION_SMALL)
        if "곱빼기" in surface:  # an option of the dish: menu_option by the contract
            self.reasons.add(Intent.MENU_OPTION)
        return surface

    def maybe(self, p: float, fn, *args, **kw) -> str:
        return fn(*args, **kw) + " " if self.rng.random() < p else ""

    def intent(self) -> str:
        for intent in INTENT_ORDER:
            if intent in self.reasons:
                return intent.value
        return Intent.GENERAL_CHAT.value


# ----------------------------------------------------------------------------------------
# templates per intent: functions of a builder returning the text
# ----------------------------------------------------------------------------------------


def _food_request(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(14)
    if k == 0:
        return f"{b.maybe(0.3, b.time, allow_now=False)}{b.food()} {r.choice(WANT)}"
    if k == 1:
        return f"{b.taste()} {b.food()} {r.choice(WANT + RECOMMEND)}"
    if k == 2:
        if r.random() < 0.25:
            surface, value = r.choice([("짠", "salty"), ("단", "sweet"), ("매운", "spicy")])
            b.entities["taste_preference"] = value
            return f"{surface} 거 {r.choice(WANT + RECOMMEND)}"
        return f"{b.taste()} {r.choice(['거', '음식', '거 뭐', '메뉴'])} {r.choice(WANT + RECOMMEND)}"
    if k == 3:
        return f"{b.time(allow_now=False)} {b.food()} {r.choice(['어때', '어때?', '괜찮을까', '어떨까', '먹을까', 'ㄱ?'])}"
    if k == 4:
        return f"{b.companion()} {b.food()} {r.choice(['먹으러 갈래', '먹고 싶어', '먹으려고', '먹을 건데 추천해줘', '먹을래'])}"
    if k == 5:
        return f"{b.food()} {r.choice(['잘하는 집', '맛있는 데', '맛집 추천', '파는 곳 알려줘', '잘하는 곳 있어?', '맛있게 하는 집'])}"
    if k == 6:
        return f"{r.choice(['오늘', '요즘', '갑자기', '진짜', '왠지'])} {b.food()} {r.choice(['땡긴다', '땡겨', '당긴다', '먹고 싶네', '생각나'])}"
    if k == 7:
        return b.fixed(["뭐 먹지", "뭐 먹을까", "오늘 뭐 먹지?", "메뉴 추천해줘", "밥 뭐 먹을지 골라줘", "먹을 거 추천해줘",
                         "맛있는 거 먹고 싶어", "오늘 메뉴 추천 좀", "뭐 먹을지 모르겠어", "저녁 메뉴 골라줘", "점메추", "저메추",
                         "맛있는 거 추천해줘", "아무거나 추천해줘", "배달 뭐 시킬까", "뭐 시켜 먹지", "간식 추천해줘",
                         "입이 심심해", "뭐 맛있는 거 없나", "밥 먹어야 되는데 뭐 먹지", "오늘 밥 뭐 먹어"])
    if k == 8:
        return f"{b.food(shop=True)} {r.choice(RECOMMEND)}"
    if k == 9:
        return f"{b.maybe(0.5, b.companion)}{b.portion()} {b.food()} {r.choice(['먹고 싶어', '있어?', '추천해줘', '먹을래', '파는 곳'])}"
    if k == 10:
        tail = r.choice(['먹을 거 추천해줘', '먹을 만한 거', '먹을 메뉴 골라줘', None])
        return f"{b.relaxed()} {tail or b.food() + ' 먹고 싶어'}"
    if k == 11:
        return f"{b.urgent(strong=False)} {b.food()} {r.choice(WANT)}"
    if k == 12:
        return f"{b.food()} {r.choice(['ㄱㄱ', '고고', '콜?', 'ㄱ?', '어때', '먹을 사람', '시켜 먹자', '시킬까', '각이다'])}"
    eng = r.choice([("chicken", "치킨"), ("pizza", "피자"), ("burger", "패스트푸드"), ("pasta", "양식"), ("sushi", "일식"),
                    ("coffee", "카페·디저트")])
    b.entities["food_type"] = eng[1]
    return f"{eng[0]} {r.choice(['먹고 싶어', '땡긴다', 'ㄱㄱ', '먹을래', '추천해줘', 'please'])}"


def _budget(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(12)
    if k == 0:
        return f"{b.money()}{r.choice(['으로', '로', ' 가지고', '으로는'])} {r.choice(['뭐 먹지', '뭐 먹을 수 있어?', '먹을 수 있는 거', '뭐 먹을까', '먹을 만한 거 추천해줘', '뭐 사 먹지'])}"
    if k == 1:
        tail = r.choice(['', '뭐 먹지', '추천해줘', '뭐 먹을 수 있어?', '배고파'])
        if tail == "배고파":
            b.entities["urgency"] = "high"
        return f"{b.money()}{r.choice(['밖에 없어', '밖에 없는데', ' 있어', ' 있는데', '뿐이야', ' 남았어'])} {tail}"
    if k == 2:
        return f"{b.food()} {b.money()} {r.choice(['이하로', '이하', '안으로', '정도로', '이내로', '짜리 있어?', '안쪽으로'])}"
    if k == 3:
        return f"{b.money()}{r.choice(['짜리', ' 정도', ' 이하'])} {b.food()} {r.choice(['', '있어?', '추천해줘', '세트'])}"
    if k == 4:
        return f"{b.food()} {r.choice(WANT)} {b.money()} {r.choice(['있어', '밖에 없어', '있는데 돼?', '으로 가능해?'])}"
    if k == 5:
        return f"{b.companion()} {b.money()}{r.choice(['으로', '로'])} {r.choice(['먹을 데', '먹을 만한 곳', '뭐 먹지', '먹을 수 있는 데 있어?'])}"
    if k == 6:
        return r.choice(["돈이 없는데", "돈이 별로 없어서", "용돈이 다 떨어졌는데", "돈 없어", "돈이 부족한데", "이번 달 용돈 거의 없어",
                         "지갑이 텅 비었는데", "텅장이라"]) + " " + r.choice(
            ["싸게 먹을 데", "뭐 먹지", "저렴한 거 추천해줘", "먹을 수 있는 거 있어?", "싼 거 알려줘", ""])
    if k == 7:
        return f"{r.choice(['싸게', '저렴하게', '가성비 좋게', '싸고 맛있게'])} {r.choice(['먹을 수 있는 곳', '먹을 데 추천해줘', '먹고 싶어', '배 채울 수 있는 거'])}"
    if k == 8:
        return f"{r.choice(['가성비 좋은', '저렴한', '싼', '값싼', '가격 착한'])} {b.maybe(0.6, b.food)}{r.choice(['추천해줘', '있어?', '알려줘', '집', '메뉴'])}"
    if k == 9:
        return f"{b.urgent(strong=r.random() < 0.5)} {b.money()}{r.choice(['밖에 없어', ' 있어', '으로 뭐 먹지', '으로 빨리 먹을 거'])}"
    if k == 10:
        return f"{r.choice(['예산', '예산은', '돈은'])} {b.money()}{r.choice(['', '이야', '정도야', '인데'])} {r.choice(['추천해줘', '뭐 먹지', '', '맞춰서 골라줘'])}"
    return f"{b.money()} {r.choice(['이하 메뉴', '안쪽 메뉴 있어?', '이하로 먹을 수 있는 거', '선에서 추천', '내로 먹고 싶어'])}"


def _coupon(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(8)
    noun = r.choice(["쿠폰", "할인 쿠폰", "할인", "이벤트", "할인 이벤트", "혜택", "적립", "포인트", "신규 쿠폰", "첫 주문 쿠폰",
                     "생일 쿠폰", "학생 할인", "급식카드 할인", "1+1 이벤트", "반값 할인", "할인쿠폰", "쿠퐁", "coupon"])
    if k == 0:
        return f"{noun} {r.choice(['있어?', '있나요?', '받을 수 있어?', '있을까', '없어?', '뭐 있어', '알려줘', '좀 줘'])}"
    if k == 1:
        return f"{b.food(shop=r.random() < 0.5)} {noun} {r.choice(['있어?', '되나요', '하는 곳', '있는 데 알려줘'])}"
    if k == 2:
        return f"{r.choice(['이', '내', '이번', '그'])} {r.choice(['쿠폰', '할인쿠폰', '쿠폰'])} {r.choice(['언제까지야', '유효기간 언제야?', '어떻게 써?', '어디서 써?', '아직 쓸 수 있어?', '만료됐어?', '같이 쓸 수 있어?'])}"
    if k == 3:
        return f"{r.choice(['쿠폰', '할인'])} {r.choice(['쓰면', '적용하면', '받으면'])} {r.choice(['얼마 깎여?', '얼마 할인돼?', '얼마나 싸져?', '더 싸?', '공짜야?'])}"
    if k == 4:
        return f"{b.maybe(0.4, b.place)}{r.choice(['할인하는', '이벤트 하는', '쿠폰 주는', '세일하는', '할인 되는'])} {r.choice(PLACE_NOUN)} {r.choice(['있어?', '알려줘', '추천해줘', ''])}"
    if k == 5:
        return f"{b.money()} {r.choice(['할인 쿠폰', '쿠폰', '할인'])} {r.choice(['있어?', '쓸 수 있어?', '받았는데 어디서 써?'])}"
    if k == 6:
        return b.fixed(["내 쿠폰함 보여줘", "쿠폰 몇 개 있어?", "적립금 얼마 있어", "포인트 사용 돼?", "도장 몇 개 모았어?",
                         "이벤트 뭐 해?", "오늘 할인 뭐 있어", "친구 초대하면 혜택 있어?", "급식카드로 할인 받을 수 있어?",
                         "스탬프 다 모으면 뭐 줘?", "쿠폰 쓸래", "쿠폰 적용해줘", "할인 받고 싶어"])
    return f"{b.maybe(0.5, b.companion)}{b.food()} {r.choice(['먹을 건데', '시킬 건데', '먹으려는데'])} {noun} {r.choice(['있어?', '쓸 수 있어?', '돼?'])}"


def _group(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(7)
    if k == 0:
        return f"{b.group()} {r.choice(['먹을 수 있는 식당', '갈 만한 곳', '들어갈 수 있는 데 있어?', '갈 곳 찾아줘', '먹을 데 추천해줘', '앉을 수 있는 곳'])}"
    if k == 1:
        return f"{b.group()} {b.food()} {r.choice(['먹을 곳', '먹으러 갈 데', '먹고 싶은데', '시키려고', '먹을 수 있어?'])}"
    if k == 2:
        b.entities["companions"] = "group"
        b.reasons.add(Intent.GROUP_DINING)
        tail = b.group() if r.random() < 0.3 else r.choice(['', '추천해줘'])
        return f"{r.choice(['회식', '모임', '단체 회식', '반 회식', '동아리 회식', '뒤풀이'])} {r.choice(['장소', '할 곳', '하기 좋은 데', '장소 추천해줘'])} {tail}"
    if k == 3:
        n = r.choice(PEOPLE_GROUP)
        b.entities["companions"] = "group"
        b.reasons.add(Intent.GROUP_DINING)
        return f"{r.choice(['친구들', '우리', '반 애들', '친구들이랑', ''])} {n} {r.choice(['갈 건데', '먹을 건데', '모이는데'])} {r.choice(['어디 가지', '자리 있는 데', '추천해줘', '예약 돼?'])}"
    if k == 4:
        return f"{b.group()} {r.choice(['예약 가능한 곳', '예약되는 식당', '룸 있는 식당', '큰 테이블 있는 곳'])}"
    if k == 5:
        b.entities["companions"] = "group"
        b.reasons.add(Intent.GROUP_DINING)
        return f"{r.choice(['반 전체가', '동아리에서', '단체로', '우리 반이'])} {r.choice(['먹을', '갈', '회식할'])} {r.choice(PLACE_NOUN)} {r.choice(['찾아', '알려줘', '추천 좀', '있어?'])}"
    return f"{b.group()} {b.money()}{r.choice(['으로', ' 정도로'])} {r.choice(['먹을 곳', '회식할 곳'])}"


def _emergency(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(7)
    if k == 0:
        return f"{b.urgent()} {r.choice(['먹을 수 있는 거', '먹을 거', '먹을 수 있는 데', '뭐 없어?', '먹어야 돼', '나오는 거 추천해줘', '먹을 곳 알려줘'])}"
    if k == 1:
        return b.urgent()
    if k == 2:
        return f"{b.urgent()} {b.urgent()} {r.choice(['', '뭐라도', '아무거나', '빨리 줘'])}"
    if k == 3:
        tail = r.choice(['먹을 수 있는 곳', '바로 되는 데', '빨리 나오는 곳', '시켜줘', '먹어야 해'])
        if "바로" in tail:
            b.entities["time_preference"] = "now"
        return f"{b.urgent()} {b.food()} {tail}"
    if k == 4:
        return b.fixed(["빨리 먹을 수 있는 거", "바로 나오는 메뉴", "금방 나오는 거 뭐 있어", "5분 안에 먹을 수 있는 거",
                         "시간 없어 빨리 먹을 거", "급하게 한 끼 때워야 돼", "배고파서 쓰러질 것 같아", "진짜 배고파 죽겠다",
                         "얼른 먹을 거 줘", "당장 뭐라도 먹어야겠어", "수업 10분 남았는데 빨리 먹을 거", "배고파 미치겠다 빨리"])
    if k == 5:
        return f"{r.choice(['아 ', '하 ', '진짜 ', ''])}{b.urgent()}{r.choice(['', 'ㅠㅠ', '..', ' 뭐 먹지', ' 아무거나'])}"
    return f"{b.urgent()} {b.maybe(0.5, b.place)}{r.choice(['먹을 곳', '먹을 수 있는 데', '갈 수 있는 곳'])}"


def _time(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(8)
    subj = r.choice(["", "여기 ", "거기 ", "이 가게 ", "그 집 ", "이 식당 ", "가게 "])
    if k == 0:
        b.silver = True
        return f"{subj}{r.choice(['몇 시까지 해?', '몇 시에 열어?', '몇 시에 문 닫아?', '영업시간 알려줘', '몇시까지 영업해요?', '언제 문 열어?', '언제까지 해요', '몇 시 오픈이야?', '마감 몇 시야?', '라스트오더 언제야', '영업 중이야?', '지금 영업해?'])}"
    if k == 1:
        b.entities["time_preference"] = "now"
        where = b.food(shop=True) if r.random() < 0.4 else r.choice(['곳', '데', '가게', '식당'])
        return f"지금 {r.choice(['열린', '문 연', '영업하는', '하는', '여는'])} {where} {r.choice(['있어?', '알려줘', '찾아줘', '있나', ''])}"
    if k == 2:
        when, value = r.choice([("아침", "breakfast"), ("점심", "lunch"), ("저녁", "dinner"), ("새벽", "late_night"),
                                 ("밤늦게", "late_night"), ("야식 시간", "late_night")])
        b.entities["time_preference"] = value
        return f"{when}{r.choice(['에', '에도', ''])} {r.choice(['여는', '하는', '문 여는', '영업하는'])} {r.choice(['곳', '데', '가게'])} {r.choice(['있어?', '알려줘', '있을까'])}"
    if k == 3:
        return f"{subj}{r.choice(['일요일에도', '주말에도', '공휴일에도', '명절에도', '월요일에', '토요일에'])} {r.choice(['문 열어?', '영업해?', '해요?', '열어요?', '쉬어?'])}"
    if k == 4:
        return f"{subj}{r.choice(['브레이크타임', '브레이크 타임', '쉬는 시간', '휴무일', '정기 휴무'])} {r.choice(['언제야', '있어?', '몇 시야', '알려줘'])}"
    if k == 5:
        when = r.choice(['24시간', '새벽까지', '늦게까지', '밤 늦게까지', '아침 일찍', '밤 12시까지'])
        if "새벽" in when or "밤" in when:
            b.entities["time_preference"] = "late_night"
        elif "아침" in when:
            b.entities["time_preference"] = "breakfast"
        where = b.food(shop=True) if r.random() < 0.4 else r.choice(['곳', '데', '가게'])
        return f"{when} {r.choice(['하는', '여는', '영업하는'])} {where} {r.choice(['있어?', '없어?', '찾아줘'])}"
    if k == 6:
        return f"{b.food(shop=True)} {r.choice(['문 닫았어?', '아직 열었어?', '몇 시까지 해?', '오늘 쉬어?', '언제 열어?'])}"
    return f"{r.choice(['오늘', '내일', '설날에'])} {r.choice(['영업해?', '문 열어?', '하는 데 있어?', '쉬는 날이야?'])}"


def _location(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(7)
    if k == 0:
        return f"{b.place()} {r.choice(['맛집', '맛집 알려줘', '먹을 데', '식당 추천해줘', '갈 만한 곳', '밥집'])}"
    if k == 1:
        return f"{b.place()} {b.food(shop=True)} {r.choice(['추천해줘', '있어?', '알려줘', '어디야', '찾아줘', ''])}"
    if k == 2:
        return f"{b.place()} {b.food()} {r.choice(['먹을 수 있는 곳', '파는 데', '잘하는 집', '맛있는 데'])}"
    if k == 3:
        return f"{b.maybe(0.5, b.food, shop=True)}{r.choice(['어디 있어?', '어디야', '위치 알려줘', '어떻게 가?', '가는 길 알려줘', '주소 좀'])}"
    if k == 4:
        b.entities["location_preference"] = "nearby"
        b.reasons.add(Intent.LOCATION_INQUIRY)
        return f"{r.choice(['여기서', '학교에서', '집에서'])} {r.choice(['가까운', '제일 가까운', '걸어갈 수 있는'])} {b.food(shop=True)}"
    if k == 5:
        b.reasons.add(Intent.LOCATION_INQUIRY)
        return f"{r.choice(['어디서', '어디 가서', '어디로 가서'])} {r.choice(['먹지', '먹을까', '밥 먹지'])}{r.choice(['?', '', ' 추천해줘'])}"
    return f"{b.companion()} {b.place()} {r.choice(['갈 만한 식당', '먹을 곳', '맛집'])}"


def _menu_option(b: _Builder) -> str:
    r = b.rng
    k = r.randrange(9)
    if k == 0:
        return f"{b.dietary()} {r.choice(['추천해줘', '메뉴 보여줘', '먹을 수 있는 거', '메뉴로', '다른 거 보여줘', '골라줘', ''])}"
    if k == 1:
        b.entities["portion_size"] = "large"
        return f"{b.food()} {r.choice(['곱빼기로 돼?', '곱빼기 가능해?', '사이즈 업 돼?', '양 많이 줄 수 있어?', '큰 사이즈 있어?'])}"
    if k == 2:
        tail = r.choice(['덜 맵게 해줘', '덜 맵게 돼?', '안 맵게 해줄 수 있어?', '맵기 조절 돼?', '소스 따로 줘', '양파 빼줘', '오이 빼고', '토핑 추가 돼?', '치즈 추가할래', '순살로 바꿔줘'])
        if "맵게" in tail:
            b.entities["taste_preference"] = "mild"
        return f"{b.food()} {tail}"
    if k == 3:
        return b.fixed(["곱빼기로 해줘", "양 조절 돼요?", "사이즈 큰 걸로", "맵기 조절 가능해?", "소스 많이 주세요", "오이 빼주세요",
                         "양파 빼고 주세요", "덜 맵게 해주세요", "반반으로 돼?", "음료 다른 걸로 바꿀 수 있어?", "세트로 바꿔줘",
                         "사리 추가 돼?", "밥 양 줄여줘", "고수 빼줘"])
    if k == 4:
        surface, values = r.choice([d for d in DIETARY if "빼고" in d[0] or "없는" in d[0]])
        b.entities["dietary_restrictions"] = list(values)
        b.reasons.add(Intent.MENU_OPTION)
        return f"{surface} {b.food()} {r.choice(['있어?', '추천해줘', '먹고 싶어', '메뉴'])}"
    if k == 5:
        b.silver = True  # "고기 말고" is vegetarian, "매운 거 말고" no_spicy: the extractor's reading
        excluded, _cat = r.choice(FOODS)
        b.reasons.add(Intent.MENU_OPTION)
        tail = r.choice(['다른 거 추천해줘', '뭐 있어?', '다른 메뉴', None])
        return f"{excluded} {r.choice(['말고', '빼고', '말고 다른 거', '말고는'])} {tail or b.food() + ' 어때'}"
    if k == 6:
        who = r.choice(['나', '저', '동생이', '엄마가', '친구가', ''])
        if who in ("동생이", "엄마가"):
            b.entities["companions"] = "family"
        elif who == "친구가":
            b.entities["companions"] = "friends"
        return f"{who} {b.dietary()} {r.choice(['먹을 수 있는 메뉴 알려줘', '괜찮은 거 있어?', '메뉴만 보여줘', '거 골라줘'])}"
    if k == 7:
        surface = r.choice(["채식 메뉴 위주로 보여줘", "비건 메뉴 있어?", "할랄 음식 되는 데", "고기 안 들어간 메뉴", "채식주의자용 메뉴",
                            "비건 옵션 있어?"])
        b.entities["dietary_restrictions"] = ["vegan"] if "비건" in surface else ["halal"] if "할랄" in surface else ["vegetarian"]
        b.reasons.add(Intent.MENU_OPTION)
        return surface
    surface, values = r.choice([d for d in DIETARY if "못" in d[0] or "알레르기" in d[0]])
    b.entities["dietary_restrictions"] = list(values)
    b.reasons.add(Intent.MENU_OPTION)
    return f"{surface} {r.choice(['다른 거 보여줘', '메뉴 바꿔줘', '괜찮은 거 추천해줘', '피해서 골라줘'])}"


GENERAL = [
    "안녕", "안녕하세여", "안뇽", "안녕하십니까", "하이", "ㅎㅇ", "hi", "hello", "반가워", "처음 왔어", "고마워", "고마워요", "감사합니다", "ㄱㅅ",
    "땡큐", "thanks", "잘 자라", "굿밤", "굿나잇", "잘 있어", "바이바이", "ㅂㅂ", "다음에 또 올게", "수고해", "너는 누구니", "너 이름이 뭐야",
    "너 몇 살이야", "너 사람이야?", "뭐 할 수 있어?", "날씨 진짜 좋네", "비 온다", "너무 덥다", "추워", "심심해", "졸려", "피곤해",
    "오늘 학교 힘들었어", "시험 망했어", "숙제 하기 싫다", "게임 하고 싶다", "노래 추천해줘", "영화 추천해줘", "웹툰 추천 좀",
    "재밌는 얘기 해줘", "농담 해봐", "ㅋㅋㅋㅋ", "ㅎㅎ", "응", "아니", "그래", "알겠어", "오키", "ㅇㅋ", "좋아", "그렇구나", "헐",
    "대박", "뭐해?", "사랑해", "너 똑똑하다", "별로야", "짜증나", "기분 좋아", "오늘 생일이야", "내일 소풍 간다", "주말에 뭐하지",
    "공부하기 싫어", "엄마한테 혼났어", "친구랑 싸웠어", "학교 가기 싫다", "방학 언제 하지", "수학 숙제 도와줘",
    "오늘 무슨 요일이야", "너 바보야?", "도움말", "처음으로", "다시 해줘", "됐어", "괜찮아", "음..", "테스트", "ㅇㅇ", "잘했어",
    "나비얌이 뭐야?", "급식카드가 뭐야?", "이거 어떻게 써?", "사용법 알려줘", "오늘 기분 어때?", "배불러", "잘 먹었습니다",
    "맛있게 먹었어", "방금 먹었어", "다이어트 중이야", "살 빼야 돼", "운동하러 가야지", "축구 하고 싶다", "강아지 귀여워",
]


NOT_FOOD = ["노래", "음악", "영화", "책", "게임", "웹툰", "드라마", "유튜브 채널", "옷", "선물", "공부법", "운동", "향수",
            "신발", "애니", "취미", "여행지", "이름", "문제집", "노트북", "폰 케이스", "아이돌 노래"]


SMALLTALK_TOPICS = ["학교", "숙제", "시험", "게임", "날씨", "주말", "방학", "공부", "수업", "학원", "엄마", "친구",
                    "이 앱", "너", "오늘", "내일", "잠", "운동", "축구", "유튜브", "폰", "노래방", "수학", "영어 단어"]
SMALLTALK_COMMENTS = ["너무 힘들어", "재밌었어", "망했어", "짜증나", "어떻게 써?", "어떻게 하는 거야", "뭐야?", "싫다", "좋다",
                      "최고야", "하기 싫어", "끝났다", "언제 끝나", "얘기 해줘", "때문에 피곤해", "생각하면 설렌다", "진짜 웃겼어",
                      "어때?", "잘 모르겠어", "도와줄 수 있어?", "알려줄래?", "기대된다", "걱정돼", "너무 길어", "별로야"]
GREETINGS = ["좋은 아침", "굿모닝", "좋은 하루 보내", "좋은 밤", "오랜만이야", "반가워요", "또 왔어", "나 왔어", "있어?", "여보세요",
             "심심한데 놀아줘", "놀아줘", "얘기하자", "나랑 대화하자", "배불러", "배불러서 아무것도 못 먹겠어", "이미 먹었어",
             "아까 먹었어", "잘 먹었어요", "맛있었어 고마워", "추천 고마워", "도와줘서 고마워", "됐어 필요 없어", "그만할래",
             "잠깐만", "나중에 다시 올게", "이 앱 좋다", "너 누가 만들었어?", "너 밥 먹었어?", "뭐 하고 있었어?"]


def _general(b: _Builder) -> str:
    r = b.rng
    b.silver = True
    roll = r.random()
    if roll < 0.25:
        return f"{r.choice(SMALLTALK_TOPICS)} {r.choice(SMALLTALK_COMMENTS)}"
    if roll < 0.45:
        return r.choice(GREETINGS)
    if r.random() < 0.25:
        return f"{r.choice(NOT_FOOD)} {r.choice(['추천해줘', '추천 좀', '뭐가 좋아?', '골라줘', '알려줘', '추천해 주세요', '뭐 볼까', '하나만 추천'])}"
    if r.random() < 0.75:
        return r.choice(GENERAL)
    return f"{r.choice(GENERAL)} {r.choice(GENERAL)}"


TEMPLATES = {
    Intent.FOOD_REQUEST: (_food_request, 0.20),
    Intent.BUDGET_INQUIRY: (_budget, 0.13),
    Intent.COUPON_INQUIRY: (_coupon, 0.09),
    Intent.GROUP_DINING: (_group, 0.09),
    Intent.EMERGENCY_FOOD: (_emergency, 0.10),
    Intent.TIME_INQUIRY: (_time, 0.09),
    Intent.LOCATION_INQUIRY: (_location, 0.10),
    Intent.MENU_OPTION: (_menu_option, 0.10),
    Intent.GENERAL_CHAT: (_general, 0.13),
}

# ----------------------------------------------------------------------------------------
# surface noise: spacing, typos, emoticons, prefixes
# ----------------------------------------------------------------------------------------

_TYPO = {"떡볶이": "떡뽁이", "짜장면": "자장면", "먹고 싶어": "먹고싶어", "추천해줘": "추천해죠", "있어?": "잇어?", "알려줘": "알려죠",
         "배고파": "배고팡", "쿠폰": "쿠퐁", "돈까스": "돈가스", "싶어": "싶어여", "뭐": "머", "없어": "업서"}


def _noise(text: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.12:
        text = text.replace(" ", "")  # no spacing at all
    elif roll < 0.30:
        words = text.split(" ")
        if len(words) > 2:
            i = rng.randrange(len(words) - 1)
            words[i] = words[i] + words.pop(i + 1)
            text = " ".join(words)
    if rng.random() < 0.15:
        for a, b in _TYPO.items():
            if a in text and rng.random() < 0.5:
                text = text.replace(a, b, 1)
    text = rng.choice(PREFIX) + text + rng.choice(SUFFIX)
    if rng.random() < 0.05:
        text = text.replace("?", "??")
    return re.sub(r"\s+", " ", text).strip()


def generate(n: int = 6000, seed: int = 20261125) -> list[dict]:
    """``n`` examples with gold intent and entities, deterministic for a seed."""
    rng = random.Random(seed)
    intents = list(TEMPLATES)
    weights = [TEMPLATES[i][1] for i in intents]
    out: list[dict] = []
    seen: set[str] = set()
    attempts = 0
    while len(out) < n and attempts < n * 20:
        attempts += 1
        base = rng.choices(intents, weights)[0]
        builder = _Builder(rng, base)
        text = TEMPLATES[base][0](builder)
        text = _noise(re.sub(r"\s+", " ", text).strip(), rng)
        if not text or text in seen:
            continue
        seen.add(text)
        entities = dict(builder.entities)
        if builder.silver:
            entities = extract_entities(normalize(text))
        out.append(Example(text, builder.intent(), entities).as_dict())
    return out


def class_balance(rows: list[dict]) -> dict[str, int]:
    counts = Counter(r["intent"] for r in rows)
    return {i.value: counts.get(i.value, 0) for i in Intent}


def _sentence_key(text: str) -> str:
    return re.sub(r"[\s?!.~,]", "", text)


def without_lines_of(rows: list[dict], gold_path) -> list[dict]:
    """``rows`` minus those whose text is, spacing and punctuation aside, a line of the evaluation
    file ``gold_path`` (None or a missing file: nothing to remove). The grammar can produce a dev
    sentence by chance; training on it would flatter the very measurement it is judged by."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    if gold_path is None or not Path(gold_path).exists():
        return rows
    gold = set()
    for line in Path(gold_path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            gold.add(_sentence_key(json.loads(line)["text"]))
        except (ValueError, KeyError, TypeError):
            continue
    return [r for r in rows if _sentence_key(r["text"]) not in gold]
