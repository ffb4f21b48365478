"""Dish and category lexicon: surface words (with common misspellings and English) → the 13
shop categories of the label contract. Longest match wins, so 돼지국밥 beats 국밥 and 치즈케이크
beats 치즈."""

from __future__ import annotations

import re

from models.nlu.labels import FOOD_CATEGORIES

_LEXICON: dict[str, tuple[str, ...]] = {
    "한식": (
        "한식", "한식집", "한식당", "한정식", "백반", "가정식", "집밥", "국밥", "돼지국밥", "순대국", "순댓국",
        "순대국밥", "소머리국밥", "콩나물국밥", "비빔밥", "돌솥비빔밥", "찌개", "김치찌개", "된장찌개",
        "순두부", "순두부찌개", "부대찌개", "청국장", "불고기", "제육", "제육볶음", "김치볶음밥",
        "냉면", "물냉면", "비빔냉면", "칼국수", "수제비", "설렁탕", "곰탕", "갈비탕", "감자탕",
        "삼계탕", "해장국", "뼈해장국", "육개장", "닭갈비", "닭볶음탕", "찜닭", "보쌈", "족발", "쌈밥",
        "김치전", "파전", "해물파전", "잡채", "불백", "오징어볶음", "낙지볶음", "쭈꾸미", "쭈꾸미볶음",
        "생선구이", "고등어구이", "갈치조림", "국수", "잔치국수", "비빔국수", "콩국수", "기사식당",
    ),
    "분식": (
        "분식", "분식집", "김밥", "꼬마김밥", "참치김밥", "김밥집", "떡볶이", "떡뽁이", "떡볶기", "떡복이",
        "떡볶이집", "로제떡볶이", "라볶이", "라면", "라면집", "순대", "튀김", "어묵", "오뎅", "쫄면",
        "주먹밥", "컵밥", "핫바", "떡꼬치", "만두", "군만두", "tteokbokki", "gimbap", "kimbap", "ramyeon",
    ),
    "중식": (
        "중식", "중식당", "중국집", "중국 음식", "중국음식", "중화요리", "짜장면", "자장면", "짜장", "짜장밥",
        "짬뽕", "짬뽕밥", "탕수육", "볶음밥", "마라탕", "마라샹궈", "마라", "양꼬치", "깐풍기",
        "유린기", "깐쇼새우", "멘보샤", "딤섬", "고추잡채", "훠궈", "jjajangmyeon",
    ),
    "일식": (
        "일식", "일식집", "일식당", "일본 음식", "일본음식", "돈까스", "돈가스", "돈카츠", "카츠", "돈까쓰",
        "초밥", "스시", "초밥집", "회전초밥", "우동", "라멘", "라멘집", "덮밥", "규동", "가츠동", "텐동",
        "사케동", "연어덮밥", "오니기리", "소바", "메밀소바", "오코노미야키", "타코야끼", "타코야키",
        "사시미", "회", "횟집", "연어", "sushi", "ramen", "udon",
    ),
    "양식": (
        "양식", "양식당", "양식집", "레스토랑", "파스타", "스파게티", "까르보나라", "알리오올리오",
        "스테이크", "리조또", "리조토", "함박스테이크", "함박", "오므라이스", "그라탕", "라자냐",
        "브런치", "샐러드", "이탈리안", "pasta", "steak", "risotto", "salad",
    ),
    "치킨": (
        "치킨", "치킨집", "통닭", "후라이드", "프라이드치킨", "양념치킨", "간장치킨", "순살치킨", "닭강정",
        "닭튀김", "치느님", "치맥", "chicken",
    ),
    "피자": ("피자", "피자집", "피짜", "페퍼로니", "pizza"),
    "패스트푸드": (
        "패스트푸드", "패스트 푸드", "햄버거", "햄버거집", "버거", "치즈버거", "수제버거", "불고기버거",
        "샌드위치", "핫도그", "감자튀김", "토스트", "서브웨이", "맥도날드", "맘스터치", "롯데리아",
        "버거킹", "kfc", "타코", "브리또", "부리또", "burger", "hamburger", "sandwich", "hotdog",
    ),
    "카페·디저트": (
        "카페", "디저트", "케이크", "케익", "치즈케이크", "빙수", "팥빙수", "설빙", "와플", "음료", "음료수",
        "커피", "아메리카노", "라떼", "스무디", "버블티", "밀크티", "주스", "에이드", "아이스크림",
        "젤라또", "마카롱", "크로플", "탕후루", "디저트카페", "cafe", "coffee", "dessert", "cake",
    ),
    "베이커리": (
        "베이커리", "빵", "빵집", "제과점", "식빵", "크루아상", "크로와상", "베이글", "도넛", "도너츠",
        "소금빵", "단팥빵", "파리바게뜨", "뚜레쥬르", "bakery", "bread",
    ),
    "아시안": (
        "아시안", "아시아 음식", "동남아", "동남아 음식", "쌀국수", "분짜", "반미", "팟타이",
        "커리", "카레", "인도 커리", "나시고랭", "똠얌꿍", "태국 음식", "베트남 음식", "인도 음식",
        "월남쌈", "pho", "curry",
    ),
    "도시락·죽": (
        "도시락", "도시락집", "죽", "죽집", "전복죽", "호박죽", "야채죽", "본죽", "한솥", "lunchbox",
    ),
    "고기·구이": (
        "고기", "고깃집", "고기집", "삼겹살", "목살", "갈비", "돼지고기", "돼지갈비", "소갈비", "la갈비", "숯불갈비",
        "구이", "고기구이", "곱창", "막창", "대창", "양갈비", "소고기", "한우", "등심", "차돌박이",
        "숯불구이", "무한리필 고기", "bbq", "바베큐", "삼쏘",
    ),
}

#: surface word → category (built once; every value is one of the contract's 13)
FOOD_LEXICON: dict[str, str] = {}
for _category, _words in _LEXICON.items():
    assert _category in FOOD_CATEGORIES, _category
    for _w in _words:
        FOOD_LEXICON[_w] = _category

# words that are too short or too ambiguous to match inside other words: need a boundary
_NEEDS_BOUNDARY = {"회", "라면", "죽", "빵", "마라", "구이", "고기", "타코", "카레", "커리"}

_SPACE_FLEX = lambda w: r"\s?".join(re.escape(part) for part in w.split(" "))  # noqa: E731

_alts = []
for _w in sorted(FOOD_LEXICON, key=len, reverse=True):
    pat = _SPACE_FLEX(_w)
    if _w.startswith("한식"):  # not "먹을 만한 식당" written without spaces
        pat = rf"(?<!만){pat}"
    if _w in _NEEDS_BOUNDARY:
        # the word must start a word, and end a word or be followed by a particle / suffix
        pat = rf"(?<![가-힣]){pat}(?=$|[^가-힣]|[은는이가을를도만랑과와에요집류좀으로잘]|먹|파는|하고|하는|같은|처럼|시켜|땡|당기|어때|어떄|좋|사\s?먹|맛)"
        if _w == "빵":  # not 빵 터졌어 (burst out laughing), 빵점
            pat = r"(?<![가-힣])빵(?!\s?(?:터|점|빵))" + pat[len(r"(?<![가-힣])빵"):]
        if _w == "죽":  # not the verb: 죽겠어, 죽을 것 같아, 죽어
            pat = r"(?<![가-힣])죽(?!\s?을\s?(?:것|거|듯|뻔|지경|만큼)|겠|어|는|기|음|네|일|이겠|여|었|다)" + pat[len(r"(?<![가-힣])죽"):]
    _alts.append(pat)
FOOD_RE = re.compile("|".join(_alts))
# the lexicon keys without spaces, for lookup of a matched surface form
_LOOKUP = {w.replace(" ", ""): c for w, c in FOOD_LEXICON.items()}


def food_matches(text: str) -> list[tuple[int, int, str]]:
    """(start, end, category) of every dish / category word in ``text``, left to right."""
    out = []
    for m in FOOD_RE.finditer(text):
        category = _LOOKUP.get(m.group(0).replace(" ", ""))
        if category:
            out.append((m.start(), m.end(), category))
    return out


def food_category(word: str) -> str | None:
    """The category of one dish word (exact, spaces ignored), or None."""
    return _LOOKUP.get(word.replace(" ", "").lower())
