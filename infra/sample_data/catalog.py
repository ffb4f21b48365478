"""Korean food vocabulary: what each of the 13 categories sells, at what price, and how.

Everything here is plain data plus two tiny text helpers. Prices are list prices in won for
a typical neighbourhood shop in 2026; each shop then applies its own price level. A dish is
spicy exactly when its name or description carries a spice cue word (see ``SPICY_CUES``):
the retrieval side can learn "매콤한" from text, and the hidden truth agrees with the text.
Shop names are invented (stems × category cores); no real chain is imitated on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.vocabulary import DESSERT, DRINK
from infra.vocabulary import MAIN_MENU as MAIN
from infra.vocabulary import SET_MENU as SET
from infra.vocabulary import SIDE_MENU as SIDE

SPICY_CUES: tuple[str, ...] = ("매콤", "매운", "얼큰", "칼칼", "화끈", "불닭", "마라")


def looks_spicy(text: str) -> bool:
    """Whether a menu text advertises heat; the generator keeps truth and text in sync."""
    return any(cue in text for cue in SPICY_CUES)


def has_batchim(word: str) -> bool:
    """Whether the last Hangul syllable has a final consonant (picks 은/는, 과/와, 을/를)."""
    for ch in reversed(word):
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            return code % 28 != 0
        if ch.isdigit():
            return ch in "013678"
    return False


def josa(word: str, with_batchim: str, without: str) -> str:
    """``word`` followed by the right particle, e.g. ``josa('김밥', '과', '와') == '김밥과'``."""
    return word + (with_batchim if has_batchim(word) else without)


@dataclass(frozen=True, slots=True)
class Dish:
    """One menu item template. ``dish_type`` groups variants ('치즈떡볶이' → '떡볶이')."""

    name: str
    dish_type: str
    role: str  # one of the menu categories
    low: int
    high: int
    desc: str

    @property
    def spicy(self) -> bool:
        return looks_spicy(self.name + " " + self.desc)

    @property
    def attributes(self) -> tuple[str, ...]:
        return dish_attributes(self.name)


@dataclass(frozen=True, slots=True)
class Hours:
    """How shops of a category keep hours: choices are drawn uniformly from each tuple.

    ``close`` values below ``open`` mean past midnight. ``break_share`` is the share of shops
    that close for a break (``break_start``–``break_end``); ``allday_share`` the share open
    around the clock.
    """

    open: tuple[str, ...]
    close: tuple[str, ...]
    break_share: float = 0.0
    break_start: tuple[str, ...] = ("15:00",)
    break_end: tuple[str, ...] = ("17:00",)
    allday_share: float = 0.0


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """A shop category: naming vocabulary, dishes, hours, and how many shops it has."""

    name: str
    share: float  # share of shops in a neighbourhood
    stems: tuple[str, ...]
    cores: tuple[str, ...]
    dishes: tuple[Dish, ...]
    hours: Hours
    pitch: tuple[str, ...]  # owner-message lines specific to the category
    mains: tuple[int, int] = (4, 8)  # how many mains a shop lists (inclusive range)
    generic_drinks: bool = True  # whether the soda fridge (``COMMON_DRINKS``) is on the menu


def _d(name: str, dish_type: str, role: str, low: int, high: int, desc: str) -> Dish:
    return Dish(name, dish_type, role, low, high, desc)


COMMON_DRINKS: tuple[Dish, ...] = (
    _d("콜라", "탄산음료", DRINK, 1500, 2500, "시원한 콜라 캔"),
    _d("사이다", "탄산음료", DRINK, 1500, 2500, "톡 쏘는 사이다 캔"),
    _d("제로콜라", "탄산음료", DRINK, 1500, 2500, "설탕 없는 제로 콜라"),
    _d("오렌지주스", "주스", DRINK, 2000, 3000, "새콤달콤한 오렌지주스"),
    _d("생수", "생수", DRINK, 1000, 1000, "500ml 생수"),
)

_SHARED_STEMS: tuple[str, ...] = (
    "엄마손", "할매", "시골", "옛날", "우리", "고향", "행복한", "정성", "소문난", "원조",
    "맛나", "든든", "오늘", "바른", "진짜", "소담", "다온", "토담", "청춘", "동네", "골목",
    "봄날", "정든", "푸른", "온새미", "해오름", "달빛", "꼬마", "이모네", "삼촌네",
)

CATALOG: dict[str, CategorySpec] = {
    "한식": CategorySpec(
        "한식", 0.16, _SHARED_STEMS, ("밥상", "식당", "집밥", "백반", "국밥", "한식", "찌개"),
        (
            _d("김치찌개", "찌개", MAIN, 7500, 9000, "푹 익은 묵은지와 돼지고기를 넣고 얼큰하게 끓인 찌개"),
            _d("된장찌개", "찌개", MAIN, 7000, 8500, "구수한 집된장에 두부와 애호박을 듬뿍 넣은 찌개"),
            _d("순두부찌개", "찌개", MAIN, 7500, 9000, "보들보들한 순두부를 매콤한 양념에 끓여 낸 찌개"),
            _d("제육볶음 정식", "제육볶음", MAIN, 8000, 10000, "매콤달콤한 고추장 양념에 볶은 돼지고기와 밥, 반찬"),
            _d("불고기 정식", "불고기", MAIN, 9000, 11000, "달콤 짭짤한 간장 양념 소불고기에 밥과 반찬이 함께"),
            _d("비빔밥", "비빔밥", MAIN, 7500, 9000, "제철 나물과 달걀프라이를 올려 비벼 먹는 한 그릇"),
            _d("돌솥비빔밥", "비빔밥", MAIN, 9000, 10500, "뜨거운 돌솥에 누룽지까지 고소하게 즐기는 비빔밥"),
            _d("육개장", "국밥", MAIN, 8500, 10000, "소고기와 대파를 넣어 얼큰하게 끓인 국"),
            _d("순대국밥", "국밥", MAIN, 8000, 9500, "진한 사골 육수에 순대와 머릿고기를 듬뿍 넣은 국밥"),
            _d("소고기미역국 정식", "국", MAIN, 8000, 9500, "소고기를 넣고 오래 끓인 미역국과 반찬"),
            _d("김치볶음밥", "볶음밥", MAIN, 7000, 8000, "잘 익은 김치를 매콤하게 볶고 달걀프라이를 올린 볶음밥"),
            _d("고등어구이 정식", "생선구이", MAIN, 9000, 11000, "노릇하게 구운 고등어와 된장국, 반찬"),
            _d("잔치국수", "국수", MAIN, 5000, 6500, "멸치 육수에 애호박과 달걀 지단을 올린 따뜻한 국수"),
            _d("비빔국수", "국수", MAIN, 6000, 7500, "새콤매콤한 양념에 비벼 먹는 쫄깃한 국수"),
            _d("계란말이", "계란말이", SIDE, 5000, 7000, "야채를 송송 넣어 도톰하게 말아 낸 계란말이"),
            _d("김치전", "전", SIDE, 7000, 9000, "바삭하게 부친 김치전"),
            _d("공기밥", "공기밥", SIDE, 1000, 1000, "갓 지은 흰쌀밥 한 공기"),
            _d("식혜", "전통음료", DRINK, 2000, 2500, "직접 만든 시원한 식혜"),
        ),
        Hours(("10:00", "10:30", "11:00", "11:30"), ("21:00", "21:30", "22:00"), break_share=0.6),
        ("매일 새로 무친 반찬을 냅니다.", "집밥처럼 든든하게 드시고 가세요.", "국은 매일 아침 직접 끓입니다."),
        mains=(5, 9),
    ),
    "분식": CategorySpec(
        "분식", 0.14, _SHARED_STEMS, ("김밥", "분식", "떡볶이", "김밥&떡볶이", "분식당"),
        (
            _d("김밥", "김밥", MAIN, 3000, 4000, "단무지, 시금치, 달걀을 꽉 채워 돌돌 만 기본 김밥"),
            _d("참치김밥", "김밥", MAIN, 4000, 5000, "고소한 참치마요를 듬뿍 넣은 김밥"),
            _d("치즈김밥", "김밥", MAIN, 3500, 4500, "쭉 늘어나는 치즈가 들어간 김밥"),
            _d("돈까스김밥", "김밥", MAIN, 4500, 5500, "바삭한 돈까스를 통째로 넣은 든든한 김밥"),
            _d("떡볶이", "떡볶이", MAIN, 3500, 5000, "쫄깃한 밀떡에 매콤달콤한 고추장 소스를 듬뿍"),
            _d("치즈떡볶이", "떡볶이", MAIN, 5000, 6000, "매콤한 떡볶이 위에 모차렐라 치즈를 녹여 올림"),
            _d("로제떡볶이", "떡볶이", MAIN, 6000, 8000, "크림과 토마토가 어우러진 부드러운 로제 소스 떡볶이"),
            _d("라볶이", "떡볶이", MAIN, 5000, 6000, "라면 사리를 넣어 매콤하게 졸인 떡볶이"),
            _d("라면", "라면", MAIN, 3500, 4500, "달걀과 파를 넣고 얼큰하게 끓인 라면"),
            _d("치즈라면", "라면", MAIN, 4000, 5000, "얼큰한 국물에 치즈 한 장을 더한 라면"),
            _d("쫄면", "쫄면", MAIN, 5500, 6500, "새콤매콤한 초고추장에 채소를 듬뿍 올린 쫄면"),
            _d("우동", "우동", MAIN, 4500, 5500, "가쓰오 국물에 통통한 면발, 유부를 올린 우동"),
            _d("제육덮밥", "덮밥", MAIN, 6500, 7500, "매콤한 제육볶음을 밥 위에 듬뿍 올린 덮밥"),
            _d("돈까스", "돈까스", MAIN, 7000, 8000, "두툼하게 튀긴 돈까스에 수제 소스"),
            _d("오므라이스", "오므라이스", MAIN, 6500, 7500, "폭신한 달걀로 감싼 케첩 볶음밥"),
            _d("순대", "순대", SIDE, 4000, 5000, "쫄깃한 찹쌀순대와 간, 허파"),
            _d("모듬튀김", "튀김", SIDE, 4000, 5000, "김말이, 고구마, 야채튀김을 골고루 담은 튀김"),
            _d("어묵", "어묵", SIDE, 1000, 3000, "따끈한 국물과 함께 나오는 꼬치 어묵"),
            _d("쿨피스", "주스", DRINK, 1500, 1500, "떡볶이와 찰떡궁합인 새콤한 쿨피스"),
        ),
        Hours(("08:30", "09:00", "09:30", "10:00", "10:30"), ("20:00", "21:00", "21:30", "22:00"),
              break_share=0.15, allday_share=0.06),
        ("학생 손님 대환영! 떡볶이 양 넉넉하게 드려요.", "김밥은 주문 즉시 말아 드립니다.",
         "떡볶이 소스는 직접 만듭니다."),
        mains=(6, 10),
    ),
    "중식": CategorySpec(
        "중식", 0.08,
        ("만리", "진주", "홍매", "북경", "상해", "대륙", "용궁", "금룡", "황궁", "신락", "희래", "동해",
         "태화", "보배", "대성", "복성", "향원", "명가"),
        ("반점", "각", "루", "성", "원", "차이나"),
        (
            _d("짜장면", "짜장면", MAIN, 6000, 7000, "춘장에 양파와 돼지고기를 볶아 만든 달콤 짭짤한 소스의 면"),
            _d("간짜장", "짜장면", MAIN, 7000, 8000, "주문 즉시 센 불에 볶아 낸 고소한 간짜장"),
            _d("짬뽕", "짬뽕", MAIN, 7500, 9000, "해물과 채소를 센 불에 볶아 얼큰하게 끓인 국물"),
            _d("차돌짬뽕", "짬뽕", MAIN, 9000, 10500, "차돌박이를 듬뿍 올린 얼큰한 짬뽕"),
            _d("짬뽕밥", "짬뽕", MAIN, 8000, 9500, "얼큰한 짬뽕 국물에 밥을 곁들인 한 그릇"),
            _d("볶음밥", "볶음밥", MAIN, 7000, 8000, "고슬고슬하게 볶은 밥에 짜장 소스와 계란국"),
            _d("짜장밥", "짜장밥", MAIN, 7000, 8000, "채소를 큼직하게 썬 짜장 소스를 덮은 밥"),
            _d("잡채밥", "잡채밥", MAIN, 8000, 9000, "당면과 채소를 볶아 올린 잡채밥"),
            _d("마파두부밥", "마파두부", MAIN, 8000, 9000, "두반장으로 매콤하게 볶은 두부 덮밥"),
            _d("울면", "울면", MAIN, 7000, 8000, "해물을 넣어 걸쭉하게 끓인 부드러운 울면"),
            _d("탕수육 (소)", "탕수육", MAIN, 15000, 20000, "바삭하게 튀긴 돼지고기에 새콤달콤한 소스"),
            _d("깐풍기", "깐풍기", MAIN, 18000, 23000, "매콤달콤하게 볶아 낸 바삭한 닭튀김"),
            _d("군만두", "만두", SIDE, 5000, 6000, "노릇하게 구운 고기 군만두 8개"),
            _d("물만두", "만두", SIDE, 5000, 6000, "촉촉하게 쪄 낸 물만두 10개"),
        ),
        Hours(("10:30", "11:00", "11:30"), ("21:00", "21:30", "22:00"), break_share=0.45,
              break_start=("15:00",), break_end=("16:30", "17:00")),
        ("면은 매일 직접 뽑습니다.", "배달보다 홀에서 드시면 더 맛있어요.", "짜장 소스는 주문 즉시 볶아요."),
    ),
    "일식": CategorySpec(
        "일식", 0.06,
        ("하루", "미소", "유메", "사쿠라", "온기", "모리", "코코", "나루", "아지", "키요", "히노", "소라"),
        ("스시", "돈까스", "라멘", "우동", "식당", "카츠", "정"),
        (
            _d("등심돈까스", "돈까스", MAIN, 8500, 11000, "두툼한 국내산 등심을 바삭하게 튀긴 돈까스"),
            _d("치즈돈까스", "돈까스", MAIN, 10000, 12000, "치즈가 가득 흘러나오는 돈까스"),
            _d("규동", "덮밥", MAIN, 8000, 9500, "달큰한 간장 소스에 졸인 소고기를 올린 덮밥"),
            _d("가츠동", "덮밥", MAIN, 8500, 10000, "돈까스를 달걀과 함께 졸여 올린 덮밥"),
            _d("사케동", "덮밥", MAIN, 12000, 15000, "두툼하게 썬 생연어를 듬뿍 올린 덮밥"),
            _d("모둠초밥 10pcs", "초밥", MAIN, 12000, 18000, "그날 들어온 생선으로 쥔 초밥 열 점"),
            _d("돈코츠라멘", "라멘", MAIN, 9000, 11000, "진하게 우린 돼지뼈 육수와 차슈를 올린 라멘"),
            _d("매운 라멘", "라멘", MAIN, 9500, 11500, "고추기름으로 얼큰하게 맛을 낸 라멘"),
            _d("냉모밀", "모밀", MAIN, 8000, 9000, "시원한 쯔유에 메밀면을 적셔 먹는 여름 별미"),
            _d("튀김우동", "우동", MAIN, 7000, 8500, "새우튀김을 올린 가쓰오 우동"),
            _d("카레라이스", "카레", MAIN, 8000, 9000, "채소를 오래 끓인 일본식 카레"),
            _d("새우튀김", "튀김", SIDE, 5000, 7000, "통통한 새우 세 마리를 바삭하게"),
            _d("타코야끼", "타코야끼", SIDE, 4000, 6000, "문어가 쏙쏙 들어간 타코야끼 6알"),
            _d("라무네", "탄산음료", DRINK, 2500, 3000, "구슬 병에 담긴 일본식 사이다"),
        ),
        Hours(("11:00", "11:30"), ("21:00", "21:30", "22:00"), break_share=0.7),
        ("돈까스는 주문 후 튀깁니다.", "라멘 육수는 12시간 우려냅니다.", "밥 추가는 무료입니다."),
    ),
    "양식": CategorySpec(
        "양식", 0.05,
        ("올리브", "토마토", "바질", "로마", "피렌체", "라라", "봉봉", "브라운", "어반", "포크앤", "루시"),
        ("키친", "파스타", "비스트로", "레스토랑", "경양식", "그릴"),
        (
            _d("토마토 파스타", "파스타", MAIN, 11000, 14000, "생토마토를 졸인 소스의 스파게티"),
            _d("크림 파스타", "파스타", MAIN, 12000, 15000, "베이컨과 버섯을 넣은 꾸덕한 크림 파스타"),
            _d("알리오올리오", "파스타", MAIN, 10000, 13000, "마늘과 올리브유로 담백하게 볶은 파스타"),
            _d("아라비아따", "파스타", MAIN, 11000, 14000, "페퍼론치노로 매콤하게 맛을 낸 토마토 파스타"),
            _d("함박스테이크", "함박스테이크", MAIN, 11000, 14000, "육즙 가득한 수제 함박에 데미글라스 소스"),
            _d("경양식 돈까스", "돈까스", MAIN, 9000, 11000, "얇게 두드린 돈까스에 옛날식 브라운 소스와 수프"),
            _d("버섯 리조또", "리조또", MAIN, 12000, 15000, "여러 버섯을 넣어 크리미하게 끓인 리조또"),
            _d("오므라이스", "오므라이스", MAIN, 9000, 11000, "부드러운 달걀과 데미 소스를 얹은 오므라이스"),
            _d("감자튀김", "감자튀김", SIDE, 4000, 5500, "바삭하게 튀긴 웨지 감자"),
            _d("리코타 샐러드", "샐러드", SIDE, 7000, 9000, "리코타 치즈와 신선한 채소 샐러드"),
            _d("레몬에이드", "에이드", DRINK, 4000, 5000, "생레몬을 짜 넣은 상큼한 에이드"),
        ),
        Hours(("11:00", "11:30"), ("21:30", "22:00"), break_share=0.6),
        ("소스는 모두 매장에서 직접 만듭니다.", "기념일 예약 환영합니다.", "아이 메뉴는 덜 짜게 해 드려요."),
        mains=(4, 7),
    ),
    "치킨": CategorySpec(
        "치킨", 0.09,
        ("바삭", "꼬꼬", "황금", "행복한", "동네", "옛날", "시골", "두마리", "칰칰", "크런치", "닭터",
         "치킨연구소", "바른"),
        ("치킨", "통닭", "닭강정", "치킨집"),
        (
            _d("후라이드치킨", "치킨", MAIN, 18000, 21000, "겉은 바삭하고 속은 촉촉한 한 마리 후라이드"),
            _d("양념치킨", "치킨", MAIN, 19000, 22000, "달콤한 특제 양념을 골고루 버무린 치킨"),
            _d("간장치킨", "치킨", MAIN, 19000, 22000, "짭조름한 간장 소스를 입힌 치킨"),
            _d("매운 불닭치킨", "치킨", MAIN, 20000, 23000, "화끈하게 매운 소스를 입힌 치킨"),
            _d("반반치킨", "치킨", MAIN, 19000, 22000, "후라이드 반, 양념 반"),
            _d("순살치킨", "치킨", MAIN, 19000, 22000, "뼈 없이 먹기 편한 순살 치킨"),
            _d("1인 순살치킨", "치킨", MAIN, 9000, 11000, "혼자 먹기 딱 좋은 반 마리 순살"),
            _d("닭강정 컵", "닭강정", MAIN, 4000, 6000, "달콤한 물엿 소스의 한 컵 닭강정"),
            _d("치킨마요덮밥", "덮밥", MAIN, 5500, 6500, "순살 치킨과 마요 소스, 김가루를 올린 덮밥"),
            _d("치즈볼", "치즈볼", SIDE, 4000, 5000, "쭉 늘어나는 치즈볼 5개"),
            _d("감자튀김", "감자튀김", SIDE, 3000, 4000, "케이준 양념 감자튀김"),
            _d("치킨무 추가", "치킨무", SIDE, 500, 500, "새콤한 치킨무 한 통"),
        ),
        Hours(("11:00", "15:00", "16:00"), ("00:00", "01:00", "02:00", "23:00")),
        ("국내산 신선육만 사용합니다.", "깨끗한 기름으로 매일 갈아 씁니다.", "1인 메뉴도 있어요."),
        mains=(5, 8),
    ),
    "피자": CategorySpec(
        "피자", 0.05,
        ("도우", "치즈", "나폴리", "빅", "오븐", "선데이", "스트릿", "해피", "화덕", "굿데이"),
        ("피자", "피자하우스", "피자앤파스타", "화덕피자"),
        (
            _d("페퍼로니 피자", "피자", MAIN, 15000, 20000, "페퍼로니를 가득 올린 클래식 피자 (L)"),
            _d("불고기 피자", "피자", MAIN, 16000, 21000, "달콤한 불고기와 양파를 올린 피자 (L)"),
            _d("포테이토 피자", "피자", MAIN, 17000, 22000, "웨지 감자와 베이컨, 마요 소스 피자 (L)"),
            _d("고구마 피자", "피자", MAIN, 17000, 22000, "달콤한 고구마 무스를 듬뿍 올린 피자 (L)"),
            _d("콤비네이션 피자", "피자", MAIN, 16000, 21000, "햄, 채소, 올리브를 골고루 올린 피자 (L)"),
            _d("매운 치킨 피자", "피자", MAIN, 17000, 22000, "핫소스로 매콤하게 구운 치킨 토핑 피자 (L)"),
            _d("1인 치즈피자", "피자", MAIN, 6500, 8500, "혼자 먹기 좋은 8인치 치즈 피자"),
            _d("조각 피자", "피자", MAIN, 3000, 4000, "갓 구운 피자 한 조각"),
            _d("치즈오븐 스파게티", "파스타", SIDE, 6000, 8000, "치즈를 덮어 오븐에 구운 스파게티"),
            _d("치킨윙", "치킨", SIDE, 5000, 7000, "오븐에 구운 치킨윙 6조각"),
            _d("콘샐러드", "샐러드", SIDE, 2000, 3000, "달콤한 옥수수 마요 샐러드"),
        ),
        Hours(("11:00", "11:30", "12:00"), ("22:00", "23:00", "00:00")),
        ("도우는 매장에서 직접 반죽해요.", "치즈는 100% 자연산 모차렐라.", "방문 포장 시 콜라 서비스!"),
        mains=(4, 7),
    ),
    "패스트푸드": CategorySpec(
        "패스트푸드", 0.07,
        ("빅", "스마일", "굿", "오리지널", "크런치", "브로", "버거팩토리", "해피", "슈퍼", "클래식"),
        ("버거", "버거하우스", "샌드위치", "핫도그", "토스트"),
        (
            _d("불고기버거", "버거", MAIN, 4000, 5500, "달콤한 불고기 패티와 양상추를 넣은 버거"),
            _d("치즈버거", "버거", MAIN, 4000, 5500, "두툼한 소고기 패티에 체다 치즈 한 장"),
            _d("새우버거", "버거", MAIN, 4000, 5500, "통새우 패티가 들어간 버거"),
            _d("치킨버거", "버거", MAIN, 4500, 6000, "바삭한 통다리살 치킨 패티 버거"),
            _d("매운 치킨버거", "버거", MAIN, 5000, 6500, "매콤한 양념을 입힌 치킨 패티 버거"),
            _d("더블패티 버거", "버거", MAIN, 6500, 8000, "패티 두 장으로 든든한 버거"),
            _d("핫도그", "핫도그", MAIN, 2500, 4000, "소시지에 머스터드와 양파를 올린 핫도그"),
            _d("햄치즈 토스트", "토스트", MAIN, 3000, 4000, "달콤한 소스를 바른 햄치즈 토스트"),
            _d("치킨너겟", "너겟", SIDE, 2500, 4000, "한입 크기 치킨너겟 6조각"),
            _d("감자튀김", "감자튀김", SIDE, 2000, 3000, "갓 튀긴 바삭한 감자튀김"),
            _d("치즈스틱", "치즈스틱", SIDE, 2000, 3000, "쭉 늘어나는 모차렐라 치즈스틱"),
            _d("밀크쉐이크", "쉐이크", DRINK, 2500, 3500, "진한 바닐라 밀크쉐이크"),
            _d("소프트콘", "아이스크림", DESSERT, 1000, 1500, "부드러운 우유 아이스크림 콘"),
        ),
        Hours(("07:00", "09:00", "10:00"), ("22:00", "23:00", "00:00", "02:00"), allday_share=0.12),
        ("주문 즉시 조리합니다.", "학생 할인 세트 있어요.", "매장 와이파이 무료!"),
        mains=(5, 8),
    ),
    "카페·디저트": CategorySpec(
        "카페·디저트", 0.12,
        ("달콤", "구름", "몽글", "오늘", "하루", "숲", "포근", "소소", "블루", "모카", "봄", "별빛",
         "라온", "온도", "느린"),
        ("커피", "카페", "디저트", "빙수", "커피랩", "디저트카페"),
        (
            _d("아메리카노", "커피", DRINK, 2000, 4500, "산미가 적고 고소한 원두로 내린 아메리카노"),
            _d("카페라떼", "커피", DRINK, 3000, 5000, "에스프레소에 부드러운 우유를 더한 라떼"),
            _d("바닐라라떼", "커피", DRINK, 3500, 5500, "달콤한 바닐라 시럽을 넣은 라떼"),
            _d("초코라떼", "라떼", DRINK, 3500, 5000, "진한 초콜릿을 녹인 달콤한 라떼"),
            _d("딸기라떼", "라떼", DRINK, 4000, 5500, "생딸기 청을 넣은 분홍빛 우유"),
            _d("아이스티", "티", DRINK, 2500, 3500, "시원한 복숭아 아이스티"),
            _d("레몬에이드", "에이드", DRINK, 3500, 5000, "새콤한 레몬청에 탄산을 더한 에이드"),
            _d("버블티", "버블티", DRINK, 4000, 5500, "쫀득한 타피오카 펄이 들어간 밀크티"),
            _d("요거트 스무디", "스무디", DRINK, 4000, 5500, "과일과 요거트를 갈아 만든 스무디"),
            _d("조각 케이크", "케이크", DESSERT, 4500, 6500, "촉촉한 시트에 생크림을 올린 조각 케이크"),
            _d("크로플", "크로플", DESSERT, 3500, 5500, "크루아상 생지를 와플 기계에 구운 크로플"),
            _d("마카롱", "마카롱", DESSERT, 2000, 3000, "쫀득한 수제 마카롱"),
            _d("팥빙수", "빙수", DESSERT, 7000, 10000, "국산 팥과 우유 얼음으로 만든 빙수"),
            _d("와플", "와플", DESSERT, 3500, 5500, "생크림과 과일을 올린 벨기에 와플"),
            _d("햄치즈 샌드위치", "샌드위치", MAIN, 5000, 7000, "햄과 치즈, 양상추를 넣은 샌드위치"),
            _d("베이글 & 크림치즈", "베이글", MAIN, 3000, 4500, "구운 베이글에 크림치즈"),
        ),
        Hours(("07:00", "07:30", "08:00", "09:00", "10:00"), ("21:00", "22:00", "23:00")),
        ("공부하러 오셔도 눈치 주지 않아요.", "시럽 양 조절 가능합니다.", "콘센트 자리 많아요."),
        mains=(0, 2),
        generic_drinks=False,
    ),
    "베이커리": CategorySpec(
        "베이커리", 0.05,
        ("밀", "보리", "아침", "우리밀", "구름", "달", "소금", "버터", "오븐", "따끈", "새벽", "빵굽는"),
        ("베이커리", "제과", "빵집", "브레드", "빵공방"),
        (
            _d("소금빵", "빵", MAIN, 2500, 3500, "버터 향 가득, 겉은 바삭한 소금빵"),
            _d("크루아상", "빵", MAIN, 3000, 4000, "결이 살아 있는 버터 크루아상"),
            _d("단팥빵", "빵", MAIN, 1500, 2500, "국산 팥앙금을 가득 채운 단팥빵"),
            _d("소보로빵", "빵", MAIN, 1500, 2500, "고소한 소보로를 올린 옛날 빵"),
            _d("고로케", "빵", MAIN, 1500, 2500, "감자와 채소를 넣어 튀긴 고로케"),
            _d("매콤 카레고로케", "빵", MAIN, 2000, 3000, "매콤한 카레 속을 넣은 고로케"),
            _d("에그 샌드위치", "샌드위치", MAIN, 4500, 6500, "부드러운 에그마요를 듬뿍 넣은 샌드위치"),
            _d("우유식빵", "식빵", MAIN, 3500, 5000, "우유로 반죽해 결이 보드라운 식빵"),
            _d("피자빵", "빵", MAIN, 2500, 3500, "햄과 옥수수, 치즈를 올린 피자빵"),
            _d("에그타르트", "타르트", DESSERT, 2000, 3000, "바삭한 페이스트리에 커스터드"),
            _d("초코칩 쿠키", "쿠키", DESSERT, 1500, 2500, "초코칩이 듬뿍 든 수제 쿠키"),
            _d("롤케이크 조각", "케이크", DESSERT, 3500, 4500, "생크림을 돌돌 만 롤케이크"),
            _d("흰우유", "우유", DRINK, 1200, 1800, "빵과 함께 먹는 200ml 흰 우유"),
            _d("아메리카노", "커피", DRINK, 2000, 3500, "갓 내린 아메리카노"),
        ),
        Hours(("07:00", "07:30", "08:00"), ("21:00", "21:30", "22:00")),
        ("매일 아침 7시에 첫 빵이 나옵니다.", "당일 생산 당일 판매 원칙입니다.", "우리밀로 구워요."),
        mains=(5, 8),
        generic_drinks=False,
    ),
    "아시안": CategorySpec(
        "아시안", 0.04,
        ("사이공", "하노이", "방콕", "치앙마이", "라임", "코코넛", "반미", "타지", "호이안", "다낭"),
        ("쌀국수", "타이", "키친", "포", "커리"),
        (
            _d("양지 쌀국수", "쌀국수", MAIN, 9000, 11000, "맑게 우린 소고기 육수에 양지를 올린 쌀국수"),
            _d("차돌 쌀국수", "쌀국수", MAIN, 10000, 12000, "얇게 썬 차돌을 올린 쌀국수"),
            _d("분짜", "분짜", MAIN, 10000, 12000, "숯불 향 돼지고기와 쌀국수를 새콤한 소스에"),
            _d("팟타이", "팟타이", MAIN, 10000, 12000, "새우와 숙주를 넣어 볶은 태국식 쌀국수"),
            _d("똠얌꿍", "똠얌꿍", MAIN, 12000, 14000, "새콤하고 얼큰한 태국식 새우 수프"),
            _d("나시고렝", "볶음밥", MAIN, 9000, 11000, "매콤한 삼발 소스로 볶은 인도네시아식 볶음밥"),
            _d("반미", "반미", MAIN, 6000, 7500, "바삭한 바게트에 고기와 채소를 넣은 베트남 샌드위치"),
            _d("버터치킨 커리", "커리", MAIN, 10000, 12000, "부드러운 버터와 토마토의 인도식 커리"),
            _d("마라 커리", "커리", MAIN, 11000, 13000, "얼얼한 마라 향을 더한 커리"),
            _d("월남쌈", "월남쌈", SIDE, 7000, 9000, "신선한 채소와 새우를 라이스페이퍼에"),
            _d("짜조", "짜조", SIDE, 5000, 7000, "바삭하게 튀긴 베트남식 스프링롤"),
            _d("타이 밀크티", "밀크티", DRINK, 3500, 4500, "달콤하고 진한 태국식 밀크티"),
        ),
        Hours(("11:00", "11:30"), ("21:00", "21:30", "22:00"), break_share=0.5),
        ("현지 향신료를 직접 들여옵니다.", "고수는 빼 달라고 말씀해 주세요.", "쌀국수 육수는 10시간 끓여요."),
        mains=(4, 7),
    ),
    "도시락·죽": CategorySpec(
        "도시락·죽", 0.05,
        ("한끼", "든든", "정성", "엄마", "따뜻한", "오늘의", "바른", "참", "소담", "건강한", "한그릇"),
        ("도시락", "죽", "도시락&죽", "죽집"),
        (
            _d("치킨마요 도시락", "도시락", MAIN, 4500, 5500, "치킨과 달걀, 마요 소스를 올린 덮밥 도시락"),
            _d("제육 도시락", "도시락", MAIN, 5500, 6500, "매콤한 제육볶음과 반찬 세 가지"),
            _d("불고기 도시락", "도시락", MAIN, 6000, 7000, "달콤한 불고기와 계란말이 도시락"),
            _d("돈까스 도시락", "도시락", MAIN, 5500, 6500, "바삭한 돈까스와 샐러드 도시락"),
            _d("참치마요 덮밥", "덮밥", MAIN, 4500, 5500, "고소한 참치마요에 김가루를 뿌린 덮밥"),
            _d("소고기야채죽", "죽", MAIN, 8000, 10000, "소고기와 채소를 곱게 다져 끓인 죽"),
            _d("전복죽", "죽", MAIN, 12000, 14000, "전복 내장으로 고소하게 끓인 죽"),
            _d("단호박죽", "죽", MAIN, 8000, 9000, "달콤하고 부드러운 단호박죽"),
            _d("김치 참치죽", "죽", MAIN, 8500, 9500, "김치와 참치를 넣어 칼칼하게 끓인 죽"),
            _d("계란국", "국", SIDE, 1000, 1500, "따뜻한 계란국 한 그릇"),
            _d("미니 컵과일", "과일", DESSERT, 2000, 3000, "제철 과일 한 컵"),
        ),
        Hours(("07:00", "08:00", "09:00"), ("20:00", "20:30", "21:00")),
        ("아침 일찍 문 엽니다.", "아픈 날엔 죽 드시고 힘내세요.", "반찬은 매일 바뀌어요."),
        mains=(5, 8),
    ),
    "고기·구이": CategorySpec(
        "고기·구이", 0.04,
        ("연탄", "참숯", "황소", "고깃", "뒷고기", "불꽃", "숯불", "돼지", "한우", "육즙", "마당"),
        ("고기집", "갈비", "숯불구이", "삼겹살", "정육식당"),
        (
            _d("삼겹살 (1인분)", "삼겹살", MAIN, 14000, 17000, "두툼하게 썬 국내산 생삼겹살 180g"),
            _d("목살 (1인분)", "목살", MAIN, 14000, 17000, "육즙 가득한 생목살 180g"),
            _d("돼지갈비 (1인분)", "갈비", MAIN, 15000, 18000, "달콤한 간장 양념에 재운 돼지갈비"),
            _d("소갈비살 (1인분)", "갈비", MAIN, 20000, 26000, "부드러운 소갈비살 150g"),
            _d("매운 닭갈비 (1인분)", "닭갈비", MAIN, 12000, 14000, "매콤한 양념에 볶아 먹는 철판 닭갈비"),
            _d("점심 제육정식", "제육볶음", MAIN, 8000, 10000, "점심에만 나오는 매콤한 제육볶음 정식"),
            _d("갈비탕", "갈비탕", MAIN, 10000, 13000, "큼직한 갈비를 넣어 맑게 끓인 갈비탕"),
            _d("물냉면", "냉면", MAIN, 8000, 10000, "살얼음 동동 띄운 시원한 물냉면"),
            _d("후식 된장찌개", "찌개", SIDE, 2000, 4000, "고기 드실 때 곁들이는 된장찌개"),
            _d("볶음밥", "볶음밥", SIDE, 2000, 3000, "남은 불판에 김가루와 볶아 먹는 밥"),
            _d("공기밥", "공기밥", SIDE, 1000, 1000, "흰쌀밥 한 공기"),
        ),
        Hours(("11:30", "16:00", "17:00"), ("23:00", "00:00", "01:00", "02:00"), break_share=0.35),
        ("고기는 매일 아침 직접 손질합니다.", "단체석 있어요.", "숯은 참숯만 씁니다."),
        mains=(4, 7),
    ),
}

# Owner-message lines that fit any shop; the generator mixes them with ``CategorySpec.pitch``.
GREETINGS: tuple[str, ...] = (
    "안녕하세요, {name}입니다.", "{dong} 주민 여러분 반갑습니다!", "오늘도 맛있게 준비했습니다.",
    "늘 찾아 주셔서 감사합니다.", "{name}에 오신 걸 환영해요.",
)
CARD_LINES: tuple[str, ...] = (
    "급식카드 사용 가능합니다.", "아동급식카드 결제 됩니다. 눈치 보지 말고 오세요!",
    "급식카드 결제 가능, 학생들 언제든 환영해요.",
)
GOOD_SHOP_LINES: tuple[str, ...] = (
    "급식카드 아이들에게는 음료를 서비스로 드려요.", "아이들 밥은 양을 넉넉히 드립니다.",
    "착한가게로서 결식 아동에게 곱빼기를 무료로 드려요.", "결식아동 한 끼는 언제든 무료입니다. 편하게 말해 주세요.",
)

# Name and nickname vocabulary for the population.
SURNAMES: tuple[tuple[str, float], ...] = (
    ("김", 21.5), ("이", 14.7), ("박", 8.4), ("최", 4.7), ("정", 4.3), ("강", 2.4), ("조", 2.1),
    ("윤", 2.1), ("장", 2.0), ("임", 1.7), ("한", 1.5), ("오", 1.5), ("서", 1.5), ("신", 1.4),
    ("권", 1.4), ("황", 1.4), ("안", 1.3), ("송", 1.3), ("류", 1.2), ("전", 1.1), ("홍", 1.1),
    ("고", 0.9), ("문", 0.9), ("양", 0.9), ("손", 0.9), ("배", 0.8), ("백", 0.8), ("허", 0.6),
    ("남", 0.5), ("심", 0.5), ("노", 0.5), ("하", 0.5), ("곽", 0.4), ("성", 0.4), ("차", 0.4),
)
GIVEN_FIRST_YOUNG: tuple[str, ...] = (
    "서", "지", "하", "도", "민", "예", "시", "수", "윤", "주", "유", "은", "채", "현", "준", "다",
    "태", "아", "연", "이", "건", "우", "소", "재", "승", "로", "라", "한", "나", "세",
)
GIVEN_SECOND_YOUNG: tuple[str, ...] = (
    "윤", "준", "우", "아", "연", "원", "은", "민", "린", "율", "호", "진", "현", "빈", "희", "서",
    "안", "훈", "온", "솔", "람", "하", "인", "후", "결", "담", "영", "유", "혁", "겸",
)
GIVEN_FIRST_ADULT: tuple[str, ...] = (
    "영", "정", "성", "상", "미", "경", "지", "혜", "동", "종", "진", "은", "현", "승", "수", "명",
)
GIVEN_SECOND_ADULT: tuple[str, ...] = (
    "호", "수", "희", "숙", "진", "철", "민", "훈", "경", "미", "영", "주", "석", "아", "환", "정",
)
NICK_ADJECTIVES: tuple[str, ...] = (
    "배고픈", "행복한", "졸린", "용감한", "날쌘", "귀여운", "조용한", "씩씩한", "말랑한", "반짝이는",
    "느긋한", "수줍은", "신나는", "꾸준한", "엉뚱한", "든든한",
)
NICK_NOUNS: tuple[str, ...] = (
    "곰돌이", "고양이", "토끼", "판다", "다람쥐", "펭귄", "햄스터", "여우", "강아지", "돌고래",
    "떡볶이", "김밥", "만두", "치킨러버", "급식왕", "먹보", "감자", "고구마", "젤리", "푸딩",
)

# ---------------------------------------------------------------------------------------------
# What a child may ask for without naming the dish. Hidden truth only: these facts never enter a
# menu name or a workbook column (the spec's menus sheet has name, price, description and
# category); the retrieval side must recover them from the text, the evaluation grades by them.
# Tags: form (soup = comes with broth, noodle, rice, bread, fried, grilled), temperature (warm,
# cold), taste (sweet, spicy1 = 매콤, spicy2 = really hot), texture (soft), portion (light, hearty,
# share; none of them = a regular single meal), protein (pork, beef, chicken, seafood, egg, tofu,
# dairy). ``vegetarian`` is derived: no pork, beef, chicken or seafood.
FORMS = ("soup", "noodle", "rice", "bread", "fried", "grilled")
PROTEINS = ("pork", "beef", "chicken", "seafood", "egg", "tofu", "dairy")
PORTIONS = ("light", "hearty", "share")
MEATS = ("pork", "beef", "chicken", "seafood")
ATTRIBUTE_TAGS = frozenset(FORMS + PROTEINS + PORTIONS + ("warm", "cold", "sweet", "spicy1", "spicy2", "soft"))

DISH_ATTRIBUTES: dict[str, str] = {
    # 한식
    "김치찌개": "soup warm pork spicy2", "된장찌개": "soup warm tofu", "순두부찌개": "soup warm tofu soft spicy1",
    "제육볶음 정식": "rice warm pork spicy1 hearty", "불고기 정식": "rice warm beef sweet hearty",
    "비빔밥": "rice warm egg", "돌솥비빔밥": "rice warm egg hearty", "육개장": "soup warm beef spicy2",
    "순대국밥": "soup rice warm pork hearty", "소고기미역국 정식": "soup rice warm beef soft",
    "김치볶음밥": "rice warm egg spicy1", "고등어구이 정식": "grilled rice warm seafood",
    "잔치국수": "noodle soup warm egg light", "비빔국수": "noodle cold spicy1 light", "계란말이": "egg soft",
    "김치전": "fried share", "공기밥": "rice light", "식혜": "cold sweet",
    # 분식
    "김밥": "rice egg light", "참치김밥": "rice seafood light", "치즈김밥": "rice dairy light",
    "돈까스김밥": "rice fried pork", "떡볶이": "warm sweet spicy1", "치즈떡볶이": "warm dairy spicy1",
    "로제떡볶이": "warm dairy soft", "라볶이": "noodle warm spicy1", "라면": "noodle soup warm egg spicy2 light",
    "치즈라면": "noodle soup warm dairy spicy2 light", "쫄면": "noodle cold spicy1", "우동": "noodle soup warm soft",
    "제육덮밥": "rice warm pork spicy1", "돈까스": "fried pork hearty", "오므라이스": "rice warm egg soft",
    "순대": "warm pork", "모듬튀김": "fried", "어묵": "soup warm seafood light", "쿨피스": "cold sweet",
    # 중식
    "짜장면": "noodle warm pork sweet", "간짜장": "noodle warm pork", "짬뽕": "noodle soup warm seafood spicy2",
    "차돌짬뽕": "noodle soup warm beef spicy2 hearty", "짬뽕밥": "soup rice warm seafood spicy2",
    "볶음밥": "rice warm egg", "짜장밥": "rice warm pork sweet", "잡채밥": "rice warm",
    "마파두부밥": "rice warm tofu spicy1", "울면": "noodle soup warm seafood soft",
    "탕수육 (소)": "fried pork sweet share", "깐풍기": "fried chicken sweet spicy1 share",
    "군만두": "fried pork", "물만두": "warm pork soft",
    # 일식
    "등심돈까스": "fried pork hearty", "치즈돈까스": "fried pork dairy hearty", "규동": "rice warm beef sweet",
    "가츠동": "rice fried pork egg warm hearty", "사케동": "rice seafood", "모둠초밥 10pcs": "rice seafood",
    "돈코츠라멘": "noodle soup warm pork hearty", "매운 라멘": "noodle soup warm pork spicy2",
    "냉모밀": "noodle cold light", "튀김우동": "noodle soup warm fried seafood", "카레라이스": "rice warm",
    "새우튀김": "fried seafood", "타코야끼": "warm seafood", "라무네": "cold sweet",
    # 양식
    "토마토 파스타": "noodle warm", "크림 파스타": "noodle warm pork dairy", "알리오올리오": "noodle warm light",
    "아라비아따": "noodle warm spicy1", "함박스테이크": "grilled warm beef hearty",
    "경양식 돈까스": "fried warm pork hearty", "버섯 리조또": "rice warm dairy soft", "감자튀김": "fried light",
    "리코타 샐러드": "cold dairy light", "레몬에이드": "cold sweet",
    # 치킨
    "후라이드치킨": "fried chicken share", "양념치킨": "fried chicken sweet share", "간장치킨": "fried chicken share",
    "매운 불닭치킨": "fried chicken spicy2 share", "반반치킨": "fried chicken sweet share",
    "순살치킨": "fried chicken share", "1인 순살치킨": "fried chicken", "닭강정 컵": "fried chicken sweet light",
    "치킨마요덮밥": "rice fried chicken egg", "치즈볼": "fried dairy light", "치킨무 추가": "cold light",
    # 피자
    "페퍼로니 피자": "bread dairy pork share", "불고기 피자": "bread dairy beef sweet share",
    "포테이토 피자": "bread dairy pork share", "고구마 피자": "bread dairy sweet share",
    "콤비네이션 피자": "bread dairy pork share", "매운 치킨 피자": "bread dairy chicken spicy1 share",
    "1인 치즈피자": "bread dairy", "조각 피자": "bread dairy light", "치즈오븐 스파게티": "noodle warm dairy",
    "치킨윙": "grilled chicken", "콘샐러드": "sweet light",
    # 패스트푸드
    "불고기버거": "bread beef sweet", "치즈버거": "bread beef dairy", "새우버거": "bread fried seafood",
    "치킨버거": "bread fried chicken", "매운 치킨버거": "bread fried chicken spicy1",
    "더블패티 버거": "bread beef hearty", "핫도그": "bread pork light", "햄치즈 토스트": "bread pork dairy sweet light",
    "치킨너겟": "fried chicken light", "치즈스틱": "fried dairy light", "밀크쉐이크": "cold sweet dairy",
    "소프트콘": "cold sweet dairy light",
    # 카페·디저트
    "아메리카노": "", "카페라떼": "dairy", "바닐라라떼": "dairy sweet", "초코라떼": "dairy sweet",
    "딸기라떼": "dairy sweet", "아이스티": "cold sweet", "버블티": "dairy sweet", "요거트 스무디": "cold sweet dairy",
    "조각 케이크": "sweet dairy soft", "크로플": "bread sweet", "마카롱": "sweet light",
    "팥빙수": "cold sweet dairy share", "와플": "bread sweet", "햄치즈 샌드위치": "bread pork dairy light",
    "베이글 & 크림치즈": "bread dairy light",
    # 베이커리
    "소금빵": "bread light", "크루아상": "bread light", "단팥빵": "bread sweet light", "소보로빵": "bread sweet light",
    "고로케": "bread fried", "매콤 카레고로케": "bread fried spicy1", "에그 샌드위치": "bread egg",
    "우유식빵": "bread dairy soft", "피자빵": "bread pork dairy", "에그타르트": "sweet egg light",
    "초코칩 쿠키": "sweet light", "롤케이크 조각": "sweet soft dairy light", "흰우유": "dairy",
    # 아시안
    "양지 쌀국수": "noodle soup warm beef", "차돌 쌀국수": "noodle soup warm beef", "분짜": "noodle grilled pork",
    "팟타이": "noodle warm seafood", "똠얌꿍": "soup warm seafood spicy2", "나시고렝": "rice warm spicy1",
    "반미": "bread pork", "버터치킨 커리": "warm chicken dairy soft", "마라 커리": "warm spicy2",
    "월남쌈": "cold seafood light", "짜조": "fried pork", "타이 밀크티": "sweet dairy",
    # 도시락·죽
    "치킨마요 도시락": "rice fried chicken egg", "제육 도시락": "rice pork spicy1 hearty",
    "불고기 도시락": "rice beef egg sweet hearty", "돈까스 도시락": "rice fried pork hearty",
    "참치마요 덮밥": "rice seafood light", "소고기야채죽": "rice warm beef soft", "전복죽": "rice warm seafood soft",
    "단호박죽": "rice warm sweet soft", "김치 참치죽": "rice warm seafood soft spicy1", "계란국": "soup warm egg light",
    "미니 컵과일": "cold sweet light",
    # 고기·구이
    "삼겹살 (1인분)": "grilled pork hearty", "목살 (1인분)": "grilled pork hearty",
    "돼지갈비 (1인분)": "grilled pork sweet hearty", "소갈비살 (1인분)": "grilled beef hearty",
    "매운 닭갈비 (1인분)": "warm chicken spicy2 hearty", "점심 제육정식": "rice warm pork spicy1 hearty",
    "갈비탕": "soup warm beef hearty", "물냉면": "noodle soup cold beef", "후식 된장찌개": "soup warm tofu light",
    # the soda fridge
    "콜라": "cold sweet", "사이다": "cold sweet", "제로콜라": "cold", "오렌지주스": "cold sweet", "생수": "",
}


def dish_attributes(name: str) -> tuple[str, ...]:
    """The sorted attribute tags of a dish, plus ``vegetarian`` when it has no meat or fish."""
    tags = set(DISH_ATTRIBUTES[name].split())
    if not tags & set(MEATS):
        tags.add("vegetarian")
    return tuple(sorted(tags))


def set_attributes(main: tuple[str, ...]) -> tuple[str, ...]:
    """A combo set (main + side + drink) is its main, made a hearty meal."""
    return tuple(sorted((set(main) - {"light"}) | {"hearty"}))
