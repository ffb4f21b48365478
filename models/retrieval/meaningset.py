"""The MEANING DEV retrieval query set: needs and situations to tune the meaning-level search on.

The blind set (``blindset``) may never be tuned on, and the dish-name dev set (``evalset``) asks
almost only for dishes by name, so nothing would tell a change to the query-side reading of needs
(``needs``) or to the reranking of a need (``results``) good from bad. This set is that dev set:
written on 2026-12-07, after the blind set was committed and without reading its scores per query,
from general knowledge of what children eat when (rain → something warm, exam week → something
sweet, after football → meat). Its phrasings are its own. Cue words, factors and pool sizes are
chosen on this set and ``evalset``; the blind set is scored once with what they chose.

Relevance is graded exactly as the blind set's (``graded``). No text is in both sets (a test checks;
six phrasings both sets happened to share were reworded here, after the tuning they took part in).
"""

from __future__ import annotations

from models.retrieval.graded import Need, NeedQuery, build_need_queries, need

NEEDS: tuple[Need, ...] = (
    # --- meaning ------------------------------------------------------------------------------
    need("국물 요리 추천해줘|국물이 끝내주는 거|따끈한 국 한 그릇", "soup warm"),
    need("차가운 음료 추천|얼음 동동 음료수|시원하게 한 잔 하고 싶다", "cold", serve="drink"),
    need("밥이랑 먹는 거|쌀밥 메뉴|밥 들어간 요리 추천", "rice"),
    need("배 터지게 먹을 거|양 많은 걸로 줘|푸짐한 한 끼", "hearty"),
    need("매콤한 거 땡김|매운 음식 도전|얼큰하고 매운 거", "spicy1/spicy2"),
    need("하나도 안 매운 밥|매운 거 못 먹어요 밥 추천|순한 맛 식사", "", avoid="hot"),
    need("국수 종류|면발 쫄깃한 거|면 요리 추천 좀", "noodle"),
    need("빵 종류로 먹을래|빵으로 때울래|빵 들어간 메뉴", "bread", serve="food"),
    need("튀김 종류|튀긴 음식 추천|바삭하게 튀긴 고기", "fried", serve="food"),
    need("구이 요리|불에 구운 고기 먹고 싶어|구워 나오는 메뉴", "grilled"),
    need("야채로만 된 요리|고기 빼고 채소로|비건 메뉴 있나요", "vegetarian"),
    need("새우 요리|오징어나 새우 들어간 거|생선 요리 먹고 싶어", "seafood"),
    need("닭 들어간 음식|닭으로 만든 요리 추천|치킨 같은 닭 요리", "chicken"),
    need("돼지 들어간 메뉴|돼지로 만든 요리|제육 같은 돼지고기", "pork"),
    need("소고기 든 음식|쇠고기 요리|소고기로 배 채우기", "beef"),
    need("계란 요리 먹을래|에그 들어간 메뉴|달걀 들어간 음식", "egg", serve="food"),
    need("치즈 요리|치즈가 들어간 메뉴|치즈 좋아해", "dairy", serve="food"),
    need("두부로 만든 요리|두부 들어간 음식", "tofu"),
    need("따뜻한 밥 요리|뜨끈한 밥 한 그릇", "rice warm"),
    need("차가운 디저트|아이스 디저트|시원한 후식", "cold", serve="dessert"),
    need("면 빼고 국물 요리|국수 말고 국물 있는 거", "soup", avoid="noodle"),
    need("튀긴 거 말고 밥|기름에 튀기지 않은 식사", "rice", avoid="fried"),
    need("고기 들어간 면|고기 넣은 국수", "meat noodle"),
    need("해물 들어간 국물|해산물 국물 요리", "seafood soup"),
    need("매운 국물 요리|얼큰한 국물 요리 없나", "soup spicy1/spicy2"),
    need("달달한 음료수 하나|단 음료수 마실래|달콤한 마실 것", "sweet", serve="drink"),
    # --- situation ----------------------------------------------------------------------------
    need("비가 와서 따뜻한 거 생각나|비 오는 날 먹을 음식 추천|장마철에 땡기는 거", "warm", kind="situation"),
    need("추워서 몸 녹일 거|겨울에 먹기 좋은 음식|으슬으슬 추운 날 먹을 거", "warm", kind="situation"),
    need("더워 죽겠어 시원한 음식|한여름에 먹을 시원한 밥|땀 뻘뻘 나는 날 먹을 거", "cold", serve="food",
         kind="situation"),
    need("감기 걸려서 속 편한 거|아플 때 먹을 부드러운 거|몸살 나서 기운 없어", "soft", avoid="hot", kind="situation"),
    need("아침으로 간단하게|등교 전에 빨리 먹을 거|아침밥 가볍게", "light", serve="food", kind="situation"),
    need("학원 가기 전에 간단히|쉬는 시간에 후딱 먹을 간식|출출할 때 간단한 거", "light", serve="food",
         kind="situation"),
    need("친구들이랑 나눠 먹을 거|여럿이 같이 먹을 메뉴|생일파티에 시킬 거", "share", serve="food", kind="situation"),
    need("운동 끝나고 고기|축구하고 배고파서 고기|체육 끝나고 든든하게 고기", "meat hearty", kind="situation"),
    need("다이어트 중인데 가볍게 먹을 거|살 안 찌는 메뉴|칼로리 낮은 음식", "light", avoid="fried", serve="food",
         kind="situation"),
    need("혼자 든든하게 한 끼|혼밥하는데 배부르게", "hearty", kind="situation"),
    need("스트레스 받아서 매운 거|화나서 엄청 매운 거 먹을래", "spicy1/spicy2", kind="situation"),
    need("시험 공부하다 당 충전|공부하다 머리 아파 단 거", "sweet", serve="dessert", kind="situation"),
    # --- budget -------------------------------------------------------------------------------
    need("만원으로 고기 배부르게|만원 있는데 고기 먹을래", "meat", budget=10000, kind="budget"),
    need("4천원으로 밥|사천원 밥 먹을 수 있는 곳", "rice", budget=4000, kind="budget"),
    need("3천원 안으로 간식|삼천원으로 간단한 거", "light", serve="food", budget=3000, kind="budget"),
    need("6천원으로 국물 요리|육천원 국물 있는 밥", "soup", budget=6000, kind="budget"),
    # --- typo: dish names misspelled ----------------------------------------------------------
    need("된장찌게 먹을래|된장지개", "", serve="food", kind="typo", dishes="된장찌개"),
    need("돈까쓰 먹고 싶어|돈가쑤", "", serve="food", kind="typo", dishes="돈까스"),
    need("비빈밥 주세요|비빔빱", "", serve="food", kind="typo", dishes="비빔밥"),
    need("잠뽕 먹을래|쨤뽕", "", serve="food", kind="typo", dishes="짬뽕"),
    need("볶음밤|볶은밥 먹고파", "", serve="food", kind="typo", dishes="볶음밥 김치볶음밥"),
    need("팟타히|팓타이", "", serve="food", kind="typo", dishes="팟타이"),
    need("함박스테잌|함박스태이크", "", serve="food", kind="typo", dishes="함박스테이크"),
    need("마까롱 먹을래|마카룽", "", serve="food", kind="typo", dishes="마카롱"),
)


def build_meaning_queries() -> list[NeedQuery]:
    """Every (need, text) pair of the meaning dev set."""
    return build_need_queries(NEEDS)
