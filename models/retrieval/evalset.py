"""The labelled query set of the retrieval benchmark.

Queries are written here as a child would type them into a chat (our own phrasings, typos and
spacing slips, amounts of money), never taken from the generator's menu names or descriptions.
Each query names what it asks for (dish types, a shop category, a budget, a taste); its graded
relevance over menus comes from the generator's hidden ground truth (``dish_type``,
``shop_category``, ``spicy``, ``price`` per menu):

* grade 2: the menu is what was asked (its dish type is one asked for / its shop is of the asked
  category and the menu is a main or set dish / it is spicy when heat was asked), within the budget
  and taste when those were asked;
* grade 1: a near miss — same shop category as the asked dish, or the asked category's sides and
  drinks, or the asked dish without the asked taste — still within the budget;
* grade 0: anything else.

``filters`` holds what an NLU would pass to the retriever (budget → ``max_price``, "안 매운" →
``dietary: [no_spicy]``), derived from the query text by ``nlu_standin``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from infra.vocabulary import MAIN_MENU_ROLES
from models.retrieval.text import extract_budget

MAIN_ROLES = set(MAIN_MENU_ROLES)

# dish types (as in the ground truth) → how people write them (incl. common misspellings)
DISHES: dict[tuple[str, ...], list[str]] = {
    ("떡볶이",): ["떡볶이", "떡뽁이", "떡복이"],
    ("김밥",): ["김밥", "김빱"],
    ("라면",): ["라면", "라믄"],
    ("순대",): ["순대"],
    ("어묵",): ["어묵", "오뎅"],
    ("쫄면",): ["쫄면"],
    ("돈까스",): ["돈까스", "돈가스", "돈카츠"],
    ("짜장면",): ["짜장면", "자장면", "짜장"],
    ("짬뽕",): ["짬뽕", "짬봉"],
    ("탕수육",): ["탕수육", "탕슉"],
    ("만두",): ["만두", "군만두"],
    ("마파두부",): ["마파두부"],
    ("초밥",): ["초밥", "스시"],
    ("라멘",): ["라멘", "일본식 라멘"],
    ("우동",): ["우동"],
    ("카레", "커리"): ["카레", "커리"],
    ("파스타",): ["파스타", "스파게티"],
    ("리조또",): ["리조또", "리조토"],
    ("함박스테이크",): ["함박스테이크", "함박 스테이크"],
    ("치킨",): ["치킨", "통닭"],
    ("닭강정",): ["닭강정"],
    ("피자",): ["피자"],
    ("버거",): ["햄버거", "버거"],
    ("핫도그",): ["핫도그"],
    ("토스트",): ["토스트"],
    ("샌드위치",): ["샌드위치", "샌드위치 "],
    ("케이크",): ["케이크", "케잌"],
    ("빙수",): ["빙수", "팥빙수"],
    ("와플", "크로플"): ["와플"],
    ("마카롱",): ["마카롱"],
    ("커피", "라떼"): ["커피", "아메리카노"],
    ("스무디",): ["스무디"],
    ("빵", "식빵"): ["빵"],
    ("쌀국수",): ["쌀국수", "베트남 쌀국수"],
    ("팟타이",): ["팟타이"],
    ("분짜",): ["분짜"],
    ("도시락",): ["도시락"],
    ("죽",): ["죽", "전복죽"],
    ("삼겹살",): ["삼겹살", "삼겹"],
    ("갈비",): ["갈비", "돼지갈비"],
    ("냉면",): ["냉면", "물냉면"],
    ("닭갈비",): ["닭갈비"],
    ("찌개",): ["찌개", "찌게", "김치찌개"],
    ("국밥",): ["국밥", "순대국밥"],
    ("비빔밥",): ["비빔밥"],
    ("불고기",): ["불고기"],
    ("제육볶음",): ["제육볶음", "제육"],
    ("국수",): ["국수", "잔치국수"],
    ("생선구이",): ["생선구이", "고등어구이"],
    ("계란말이",): ["계란말이", "달걀말이"],
    ("오므라이스",): ["오므라이스", "오무라이스"],
    ("볶음밥",): ["볶음밥"],
    ("타코야끼",): ["타코야끼", "타코야키"],
    ("버블티", "밀크티"): ["버블티", "밀크티"],
    ("아이스크림",): ["아이스크림"],
    ("감자튀김",): ["감자튀김", "감튀"],
    ("샐러드",): ["샐러드"],
    ("튀김",): ["튀김", "야채튀김"],
}

# how a child asks; {w} is the dish word, {w_i} the dish word + 이/가
DISH_PATTERNS = [
    "{w}", "{w} 먹고 싶어", "{w} 파는 곳 알려줘", "오늘 {w} 땡긴다", "{w}집 추천해줘", "{w} 먹을래",
    "배고픈데 {w} 어때", "{w} 맛있는 데 있어?", "점심으로 {w}", "{w_i} 먹고싶은데", "{w}먹고싶다",
    "친구랑 {w} 먹으러 갈건데",
]

BUDGET_DISHES = [("김밥",), ("떡볶이",), ("라면",), ("버거",), ("도시락",), ("짜장면",), ("돈까스",), ("국밥",),
                 ("커피", "라떼"), ("빵", "식빵"), ("짬뽕",), ("찌개",), ("우동",), ("토스트",)]
BUDGET_PATTERNS = [
    "{a} 이하로 {w}", "{a}으로 먹을 수 있는 {w}", "{a}밖에 없는데 {w} 먹을 수 있어?", "{w} {a}이하",
    "{a} 안으로 {w} 추천",
]

CATEGORY_QUERIES: dict[str, list[str]] = {
    "한식": ["한식 먹고 싶어", "밥집 추천해줘 한식으로"],
    "분식": ["분식 먹자", "분식집 어디 있어"],
    "중식": ["중국집 가고 싶어", "중국 음식 먹을래"],
    "일식": ["일식 먹고 싶어", "일본 음식 추천"],
    "양식": ["양식 먹고 싶어", "경양식 레스토랑"],
    "치킨": ["치킨집 추천", "닭 튀긴 거 먹고 싶어"],
    "피자": ["피자 시켜 먹을까", "피자 가게 알려줘"],
    "패스트푸드": ["패스트푸드 먹을래", "빨리 먹을 수 있는 패스트푸드"],
    "카페·디저트": ["카페 가서 디저트 먹자", "달달한 디저트 카페"],
    "베이커리": ["빵집 어디야", "베이커리 추천"],
    "아시안": ["동남아 음식 먹고 싶어", "아시안 음식점"],
    "도시락·죽": ["도시락 가게", "죽집 추천해줘"],
    "고기·구이": ["고기 구워 먹고 싶어", "고깃집 가자"],
}

SPICY_QUERIES = [
    ("매운 거 먹고 싶어", None, "spicy"),
    ("얼큰한 국물 요리", None, "spicy"),
    ("스트레스 받아서 매운 음식 땡겨", None, "spicy"),
    ("매콤한 떡볶이", ("떡볶이",), "spicy"),
    ("얼큰한 짬뽕 먹고 싶다", ("짬뽕",), "spicy"),
    ("매운 라면", ("라면",), "spicy"),
    ("안 매운 떡볶이 있어?", ("떡볶이",), "mild"),
    ("맵지 않은 찌개", ("찌개",), "mild"),
    ("안매운 라면", ("라면",), "mild"),
    ("매운 거 못 먹는데 국수", ("국수",), "mild"),
]


@dataclass
class EvalQuery:
    text: str
    kind: str  # dish / budget / category / spicy
    dishes: tuple[str, ...] = ()
    category: str | None = None
    budget: int | None = None
    taste: str | None = None  # spicy / mild
    filters: dict[str, Any] = field(default_factory=dict)


def _josa_i(word: str) -> str:
    last = word.strip()[-1]
    code = ord(last) - 0xAC00
    has_final = 0 <= code < 11172 and code % 28 != 0
    return word.strip() + ("이" if has_final else "가")


def _won(amount: int, style: int) -> str:
    if style == 1:
        return f"{amount:,}원"
    if style == 2:
        return f"{amount}원"
    man, rest = divmod(amount, 10000)
    cheon = rest // 1000
    text = ("" if man == 1 else str(man)) + "만" if man else ""
    if cheon:
        text += ("" if not man else " ") + f"{cheon}천"
    return text + "원"


_MILD = re.compile(r"안\s?매운|맵지\s?않|못\s?먹는데|순한")


def nlu_standin(text: str) -> dict[str, Any]:
    """What a (perfect-enough) NLU passes as filters for these queries."""
    filters: dict[str, Any] = {}
    budget = extract_budget(text)
    if budget:
        filters["max_price"] = budget
    if _MILD.search(text):
        filters["dietary"] = ["no_spicy"]
    return filters


def build_queries(truth: dict[int, dict]) -> list[EvalQuery]:
    """The query set (deterministic). Budgets follow the data: the median price of the dish."""
    present = {t["dish_type"] for t in truth.values()}
    prices: dict[str, list[int]] = {}
    for t in truth.values():
        prices.setdefault(t["dish_type"], []).append(int(t["price"]))
    queries: list[EvalQuery] = []
    n = 0
    for dishes, words in DISHES.items():
        if not any(d in present for d in dishes):
            continue
        for k in range(3):
            word = words[(n + k) % len(words)]
            pattern = DISH_PATTERNS[(n * 5 + k * 7) % len(DISH_PATTERNS)]
            text = pattern.format(w=word.strip(), w_i=_josa_i(word))
            queries.append(EvalQuery(text, "dish", dishes=dishes))
        n += 1
    for i, dishes in enumerate(BUDGET_DISHES):
        ps = sorted(p for d in dishes for p in prices.get(d, []))
        if not ps:
            continue
        median = ps[len(ps) // 2]
        amount = max(1000, (median // 1000) * 1000)  # about half the menus fit
        words = DISHES[dishes]
        for k in range(2):
            word = words[(i + k) % len(words)]
            pattern = BUDGET_PATTERNS[(i * 2 + k) % len(BUDGET_PATTERNS)]
            text = pattern.format(a=_won(amount, (i + k) % 3), w=word.strip())
            queries.append(EvalQuery(text, "budget", dishes=dishes, budget=amount))
    for category, texts in CATEGORY_QUERIES.items():
        for text in texts:
            queries.append(EvalQuery(text, "category", category=category))
    for text, dishes, taste in SPICY_QUERIES:
        queries.append(EvalQuery(text, "spicy", dishes=dishes or (), taste=taste))
    for q in queries:
        q.filters = nlu_standin(q.text)
        if q.budget is not None:
            assert q.filters.get("max_price") == q.budget, (q.text, q.filters)
    return queries


def grade(q: EvalQuery, t: dict, role: str | None) -> int:
    """Relevance of a menu (truth ``t``, public menu category ``role``) to query ``q``."""
    if q.budget is not None and int(t["price"]) > q.budget:
        return 0
    spicy = bool(t["spicy"])
    if q.kind in ("dish", "budget"):
        if t["dish_type"] in q.dishes:
            return 2
        return 1 if t["shop_category"] in _categories_of(q.dishes) else 0
    if q.kind == "category":
        if t["shop_category"] != q.category:
            return 0
        return 2 if role in MAIN_ROLES else 1
    if q.kind == "spicy":
        wants_spicy = q.taste == "spicy"
        if q.dishes:
            if t["dish_type"] not in q.dishes:
                return 0
            return 2 if spicy == wants_spicy else 1
        if spicy == wants_spicy:
            return 2 if role in MAIN_ROLES else 1
        return 0
    return 0


_DISH_CATEGORIES: dict[str, set[str]] = {}


def set_dish_categories(truth: dict[int, dict]) -> None:
    _DISH_CATEGORIES.clear()
    counts: dict[str, dict[str, int]] = {}
    for t in truth.values():
        c = counts.setdefault(t["dish_type"], {})
        c[t["shop_category"]] = c.get(t["shop_category"], 0) + 1
    for dish, c in counts.items():
        top = max(c.values())
        _DISH_CATEGORIES[dish] = {k for k, v in c.items() if v >= 0.25 * top}


def _categories_of(dishes: tuple[str, ...]) -> set[str]:
    out: set[str] = set()
    for d in dishes:
        out |= _DISH_CATEGORIES.get(d, set())
    return out


def grade_all(q: EvalQuery, table: dict) -> "np.ndarray":
    """``grade`` of every menu at once; ``table`` from ``truth_table``."""
    import numpy as np

    dish, cat, spicy, price, main = table["dish"], table["cat"], table["spicy"], table["price"], table["main"]
    ok_budget = price <= q.budget if q.budget is not None else np.ones_like(spicy, dtype=bool)
    g = np.zeros(len(price), dtype=np.int8)
    if q.kind in ("dish", "budget"):
        is_dish = np.isin(dish, list(q.dishes))
        near = np.isin(cat, list(_categories_of(q.dishes)))
        g[near] = 1
        g[is_dish] = 2
    elif q.kind == "category":
        in_cat = cat == q.category
        g[in_cat] = 1
        g[in_cat & main] = 2
    elif q.kind == "spicy":
        match = spicy == (q.taste == "spicy")
        if q.dishes:
            is_dish = np.isin(dish, list(q.dishes))
            g[is_dish] = 1
            g[is_dish & match] = 2
        else:
            g[match] = 1
            g[match & main] = 2
    g[~ok_budget] = 0
    return g


def truth_table(truth: dict[int, dict], roles: dict[int, str | None]) -> dict:
    import numpy as np

    ids = np.array(sorted(truth), dtype=np.int64)
    return {
        "ids": ids,
        "dish": np.array([truth[i]["dish_type"] for i in ids], dtype=object),
        "cat": np.array([truth[i]["shop_category"] for i in ids], dtype=object),
        "spicy": np.array([bool(truth[i]["spicy"]) for i in ids]),
        "price": np.array([int(truth[i]["price"]) for i in ids]),
        "main": np.array([roles.get(int(i)) in MAIN_ROLES for i in ids]),
    }
