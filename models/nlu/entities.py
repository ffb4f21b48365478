"""Entity extraction to the label contract: precise rules and lexicons over normalized text.

``extract_entities("강남역 근처 매운 떡볶이 5천원 이하")`` →
``{"location_preference": "강남역", "taste_preference": "spicy", "food_type": "분식", "budget": 5000}``.

Each slot has one extractor; the frame lists only the slots the utterance states. Exclusions are
read first ("돼지고기 빼고", "매운 거 못 먹어"), so an excluded dish or taste never becomes a
positive food_type / taste_preference.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from models.nlu.amounts import budget_from_text, people_count
from models.nlu.labels import GROUP_MIN_PEOPLE, NEARBY, Slot
from models.nlu.lexicon import food_matches

# --- exclusions → dietary_restrictions --------------------------------------------------

_EXCL_TAIL = (
    r"(?:은|는|이|가|을|를|도|류|만|\s?들어간\s?(?:거|것|건|걸|음식|메뉴)?(?:은|는)?|\s?(?:거|것|건|음식|메뉴|요리|종류)(?:은|는|이|가|을|를|도)?)?"
    r"\s?(?:잘\s?)?(?:빼고|빼\s?줘|빼\s?주|빼줄|빼서|빼면|뺀|빼|말고|제외|없는|없이|없었으면|안\s?들어간|안\s?들어가는|안\s?들어|못\s?먹|안\s?먹|먹으면\s?안|"
    r"알레르기|알러지|알르레기|싫어|싫은|별로|피해|x\b|no\b|안\s?돼|금지|노노|ㄴㄴ)"
)
# the ingredient words of the exclusion-based restrictions (a coordinated list shares one exclusion:
# "돼지고기랑 새우 빼고" → no_pork + no_seafood)
_DIETARY_TERMS: dict[str, str] = {
    "vegetarian": r"(?<![가-힣])(?:고기|육류)",
    "no_pork": r"(?:돼지\s?고기|돼지|돈육|pork)",
    "no_beef": r"(?:소\s?고기|쇠\s?고기|한우|beef)",
    "no_seafood": r"(?:해산물|해물|새우|생선|조개|굴|게|갑각류|오징어|문어|낙지|seafood|shrimp)",
    "no_spicy": r"(?:매운|매콤한|매운맛|맵|spicy)",
    "no_nuts": r"(?:땅콩|견과류|견과|호두|아몬드|nuts?|peanuts?)",
    "no_dairy": r"(?:우유|유제품|치즈|버터|생크림|유당|락토|milk|dairy)",
}
_COORD = r"\s?(?:이랑|랑|하고|와|과|이나|나|및|,|/)\s?"
_DIETARY_TERM_RES = {v: re.compile(t + _COORD) for v, t in _DIETARY_TERMS.items()}

_DIETARY_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("vegan", re.compile(r"비건|vegan|완전\s?채식|동물성\s?(?:재료|음식)?\s?(?:없는|빼고|안)")),
    ("vegetarian", re.compile(
        r"(?<!완전\s)(?<!완전)채식|베지테리언|베지|vegetarian|"
        rf"(?<![가-힣])(?:고기|육류)(?:가|는|도|를|류)?{_EXCL_TAIL}")),
    ("halal", re.compile(r"할랄|halal|무슬림|이슬람")),
    ("no_pork", re.compile(rf"(?:돼지\s?고기|돼지|돈육|pork){_EXCL_TAIL}")),
    ("no_beef", re.compile(rf"(?:소\s?고기|쇠\s?고기|한우|beef){_EXCL_TAIL}")),
    ("no_seafood", re.compile(
        rf"(?:해산물|해물|새우|생선|조개|굴|게|갑각류|오징어|문어|낙지|seafood|shrimp){_EXCL_TAIL}")),
    ("no_spicy", re.compile(rf"(?:매운|매콤한|매운맛|매워|맵|spicy)\s?(?:맛|거|것|건|음식|요리)?{_EXCL_TAIL}")),
    ("no_nuts", re.compile(rf"(?:땅콩|견과류|견과|호두|아몬드|nuts?|peanuts?){_EXCL_TAIL}")),
    ("no_dairy", re.compile(rf"(?:우유|유제품|치즈|버터|생크림|유당|락토|milk|dairy){_EXCL_TAIL}")),
]
# a dish / word followed by an exclusion is excluded, not requested ("치킨 말고 피자")
_GENERIC_EXCL_RE = re.compile(_EXCL_TAIL)

# --- taste -----------------------------------------------------------------------------
_TASTE_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("mild", re.compile(
        r"순한|순하게|순한맛|맵찔이|안\s?매운|안\s?맵|맵지\s?않|맵지\s?않은|덜\s?매운|덜\s?맵|자극적이지\s?않|안\s?자극적|"
        r"자극\s?없는|mild|not\s?spicy")),
    ("spicy", re.compile(r"매운|매콤|얼큰|맵게|매운맛|칼칼|화끈|얼얼|맵다|매워|맵고|spicy|불닭|엽떡")),
    ("salty", re.compile(r"짭짤|짭조름|짭쪼름|짜게|(?<![가-힣])짠\s?(?:거|것|맛|음식|게|걸)|salty")),
    ("sweet", re.compile(
        r"달달|달콤|달게|단맛|달다구리|(?<![가-힣])단\s?(?:거|것|음식|게|걸|디저트|간식)|sweet")),
    ("light", re.compile(r"담백|깔끔|슴슴|삼삼한|심심한\s?맛|가벼운\s?맛|자극적이지\s?않은\s?담백")),
]

# --- time --------------------------------------------------------------------------------
_TIME_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("now", re.compile(r"지금|당장|(?<![가-힣])바로(?!\s?(?:앞|옆|뒤|근처|건너))|곧바로|현재|right\s?now")),
    ("breakfast", re.compile(r"(?<!좋은\s)(?<!좋은)아침|조식|(?<!굿\s)(?<!굿)모닝|breakfast|아점")),
    ("lunch", re.compile(r"점심|런치|점메추|lunch|낮에|낮밥")),
    ("dinner", re.compile(r"저녁|디너|저메추|dinner|석식")),
    ("late_night", re.compile(
        r"야식|밤늦게|밤\s?늦게|늦은\s?밤|새벽|심야|야밤|한밤중|(?<![가-힣])밤(?:에|에도|\s?\d+시|\s?열|\s?늦|중)|자기\s?전|late\s?night|midnight")),
]

# --- companions --------------------------------------------------------------------------
_GROUP_RE = re.compile(
    r"단체|회식|모임|반\s?전체|반\s?애들|우리\s?반|반\s?친구들|동아리|학급|전교|팀원들|엠티|(?<![a-z])mt(?![a-z])|뒤풀이|"
    r"워크숍|반\s?모임|대가족|친척들|여러\s?명|여럿이|많은\s?인원|인원이\s?많|group"
)
_FAMILY_RE = re.compile(
    r"엄마|아빠|어머니|아버지|부모님|남동생|여동생|동생|가족|식구|할머니|할아버지|누나|언니|오빠|삼촌|고모|사촌|"
    r"(?<![가-힣])형(?=$|[^가-힣]|이랑|하고|과|이|도|네|님|한테)|이모(?!티|지)|family|mom|dad"
)
_FRIENDS_RE = re.compile(r"친구|베프|절친|동기|짝꿍|여친|남친|애인|남자\s?친구|여자\s?친구|friends?|(?<![가-힣])애들(?:이랑|하고|과)")
_ALONE_RE = re.compile(r"혼자|혼밥|홀로|1인(?!분)|나\s?혼자|혼술|alone|혼자서")

# --- urgency -----------------------------------------------------------------------------
_URGENCY_LOW_RE = re.compile(
    r"천천히|나중에(?!\s?(?:봐|보자|올게|또|다시|연락|얘기|말해|물어))|여유롭게|여유\s?있게|여유있게|느긋하게|급하지\s?않|안\s?급|급한\s?거\s?아니|시간\s?많|시간\s?여유|no\s?rush")
_URGENCY_HIGH_RE = re.compile(
    r"당장|급해|급하|급히|급함|빨리|빨랑|얼른|서둘러|빠르게|빠른\s?시간|바로\s?먹|지금\s?바로|(?:바로|금방)\s?(?:나오|되는|먹)|"
    r"배고파|배고프|배고픈|배고팡|배고퐈|배가\s?고파|배가\s?고프|배고팟|배고프다|허기|굶었|굶어서|쓰러지|시간\s?없|시간이\s?없|"
    r"촉박|urgent|asap|hungry|배곱|배고푸|\d+\s?분\s?(?:안에|만에|내로|내에|안으로)"
)
# "걸어서 5분 안에" is a distance, not a hurry
DISTANCE_MINUTES_RE = re.compile(r"(?:걸어서|도보로?|차로|버스로|자전거로)\s?\d+\s?분|\d+\s?분\s?(?:거리|걸리는)")
_MINUTES_RE = re.compile(r"\d+\s?분\s?(?:안에|만에|내로|내에|안으로)")


def urgency_high(text: str) -> bool:
    m = _URGENCY_HIGH_RE.search(text)
    if m is None:
        return False
    if _MINUTES_RE.fullmatch(m.group(0)) and DISTANCE_MINUTES_RE.search(text):
        return _URGENCY_HIGH_RE.search(_MINUTES_RE.sub(" ", text)) is not None
    return True

# --- portion -----------------------------------------------------------------------------
_PORTION_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("large", re.compile(
        r"곱빼기|곱배기|양\s?많|양이\s?많|배\s?터지게|배\s?터질|든든|푸짐|넉넉|대자|라지|특대|배부르게|양껏|왕창|"
        r"대\s?사이즈|큰\s?사이즈|사이즈\s?업|양\s?넉넉|large")),
    ("small", re.compile(
        r"조금만|조금\s?먹|양\s?적|양이\s?적|적게|간단히|간단하게|간단한|가볍게|가벼운(?!\s?맛)|소량|작은\s?사이즈|미니|"
        r"소자|한입|작은\s?(?:걸로|거|것|사이즈)|사이즈\s?작|작게|스몰|small|light\s?meal")),
]

# --- location ----------------------------------------------------------------------------
_NEARBY_RE = re.compile(
    r"근처|주변|가까운|가까이|가깝|여기서|이\s?근방|근방|인근|걸어서|걸어갈|도보|\d+\s?분\s?(?:거리|안에\s?갈)|코앞|nearby|near\s?me|"
    r"동네|내\s?위치|현\s?위치"
)
_FAMOUS_PLACES = (
    "강남", "홍대", "신촌", "이대", "건대", "잠실", "명동", "이태원", "종로", "성수", "합정", "연남", "망원",
    "압구정", "가로수길", "여의도", "영등포", "구로", "노원", "수유", "혜화", "대학로", "왕십리", "을지로",
    "광화문", "서울대입구", "신림", "사당", "판교", "분당", "일산", "수원", "인천", "부산", "서면",
    "해운대", "대구", "동성로", "광주", "대전", "목동", "강서", "마곡", "천호", "문정", "상암", "동대문",
    "남대문", "코엑스", "선릉", "역삼", "교대", "서초", "양재", "용산", "한남", "성신여대", "숙대", "외대",
    "고대", "연대", "경희대", "중앙대", "노량진", "신도림", "부평", "송도", "청주", "전주", "제주",
    "익선동", "성수동", "연남동", "망리단길", "경리단길", "서울역", "용산역", "강남역", "홍대입구",
    "동탄", "평촌", "범계", "산본", "의정부", "김포", "하남", "미사", "위례", "광교", "영통", "안양", "부천",
)
_LANDMARKS = (
    "학교", "집", "학원", "회사", "도서관", "공원", "병원", "교회", "성당", "편의점", "정문", "후문", "시청",
    "구청", "터미널", r"버스\s?정류장", "정류장", "아파트", "체육관", "독서실", r"스터디\s?카페", "피시방",
    "pc방", "놀이터", "마트", "시장", "영화관", "백화점", "기숙사", "교문", "운동장", "지하철역", "역",
    r"우리\s?학교", r"우리\s?집", r"학교\s?정문", r"학교\s?후문",
)
_NEAR_SUFFIX = r"(?:근처|주변|부근|인근|근방|쪽|일대)"
_FRONT_SUFFIX = r"(?:앞|뒤|옆|건너편|맞은편)"
_PARTICLE = r"(?:에서|에|의|으로|로|까지|은|는|이|가)?"
_LANDMARK_RE = re.compile(
    rf"(?:(?<![가-힣])|(?<=랑|고|서|와|과|는|은))(?P<place>{'|'.join(_LANDMARKS)})\s?(?:(?P<front>{_FRONT_SUFFIX})|(?P<near>{_NEAR_SUFFIX}))"
)
_STATION_RE = re.compile(
    rf"(?<![가-힣])(?P<place>[가-힣a-z0-9]{{1,7}}역)\s?(?:(?P<front>{_FRONT_SUFFIX})|(?=$|[^가-힣]|{_NEAR_SUFFIX}|에|에서|으로|까지|이|쪽))"
)
# words glued before a place when spacing is dropped: "엄마랑합정역", "친구랑강남"
_GLUED_PREFIX_RE = re.compile(r"^.*(?:이랑|랑|하고|에서|이나|혼자|같이|와|과|도|은|는|의)(?=[가-힣]{2,}역)")
_STATION_STOP = {"지역", "구역", "영역", "전역", "무역", "통역", "번역", "기역", "역역", "이역", "지하철역", "역"}
_AREA_RE = re.compile(
    rf"(?:(?<![가-힣])|(?<=랑|고|서|와|과|도|는|은|의))(?P<place>{'|'.join(sorted(_FAMOUS_PLACES, key=len, reverse=True))})"
    rf"(?P<station>역|입구역|입구)?\s?(?:(?P<front>{_FRONT_SUFFIX})|(?=$|[^가-힣]|{_NEAR_SUFFIX}|에|에서|으로|까지|쪽|맛집|가는|이나|이랑|사거리)|(?<=[가-힣]{{3}}))"
)
_DONG_RE = re.compile(
    rf"(?<![가-힣])(?P<place>[가-힣]{{2,5}}(?:동|구|읍|면))\s?(?={_NEAR_SUFFIX}|{_FRONT_SUFFIX}|에서|에\s?있|쪽|맛집)"
)
_FRONT_OUT = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _district_names() -> frozenset[str]:
    """Korean 동/구/읍/면 names (from the dongnae-kr data package), 3+ characters to avoid words."""
    try:
        import dongnae_kr  # noqa: PLC0415

        path = Path(dongnae_kr.__file__).parent / "data"
        names: set[str] = set()
        for csv_path in path.glob("*.csv"):
            with csv_path.open(encoding="utf-8-sig") as fh:
                for row in csv.DictReader(fh):
                    for part in row.get("dnname", "").split()[1:]:
                        if len(part) >= 3 and part[-1] in "동구읍면":
                            names.add(part)
        return frozenset(names)
    except Exception:  # noqa: BLE001 - the gazetteer is an optional boost
        return frozenset()


def _location(text: str) -> tuple[str | None, tuple[int, int] | None]:
    m = _LANDMARK_RE.search(text)
    if m:
        place = _FRONT_OUT.sub(" ", m.group("place")).replace("우리 ", "").replace("우리", "")
        place = place.replace("학교 정문", "학교 정문")
        value = f"{place} {m.group('front')}" if m.group("front") else place
        return value.strip(), m.span()
    m = _AREA_RE.search(text)
    if m:
        value = m.group("place") + (m.group("station") or "")
        if m.group("front"):
            value += " " + m.group("front")
        return value, m.span()
    for m in _STATION_RE.finditer(text):
        place = _GLUED_PREFIX_RE.sub("", m.group("place"))
        if place not in _STATION_STOP and len(place) >= 2:
            if m.group("front"):
                place += " " + m.group("front")
            return place, m.span()
    m = _DONG_RE.search(text)
    if m and m.group("place") in _district_names():
        return m.group("place"), m.span()
    m = _NEARBY_RE.search(text)
    if m:
        return NEARBY, m.span()
    return None, None


# --- the frame ---------------------------------------------------------------------------


@dataclass
class Extraction:
    """The entity frame and the evidence the intent rules reuse."""

    entities: dict
    people: int | None = None
    exclusion: bool = False            # something is excluded ("빼고", "말고", "못 먹어")
    food_spans: list[tuple[int, int]] = field(default_factory=list)


def _first(rules: list[tuple[str, re.Pattern[str]]], text: str, blocked: list[tuple[int, int]]) -> str | None:
    best: tuple[int, str] | None = None
    for value, pattern in rules:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in blocked):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), value)
            break
    return best[1] if best else None


def extract(text: str) -> Extraction:
    """Extract the contract's slots from normalized text."""
    entities: dict = {}
    blocked: list[tuple[int, int]] = []  # spans already read as exclusions

    dietary: list[str] = []
    for value, pattern in _DIETARY_RULES:
        for m in pattern.finditer(text):
            if value == "vegetarian" and "vegan" in dietary and "채식" in m.group(0):
                continue
            if any(m.start() >= s and m.end() <= e for s, e in blocked):
                continue
            if value not in dietary:
                dietary.append(value)
            blocked.append(m.span())
    # coordination: a term joined by 랑/하고/와/, to an excluded term is excluded too
    changed = True
    while changed and blocked:
        changed = False
        for value, term_re in _DIETARY_TERM_RES.items():
            for m in term_re.finditer(text):
                if any(s <= m.end() < e for s, e in blocked) and not any(s <= m.start() < e for s, e in blocked):
                    if value not in dietary:
                        dietary.append(value)
                    blocked.append((m.start(), m.end()))
                    changed = True
    # a specific meat excluded is not "no meat at all": 돼지고기 빼고 → no_pork only
    if "vegetarian" in dietary and ({"no_pork", "no_beef"} & set(dietary)) and not re.search(r"채식|베지|vegetarian", text):
        dietary.remove("vegetarian")
    if dietary:
        entities[Slot.DIETARY_RESTRICTIONS.value] = dietary

    exclusion = bool(dietary)
    food: str | None = None
    food_spans: list[tuple[int, int]] = []
    for start, end, category in food_matches(text):
        if any(start < e and s < end for s, e in blocked):
            continue
        tail = _GENERIC_EXCL_RE.match(text, end)
        if tail and tail.group(0).strip() and re.search(r"빼|말고|제외|없|싫|못|알레르기|알러지|별로|피해", tail.group(0)):
            exclusion = True
            continue
        food_spans.append((start, end))
        if food is None:
            food = category
    if food:
        entities[Slot.FOOD_TYPE.value] = food

    budget = budget_from_text(text)
    if budget is not None:
        entities[Slot.BUDGET.value] = budget

    place, _span = _location(text)
    if place:
        entities[Slot.LOCATION_PREFERENCE.value] = place

    time_pref = _first(_TIME_RULES, text, [])
    if time_pref:
        entities[Slot.TIME_PREFERENCE.value] = time_pref

    taste = _first(_TASTE_RULES, text, blocked)
    if taste == "spicy" and "no_spicy" in dietary:
        taste = None
    if taste:
        entities[Slot.TASTE_PREFERENCE.value] = taste

    people = people_count(text)
    companions = None
    if (people is not None and people >= GROUP_MIN_PEOPLE) or _GROUP_RE.search(text):
        companions = "group"
    else:
        hits = []
        for value, pattern in (("alone", _ALONE_RE), ("family", _FAMILY_RE), ("friends", _FRIENDS_RE)):
            m = pattern.search(text)
            if m:
                hits.append((m.start(), value))
        if hits:
            companions = min(hits)[1]
    if companions:
        entities[Slot.COMPANIONS.value] = companions

    if _URGENCY_LOW_RE.search(text):
        entities[Slot.URGENCY.value] = "low"
    elif urgency_high(text):
        entities[Slot.URGENCY.value] = "high"

    portion = _first(_PORTION_RULES, text, [])
    if portion:
        entities[Slot.PORTION_SIZE.value] = portion

    return Extraction(entities=entities, people=people, exclusion=exclusion, food_spans=food_spans)


def extract_entities(text: str) -> dict:
    """Just the frame (slots in contract order)."""
    frame = extract(text).entities
    order = {s.value: i for i, s in enumerate(Slot)}
    return dict(sorted(frame.items(), key=lambda kv: order[kv[0]]))
