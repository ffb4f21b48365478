"""Intent cues and the contract's tie-break.

``intent_cues(text, extraction)`` names every intent a surface cue supports (strong cues only:
words that decide the intent whatever the rest says). ``resolve`` applies the contract's
precedence: the first intent of ``INTENT_ORDER`` among the candidates wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from models.nlu.entities import Extraction
from models.nlu.labels import GROUP_MIN_PEOPLE, INTENT_ORDER, Intent, Slot

COUPON_RE = re.compile(
    r"쿠폰|쿠퐁|할인|이벤트|혜택|적립|포인트|프로모션|세일|반값|원\s?플\s?원|1\s?\+\s?1|특가|사은품|"
    r"서비스\s?(?:주|줘|있|되)|coupon|discount|promo|sale(?![a-z])|도장\s?(?:찍|모으|모았|몇|다\s?모)|스탬프|깎아|싸게\s?해\s?주"
)
GROUP_RE = re.compile(
    r"단체|회식|모임|반\s?전체|반\s?애들|우리\s?반|반\s?친구들|동아리|학급|전교|팀원들|엠티|(?<![a-z])mt(?![a-z])|뒤풀이|"
    r"워크숍|반\s?모임|여러\s?명|여럿이|많은\s?인원|인원이\s?많|대가족|친척들|단톡|group"
)
MONEY_CONSTRAINT_RE = re.compile(
    r"돈이?\s?(?:없|별로|부족|모자|얼마\s?없|얼마\s?안|없는|많이\s?없|다\s?떨어|다\s?썼|거의\s?없|밖에)|돈\s?없|얼마\s?안\s?남|싸게|싼|저렴|가성비|"
    r"지갑|텅\s?비|값싼|싸고|안\s?비싼|비싸지\s?않|비싼\s?(?:건|거)\s?(?:싫|말고|부담|안)|(?<![가-힣])싼\s?(?:거|데|곳|집|메뉴)|용돈|잔액|잔고|남은\s?돈|예산|절약|"
    r"아껴|아끼|가격\s?(?:대|싼|착한|저렴)|착한\s?가격|얼마\s?(?:이하|안쪽|정도로|까지|로\s?먹)|얼마짜리|"
    r"카드\s?(?:한도|잔액)|한도|거지|텅장|cheap|budget|price|가격이|가격|저가|최저가|만원\s?이하|\d+\s?원\s?(?:이하|이내|미만|안쪽)"
)
EMERGENCY_RE = re.compile(
    r"당장|급해|급하|급히|급함|빨리|빨랑|얼른|서둘러|빠르게|빠른\s?시간|바로\s?먹|지금\s?바로|바로\s?나오|금방\s?나오|"
    r"빨리\s?나오|너무\s?배고|배고파\s?(?:죽|미치|쓰러)|배고파서\s?(?:죽|미치|쓰러)|죽겠|미치겠|쓰러질|쓰러지겠|"
    r"허기져|시간\s?없|시간이\s?없|촉박|\d+\s?분\s?(?:안에|만에|내로|내에)|urgent|asap|ㅈㄱ\s?배고"
)
TIME_RE = re.compile(
    r"영업\s?시간|영업\s?(?:해|하|중|안\s?해|끝)|운영\s?시간|몇\s?시|언제\s?(?:까지|열|닫|문|오픈|해|부터|쉬)|열어|열었|열려|열린|"
    r"여는|(?<![가-힣])열\s?(?:어|었|려|린|는|까)|문\s?(?:열|닫|연|연\s?곳)|닫았|닫는|닫혀|닫아|닫을|오픈|마감|브레이크\s?타임|"
    r"브레이크|쉬는\s?시간|라스트\s?오더|24\s?시|휴무|쉬는\s?날|정기\s?휴일|쉬어|쉬나|쉬는지|"
    r"(?:지금|늦게까지|밤에|새벽에|아침에|일찍|주말에|일요일에|공휴일에)\s?(?:도\s?)?(?:하는|하나|해|영업)|open|hours|"
    r"몇\s?시(?:부터|까지)|늦게까지|일찍\s?(?:여|열|하)|"
    r"(?:오늘|내일|주말|평일|[월화수목금토일]요일|설날|추석|명절|공휴일|연휴|점심|저녁|아침|야식|밤|새벽|크리스마스)\s?(?:에|에도|도|까지|엔)?\s?"
    r"(?:하는\s?(?:곳|데|가게|집|식당)|해요|해\?|하나요|하나\?|영업|열어|여나|여는|문\s?열|쉬어|쉬나|쉬는)|까지\s?(?:하는|여는|영업)|늦게\s?(?:하는|여는|영업|까지)"
)
LOCATION_RE = re.compile(
    r"어디|(?<!드)위치|가는\s?길|찾아가|길\s?(?:알려|좀)|지도|몇\s?분\s?거리|주소|어느\s?쪽|어떻게\s?가|where"
)
MENU_OPTION_RE = re.compile(
    r"빼고|빼\s?줘|빼\s?주|빼줄|빼서|뺀|말고|제외|없는\s?(?:메뉴|거|걸|걸로|음식|것)|없이|덜\s?맵|덜\s?짜|덜\s?달|안\s?맵게|"
    r"(?<!아무것도\s)(?<!아무것도)(?<!아무\s것도\s)못\s?먹(?!겠)|"
    r"곱빼기|곱배기|사이즈|양\s?조절|양\s?(?:줄|늘|추가)|추가\s?(?:돼|되|할|해|가능)|토핑|변경|바꿔|바꿀|바꾸|옵션|"
    r"양\s?(?:적은|많은|작은|큰|적게|많게)\s?(?:걸로|거로|것으로|버전)|"  # "양 적은 걸로": choosing a portion option
    r"맵기|부먹|찍먹|양\s?많이\s?(?:줄\s?수|주세요|줘|주실|주시)|양\s?(?:적게|많이)\s?(?:해|줘|주세요|주실)|소스\s?(?:따로|빼|추가|많이)|따로\s?(?:주|줘|담)|반반|반\s?마리|순살로|뼈\s?없|사리\s?추가|알레르기|알러지|"
    r"채식|비건|할랄|메뉴만|만\s?보여|option"
)
FOOD_REQUEST_RE = re.compile(
    r"먹고\s?싶|먹을래|먹을까|먹자|먹으러|먹을\s?만한|뭐\s?먹|먹고파|먹구\s?싶|먹을\s?거|먹을\s?데|먹을\s?곳|먹어야|"
    r"맛집|메뉴\s?추천|음식\s?추천|밥\s?추천|식당|배달\s?(?:시켜|해|음식)|시켜\s?먹|점메추|저메추|야식\s?추천|"
    r"메뉴\s?(?:골라|정해|추천)|간식\s?추천|먹을\s?(?:메뉴|만한|거|것|게|야식|간식)|야식|맛있는\s?(?:거|것|걸|데|곳|집|음식)"
)
GREETING_RE = re.compile(
    r"^(?:안녕|하이|ㅎㅇ|헬로|hello|hi|hey|반가|고마|감사|ㄱㅅ|잘\s?자|굿밤|바이|ㅂㅂ|ㅂㅇ|수고)"
)


def intent_cues(text: str, ex: Extraction) -> set[Intent]:
    """Intents that a strong surface cue in ``text`` supports."""
    e = ex.entities
    cues: set[Intent] = set()
    if COUPON_RE.search(text):
        cues.add(Intent.COUPON_INQUIRY)
    if (ex.people is not None and ex.people >= GROUP_MIN_PEOPLE) or GROUP_RE.search(text):
        cues.add(Intent.GROUP_DINING)
    if Slot.BUDGET.value in e or MONEY_CONSTRAINT_RE.search(text):
        cues.add(Intent.BUDGET_INQUIRY)
    if EMERGENCY_RE.search(text) and e.get(Slot.URGENCY.value) == "high":
        cues.add(Intent.EMERGENCY_FOOD)
    if TIME_RE.search(text):
        cues.add(Intent.TIME_INQUIRY)
    if Slot.LOCATION_PREFERENCE.value in e or LOCATION_RE.search(text):
        cues.add(Intent.LOCATION_INQUIRY)
    if Slot.DIETARY_RESTRICTIONS.value in e or ex.exclusion or MENU_OPTION_RE.search(text):
        cues.add(Intent.MENU_OPTION)
    if (Slot.FOOD_TYPE.value in e or Slot.TASTE_PREFERENCE.value in e or Slot.PORTION_SIZE.value in e
            or FOOD_REQUEST_RE.search(text)):
        cues.add(Intent.FOOD_REQUEST)
    return cues


def resolve(candidates: Iterable[Intent]) -> Intent:
    """The contract's tie-break: the first intent in ``INTENT_ORDER`` among the candidates."""
    candidates = set(candidates)
    for intent in INTENT_ORDER:
        if intent in candidates:
            return intent
    return Intent.GENERAL_CHAT


def rule_intent(text: str, ex: Extraction) -> Intent:
    """Intent from rules alone (the fallback when no classifier is loaded)."""
    return resolve(intent_cues(text, ex))
