"""Money amounts and party sizes in every way Koreans write them.

``parse_korean_number("만 오천") == 15000``; ``find_amounts("1만5천원으로 뭐 먹지")`` → one match
of 15000. Pure functions over normalized text (see normalize.py), fast enough for every request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"영": 0, "공": 0, "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "륙": 6,
           "칠": 7, "팔": 8, "구": 9}
_SMALL_UNITS = {"십": 10, "백": 100, "천": 1000}
_BIG_UNITS = {"만": 10_000, "억": 100_000_000}

_NUM_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[영공일이삼사오육륙칠팔구십백천만억]")


def parse_korean_number(expr: str) -> int | None:
    """Value of a Sino-Korean / Arabic numeral expression: '5천' 5000, '만 오천' 15000,
    '1만5천' 15000, '1.5만' 15000, '5,000' 5000, '이만' 20000, '삼천오백' 3500. None if malformed."""
    if re.search(r"\d\s+\d", expr):
        return None  # two numbers in a row: "5 3"
    tokens = _NUM_TOKEN_RE.findall(expr.replace(" ", ""))
    if not tokens or "".join(tokens) != expr.replace(" ", ""):
        return None
    total = 0.0      # sum of finished 만/억 groups
    section = 0.0    # value below 만 being built
    current: float | None = None
    for tok in tokens:
        if tok[0].isdigit():
            if current is not None:
                return None  # two numbers in a row: "5 3"
            if "," in tok:
                if not re.fullmatch(r"\d{1,3}(?:,\d{3})+", tok):
                    return None
                current = float(tok.replace(",", ""))
            else:
                try:
                    current = float(tok)
                except ValueError:
                    return None
        elif tok in _DIGITS:
            if current is not None:
                return None
            current = float(_DIGITS[tok])
        elif tok in _SMALL_UNITS:
            section += (1.0 if current is None else current) * _SMALL_UNITS[tok]
            current = None
        else:  # 만 / 억
            group = section + (current or 0.0)
            total += (group if group else 1.0) * _BIG_UNITS[tok]
            section, current = 0.0, None
    value = total + section + (current or 0.0)
    return int(round(value))


# --- money ---------------------------------------------------------------------------------

_NUM_CHARS = "영공일이삼사오육륙칠팔구십백천만억"
_HANGUL_NUM = f"[{_NUM_CHARS}]+"
_ARABIC = r"\d+(?:[.,]\d+)*"
_PART = rf"(?:{_ARABIC}\s?[{_NUM_CHARS}]*|{_HANGUL_NUM})"
# a numeral expression: parts separated by at most one space ("만 오천", "1만 5천")
_EXPR = rf"{_PART}(?:\s?{_PART})*?"

# 1) anything followed by 원 / won / ₩ before
_WON_RE = re.compile(
    rf"(?:₩\s?(?P<pre>{_ARABIC}))|(?<![\d.,])(?P<num>{_ARABIC}\s?[{_NUM_CHARS}]*(?:\s?{_PART})*?)\s?(?:원|won\b|krw\b)"
    rf"|(?<![가-힣\d.,])(?P<han>{_HANGUL_NUM}(?:\s?{_PART})*?)\s?(?:원|won\b|krw\b)"
    # spacing dropped: "돈은오만원", "배고프다사천원" (two or more numeral syllables, so 만원/천원 glued stay out)
    rf"|(?<=[가-힣])(?P<glued>[일이삼사오육칠팔구]?[천만](?:[일이삼사오육칠팔구]?[천백십])*[일이삼사오육칠팔구]?|만[일이삼사오육칠팔구]천)(?<!^만)\s?원",
)
# 2) Arabic digits with 천/만 but no 원 ("5천 이하", "1만5천으로"), not a count of something else
_NO_WON_UNIT_RE = re.compile(
    rf"(?<![\d.,])(?P<num>\d+(?:\.\d+)?\s?[천만](?:\s?\d+\s?천)?(?:\s?\d+\s?백)?)"
    r"(?!\s?(?:명|개|번|분|시|살|걸음|보|칼로리|kcal|원|m\b|미터|km|층|위|등|호|마리|인분|인))"
)
# 3) Hangul numerals with 천/만 but no 원, only before a money particle ("오천으로", "삼만 이하")
_MONEY_PARTICLE = r"(?:으로|로|이하|이내|미만|밖에|정도|쯤|까지|짜리|안쪽|안으로|내로|선에서|대로|\s?이하|\s?이내|\s?정도|\s?밖에|\s?까지)"
_NO_WON_HANGUL_RE = re.compile(
    rf"(?<![가-힣])(?P<num>[일이삼사오육칠팔구]?[천만](?:\s?[일이삼사오육칠팔구]?[천백])?(?:\s?[일이삼사오육칠팔구]?[백십])?)(?={_MONEY_PARTICLE})"
)
# 4) bare Arabic numbers that read as money from the words around them
_BARE_RE = re.compile(
    r"(?:(?P<ctx>예산|돈|용돈|잔액|가격|금액|남은\s?돈)\s?(?:은|이|는|이랑|을)?\s?)?"
    rf"(?<![\d.,])(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d{{3,7}})(?![\d.,])"
    rf"(?P<post>\s?(?:으로|로|이하|이내|미만|밖에|정도|까지|짜리|안쪽|선에서|내로))?"
)

_RANGE_RE = re.compile(r"(?:에서|부터|~|-|사이)")

MIN_AMOUNT = 100
MAX_AMOUNT = 10_000_000


@dataclass(frozen=True)
class Amount:
    value: int
    start: int
    end: int
    text: str


def _spans_overlap(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def find_amounts(text: str) -> list[Amount]:
    """Every money amount in ``text`` (normalized), left to right."""
    found: list[Amount] = []
    taken: list[tuple[int, int]] = []

    def add(expr: str, start: int, end: int) -> None:
        value = parse_korean_number(expr)
        if value is None or not MIN_AMOUNT <= value <= MAX_AMOUNT:
            return
        if _spans_overlap((start, end), taken):
            return
        taken.append((start, end))
        found.append(Amount(value, start, end, text[start:end]))

    for m in _WON_RE.finditer(text):
        group = next(g for g in ("pre", "num", "han", "glued") if m.group(g))
        if group == "glued" and len(m.group(group)) < 2:
            continue
        expr = m.group(group).strip()
        # a Hangul numeral glued to a word is not a number: "사원", "일원" are words
        add(expr, m.start(group), m.end())
    for m in _NO_WON_UNIT_RE.finditer(text):
        add(m.group("num"), m.start("num"), m.end("num"))
    for m in _NO_WON_HANGUL_RE.finditer(text):
        add(m.group("num"), m.start("num"), m.end("num"))
    for m in _BARE_RE.finditer(text):
        if m.group("ctx") or m.group("post"):
            value = parse_korean_number(m.group("num"))
            if value is not None and value >= 500:
                add(m.group("num"), m.start("num"), m.end("num"))
    found.sort(key=lambda a: a.start)
    return found


def budget_from_text(text: str) -> int | None:
    """The budget an utterance states: the first amount, or the upper end of a stated range."""
    amounts = find_amounts(text)
    if not amounts:
        return None
    if len(amounts) >= 2:
        between = text[amounts[0].end:amounts[1].start]
        if len(between) <= 6 and _RANGE_RE.search(between):
            return max(amounts[0].value, amounts[1].value)
    return amounts[0].value


# --- party size ----------------------------------------------------------------------------

_NATIVE_COUNT = {
    "한": 1, "하나": 1, "두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5,
    "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10, "열한": 11, "열두": 12, "열세": 13,
    "열네": 14, "열다섯": 15, "스무": 20, "스물": 20, "서른": 30, "마흔": 40,
}
_NATIVE_ALT = "|".join(sorted(_NATIVE_COUNT, key=len, reverse=True))
_PEOPLE_RE = re.compile(
    rf"(?:(?P<num>\d+)\s?(?:명|인(?!분)|사람)|(?<![가-힣])(?P<native>{_NATIVE_ALT})\s?(?:명|사람)"
    rf"|(?P<native2>다섯|여섯|일곱|여덟|아홉|열다섯|스무)\s?(?:명|사람)"
    rf"|(?P<alone>다섯|여섯|일곱|여덟|아홉)이서|(?<![가-힣])(?P<alone2>열|셋|넷|둘)이서)"
)


def people_count(text: str) -> int | None:
    """Largest party size stated ("10명", "다섯 명", "여섯이서", "5인"), else None."""
    best: int | None = None
    for m in _PEOPLE_RE.finditer(text):
        if m.group("num"):
            n = int(m.group("num"))
        else:
            word = m.group("native") or m.group("native2") or m.group("alone") or m.group("alone2")
            n = _NATIVE_COUNT[word]
        if 0 < n < 1000:
            best = n if best is None else max(best, n)
    return best
