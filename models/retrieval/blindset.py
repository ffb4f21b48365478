"""The BLIND retrieval query set: requests by meaning and situation, graded by menu attributes.

Written on 2026-12-07 before any change to documents, lexicons, fusion weights or ranking, and
committed on its own; nothing may be tuned on it (``evalset`` is the dev set for that). The
benchmark reports it beside the dev set and refuses weight sweeps on it.

Most requests name no dish ("국물 있는 따뜻한 거", "면 말고 밥"); some name a dish in a colloquial
or misspelled form that no lexicon of the project contains ("떡뽀끼", "짜장멘"). Relevance is graded from
the generator's hidden menu attributes (``graded``).
"""

from __future__ import annotations

from models.retrieval.graded import Need, NeedQuery, build_need_queries
from models.retrieval.graded import need as _n


NEEDS: tuple[Need, ...] = (
    # --- meaning: what the food is like -------------------------------------------------------
    _n("국물 있는 따뜻한 거|뜨끈한 국물 땡겨|국물잇는거 먹구싶다|후루룩 마실 수 있는 따끈한 국물 요리", "soup warm"),
    _n("시원한 거 마시고 싶어|목말라 차가운 음료|더워서 시원한 마실거|시원한거 마실꺼 없나", "cold", serve="drink"),
    _n("면 말고 밥|밥 종류로 먹고 싶어|오늘은 밥심이다 밥으로|면 싫어 밥 줘", "rice", avoid="noodle"),
    _n("고기 든든하게|고기로 배 채우고 싶다|고기 왕창 든든한 한끼", "meat hearty"),
    _n("고기 먹고 싶어|고기 들어간 거 아무거나|단백질 충전 고기요리|고기고기한 거", "meat"),
    _n("안 맵고 부드러운 거|맵지 않고 순하고 부드러운 음식|이 안 좋아서 부드러운 거|씹기 편한 보들보들한 거",
       "soft", avoid="hot"),
    _n("면 요리 먹고 싶어|후루룩 면치기 하고 싶다|면종류 뭐 있어|누들 땡긴다", "noodle"),
    _n("시원한 면 요리|여름에 먹는 차가운 국수|더운데 차가운 면|살얼음 동동 면", "noodle cold"),
    _n("달달한 디저트|단 거 당긴다 디저트로|당 떨어져 달달한 후식|식후에 달콤한 디저트", "sweet", serve="dessert"),
    _n("바삭바삭한 튀김류|튀긴 거 먹고 싶어|바삭한 거 땡겨|기름에 튀긴 요리", "fried", serve="food"),
    _n("구운 고기|숯불에 구운 거|지글지글 구워먹는 고기|불판에 구워 먹는 거", "grilled"),
    _n("고기 없는 메뉴|채식하는 친구랑 먹을 거|고기 안 들어간 밥|채식 메뉴 있어?", "vegetarian"),
    _n("해산물 들어간 요리|해물 요리 먹고 싶다|생선이나 새우 들어간 거|바다 맛 나는 거", "seafood"),
    _n("닭고기 요리|닭으로 만든 거 먹을래|닭 들어간 밥|닭고기 들어간 메뉴", "chicken"),
    _n("돼지고기 요리|돼지고기 들어간 거|돼지고기로 든든하게", "pork"),
    _n("소고기 들어간 거|소고기 요리 먹고 싶어|소고기로 만든 음식", "beef"),
    _n("계란 들어간 거|달걀 요리|계란 좋아하는데 계란 메뉴", "egg", serve="food"),
    _n("치즈 듬뿍 들어간 거|치즈 쭉 늘어나는 거|치즈 들어간 음식", "dairy", serve="food"),
    _n("두부 요리|두부 들어간 거 먹고 싶어", "tofu"),
    _n("얼큰한 국물|칼칼한 국물 땡긴다|해장할 얼큰한거|얼큰하게 국물 있는 걸로", "soup spicy1/spicy2"),
    _n("안 매운 국물 요리|맑고 안 매운 국|맵지 않은 국물 있는 거", "soup", avoid="hot"),
    _n("어린이 먹기 좋은 안 매운 밥|안 매운 밥 메뉴|매운 거 못 먹어 밥 종류로", "rice", avoid="hot"),
    _n("엄청 매운 거|혀가 얼얼할 정도로 매운거|스트레스 풀리게 완전 매운 음식|맵부심 부릴 메뉴", "spicy2"),
    _n("살짝 매콤한 거|적당히 매콤한 음식|조금 매콤한 거 먹고 싶어", "spicy1"),
    _n("따뜻한 국물 있는 면|국물 있는 국수 같은 거|뜨끈한 국물에 면", "noodle soup warm"),
    _n("국밥처럼 밥 말아먹는 거|국물이랑 밥 같이 먹는 메뉴|밥이랑 국물 한 그릇", "soup rice"),
    _n("달달한 밥 메뉴|단짠 고기 덮밥|달콤한 양념 밥", "sweet rice"),
    _n("면인데 안 매운 거|안 매운 면 요리|맵지 않은 국수나 면", "noodle", avoid="hot"),
    _n("빵 말고 밥|빵은 싫고 밥으로", "rice", avoid="bread"),
    _n("빵이나 샌드위치 같은 거|빵으로 된 메뉴|빵 종류 먹고 싶다", "bread", serve="food"),
    _n("차가운 음식|시원하게 먹는 요리|찬 음식 먹고 싶다", "cold", serve="food"),
    _n("시원한 디저트|더운 날 차가운 후식|얼음 들어간 디저트", "cold sweet", serve="dessert"),
    _n("달달한 음료|단 음료수 마시고 싶어|달콤한 마실 거|달다구리 음료", "sweet", serve="drink"),
    _n("우유 들어간 음료|부드러운 우유 음료|밀크 들어간 마실거", "dairy", serve="drink"),
    _n("기름지지 않은 담백한 거|튀기지 않은 음식|안 느끼하고 안 튀긴 거", "", avoid="fried"),
    _n("혼자 먹기 좋은 거|혼밥 메뉴 추천|1인분으로 먹기 좋은 거", "", avoid="share"),
    # --- situation: why they ask --------------------------------------------------------------
    _n("아침에 가볍게 먹을 거|등교 전에 간단하게|아침으로 부담 없는 거|아침 대충 때울 거", "light"),
    _n("비 오는 날 생각나는 음식|비 오는데 뭐 먹지 따뜻한 거|비 와서 뜨끈한 거 땡김", "soup/fried warm/fried",
       kind="situation"),
    _n("친구랑 나눠 먹기 좋은 거|여럿이 같이 시켜 먹을 거|친구들이랑 쉐어할 메뉴", "share", kind="situation"),
    _n("시험 끝나고 친구랑 간단히|학원 가기 전에 빨리 먹을 거|쉬는 시간에 후딱 먹을 거", "light", kind="situation"),
    _n("아파서 속이 안 좋아|감기 걸렸을 때 먹을 거|배탈 나서 소화 잘 되는 거|몸살 나서 죽 같은 거",
       "soft warm", avoid="hot fried", kind="situation"),
    _n("배 엄청 고파 양 많은 걸로|폭풍 흡입할 든든한 한끼|배터지게 먹고 싶어|운동 끝나서 완전 배고파",
       "hearty", kind="situation"),
    _n("출출한데 간식|가벼운 간식거리|배 안 부르게 조금만 먹을 거|야자 전에 간식", "light", serve="food",
       kind="situation"),
    _n("더운 날 먹을 시원한 밥|여름이라 시원한 한끼|땀나는 날 시원하게", "cold", kind="situation"),
    _n("추운 날 몸 녹일 거|겨울에 따뜻하게 먹을 한끼|손 꽁꽁 얼었어 따뜻한 거", "warm", kind="situation"),
    _n("다이어트 중이라 가벼운 거|살 안 찌는 가벼운 음식|칼로리 낮은 가벼운 메뉴", "light", avoid="fried",
       kind="situation"),
    _n("생일 파티에 다 같이 먹을 거|반 친구들이랑 파티 음식|동아리 회식 메뉴", "share", kind="situation"),
    _n("공부하면서 마실 달달한 거|독서실에서 마실 단 음료", "sweet", serve="drink", kind="situation"),
    _n("영화 보면서 먹을 바삭한 간식|게임하면서 집어먹을 튀긴 거", "fried light", serve="food", kind="situation"),
    _n("해장하고 싶어 국물로|어제 늦게 자서 속 풀리는 국물", "soup warm", kind="situation"),
    # --- budget: the NLU passes max_price -------------------------------------------------------
    _n("5천원으로 간단히 한끼|오천원밖에 없는데 가볍게|5000원 이하 가벼운 식사", "light", kind="budget",
       budget=5000),
    _n("3천원 이하 간식|삼천원으로 먹을 간식|3000원 안쪽 주전부리", "", serve="food", kind="budget", budget=3000),
    _n("만원 안으로 든든하게|1만원 이하 배부른 거|10000원으로 양 많은 거", "hearty", kind="budget", budget=10000),
    _n("6천원 이하 국물 있는 거|6000원 안에서 따뜻한 국물", "soup", kind="budget", budget=6000),
    _n("4천원 이하 밥|4000원으로 먹을 밥 종류", "rice", kind="budget", budget=4000),
    _n("2천원으로 시원한 음료|2000원 이하 차가운 음료수", "cold", serve="drink", kind="budget", budget=2000),
    # --- typo: a named dish, spelled as typed, in no lexicon ------------------------------------
    _n("떡뽀끼 먹고싶어|떡뽁기 파는데", "", serve="food", kind="typo", dishes="떡볶이"),
    _n("낌밥 한줄|김밮 먹을래", "", serve="food", kind="typo", dishes="김밥"),
    _n("짜장멘 먹자|짜쟝면", "", serve="food", kind="typo", dishes="짜장면"),
    _n("짬뽄 땡긴다|짭뽕", "", serve="food", kind="typo", dishes="짬뽕"),
    _n("탕수유 시킬까|탕수욱", "", serve="food", kind="typo", dishes="탕수육"),
    _n("돈카스 먹고싶다|돈가쓰", "", serve="food", kind="typo", dishes="돈까스"),
    _n("후라이드 치낀|치킹 시켜줘", "", serve="food", kind="typo", dishes="치킨"),
    _n("핏짜 한판|핏자 먹을래", "", serve="food", kind="typo", dishes="피자"),
    _n("햄버가 먹을래|햄벅 세트", "", serve="food", kind="typo", dishes="버거"),
    _n("파스따 먹고 싶어|스파게리", "", serve="food", kind="typo", dishes="파스타"),
    _n("쌀국쑤 한그릇|살국수", "", serve="food", kind="typo", dishes="쌀국수"),
    _n("삼겹쌀 구워먹자|삼결살", "", serve="food", kind="typo", dishes="삼겹살"),
    _n("닭갈베 먹자|닥갈비", "", serve="food", kind="typo", dishes="닭갈비"),
    _n("냉멘 먹고싶다|넹면", "", serve="food", kind="typo", dishes="냉면"),
    _n("비빔빱 먹을래|비빈밥", "", serve="food", kind="typo", dishes="비빔밥"),
    _n("국빱 한그릇|굮밥", "", serve="food", kind="typo", dishes="국밥"),
    _n("카래 먹고싶어|커리라이스", "", serve="food", kind="typo", dishes="카레 커리"),
    _n("오무라이쓰|오므라이쑤 파는 곳", "", serve="food", kind="typo", dishes="오므라이스"),
    _n("마카룽 먹을래|마까롱", "", serve="food", kind="typo", dishes="마카롱"),
    _n("빙쑤 먹자|팥빙쑤", "", serve="food", kind="typo", dishes="빙수"),
    _n("케이끄 먹고싶다|케잌크", "", serve="food", kind="typo", dishes="케이크"),
    _n("아메리까노 한잔|아이스아메 한잔", "", serve="drink", kind="typo", dishes="커피"),
    _n("샌드위찌|샌드이치 먹을래", "", serve="food", kind="typo", dishes="샌드위치"),
    _n("토스뜨 먹고싶어|토슷트", "", serve="food", kind="typo", dishes="토스트"),
    _n("핫또그|핫도구 먹을래", "", serve="food", kind="typo", dishes="핫도그"),
    _n("초빱 먹고싶다|스씨", "", serve="food", kind="typo", dishes="초밥"),
    _n("만뚜 먹을래|만두우", "", serve="food", kind="typo", dishes="만두"),
    _n("우동 한그릇 ㄱ|우똥", "", serve="food", kind="typo", dishes="우동"),
)


def build_blind_queries() -> list[NeedQuery]:
    """Every (need, text) pair of the blind set; filters as an NLU stand-in would pass them."""
    return build_need_queries(NEEDS)
