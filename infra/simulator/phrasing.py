"""What a simulated child types: a Korean phrasing model of the simulator's own.

Deliberately separate from the NLU's training grammar (``models/nlu/training_data.py``): its own
templates, dish vocabulary, amount spellings and noise, written from how children text rather
than from the label contract, so the loop measures the NLU on phrasings it was not trained on
instead of grading it on its own homework. It never imports the NLU.

``Phraser.opening(want)`` renders a first message from a ``Want`` (hunger, maybe a dish or a
category, maybe a budget, maybe "near here"); ``Phraser.refine(kind)`` renders a follow-up
("더 싼 거", "매운 거 빼고", "다른 데", "더 가까운 데"). Noise is applied per message with
seeded probabilities: spacing errors (spaces dropped or inserted), typos on Hangul syllables
(a dropped 받침, a doubled or swapped syllable), slang and emoticons (ㅠㅠ, ㅋㅋ, ㄱㄱ, 개-),
emoji.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# dishes per shop category, in the words children use (the generator's categories)
DISHES: dict[str, tuple[str, ...]] = {
    "분식": ("떡볶이", "김밥", "라볶이", "순대", "컵떡볶이", "참치김밥", "오뎅", "튀김"),
    "패스트푸드": ("햄버거", "버거", "치즈버거", "감튀", "핫도그"),
    "치킨": ("치킨", "순살치킨", "양념치킨", "닭강정", "치킨너겟"),
    "피자": ("피자", "조각피자", "불고기피자", "치즈피자"),
    "한식": ("국밥", "비빔밥", "김치찌개", "제육덮밥", "돌솥비빔밥", "된장찌개"),
    "중식": ("짜장면", "짬뽕", "탕수육", "볶음밥", "짜장밥"),
    "일식": ("돈까스", "우동", "초밥", "규동", "카츠동"),
    "양식": ("파스타", "스파게티", "오므라이스", "함박"),
    "카페·디저트": ("와플", "빙수", "케이크", "스무디"),
    "베이커리": ("빵", "샌드위치", "크로와상", "소보로빵"),
    "아시안": ("쌀국수", "팟타이", "카레"),
    "도시락·죽": ("도시락", "죽", "컵밥", "한솥 도시락"),
    "고기·구이": ("고기", "삼겹살", "불고기"),
}
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "분식": ("분식",), "중식": ("중국집", "중식"), "일식": ("일식",), "한식": ("한식", "밥집"),
    "카페·디저트": ("디저트", "카페"), "베이커리": ("빵집",), "패스트푸드": ("패스트푸드",),
}

HUNGER = ("배고파", "배고프다", "넘 배고픔", "배고파 죽겠어", "밥 먹어야 되는데", "뭐 먹지", "출출해", "배고팡")
WANT_ENDINGS = ("먹고 싶어", "먹고싶다", "땡긴다", "먹을래", "ㄱㄱ", "먹고 싶은데", "추천해줘", "어디서 먹어?")
BUDGET_FRAMES = ("{amount}밖에 없어", "{amount} 있어", "{amount}으로 먹을 수 있는 거", "{amount} 이하로",
                 "{amount}짜리", "돈 {amount}뿐임")
BUDGET_WITH_DISH = ("{amount}으로 {dish} {end}", "{dish} {end} {amount}밖에 없음", "{amount} 있는데 {dish} {end}",
                    "{dish} {amount} 이하로 {end}")
NEAR = ("근처에", "가까운 데", "집 앞에", "여기 근처")
OPENERS = ("", "", "", "아 ", "엄마 늦게 온대 ", "학원 끝났는데 ", "혼자 있는데 ", "야 ")

REFINEMENTS: dict[str, tuple[str, ...]] = {
    "cheaper": ("더 싼 거", "더 싼 거 없어?", "좀 더 싼 데", "너무 비싸 ㅠ 더 싼 거", "더 저렴한 거", "싼 걸로"),
    "no_spicy": ("매운 거 빼고", "안 매운 걸로", "매운 건 못 먹어 ㅠ", "맵지 않은 거", "매운 거 말고"),
    "other": ("다른 데", "다른 거 없어?", "딴 데는?", "다른 가게", "다른 메뉴"),
    "closer": ("더 가까운 데", "가까운 데로", "더 가까운 곳 없어?"),
}
EMOJI = ("😋", "🥺", "🍕", "🍜", "🍗", "😭", "🙏", "🤤", "🔥")
SLANG_TAILS = ("ㅠㅠ", "ㅋㅋ", "ㅎㅎ", "ㅜ", "!!", "..", "ㅠ")
SINO = ("", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")

# noise rates (per message)
P_SPACING = 0.25
P_TYPO = 0.15
P_SLANG = 0.35
P_EMOJI = 0.2


@dataclass(frozen=True)
class Want:
    """What the child means (what the NLU should recover)."""

    category: str | None = None  # shop category of the dish named, if any
    dish: str | None = None
    budget: int | None = None
    near: bool = False


@dataclass(frozen=True)
class Utterance:
    text: str
    want: Want
    noise: tuple[str, ...]  # which noise was applied (for the agreement report)


def korean_amount(won: int, style: int) -> str:
    """An amount the way children write it: 5000원, 5천원, 오천원, 5천 원, 만원, 6천5백원."""
    thousands, hundreds = divmod(int(won), 1000)
    hundreds //= 100
    if style == 0 or thousands >= 20:
        return f"{won}원"
    if thousands == 10 and not hundreds:
        return "만원" if style % 2 else "만 원"
    if style == 1:
        return f"{thousands}천{f'{hundreds}백' if hundreds else ''}원"
    if style == 2 and thousands < 10:
        return f"{SINO[thousands]}천{f'{SINO[hundreds]}백' if hundreds else ''}원"
    return f"{thousands}천{f'{hundreds}백' if hundreds else ''} 원"


# --- Hangul typos ----------------------------------------------------------------------------
_BASE, _LAST = 0xAC00, 0xD7A3


def _is_syllable(ch: str) -> bool:
    return _BASE <= ord(ch) <= _LAST


def drop_batchim(ch: str) -> str:
    """밥 → 바: a final consonant lost (a common fast-typing miss)."""
    if not _is_syllable(ch):
        return ch
    code = ord(ch) - _BASE
    return chr(_BASE + code - code % 28)


def typo(text: str, rng: np.random.Generator) -> tuple[str, str]:
    """One typo on a Hangul syllable: dropped 받침, doubled syllable or two syllables swapped."""
    positions = [i for i, ch in enumerate(text) if _is_syllable(ch)]
    if len(positions) < 3:
        return text, "none"
    i = positions[int(rng.integers(1, len(positions)))]  # never the first syllable: keep the word findable
    kind = int(rng.integers(0, 3))
    if kind == 0 and (ord(text[i]) - _BASE) % 28:
        return text[:i] + drop_batchim(text[i]) + text[i + 1:], "batchim"
    if kind == 1:
        return text[:i] + text[i] + text[i:], "double"
    j = i - 1
    if _is_syllable(text[j]):
        return text[:j] + text[i] + text[j] + text[i + 1:], "swap"
    return text, "none"


def spacing(text: str, rng: np.random.Generator) -> tuple[str, str]:
    """Spaces dropped (붙여쓰기) or one inserted inside a word."""
    if " " in text and rng.random() < 0.7:
        return text.replace(" ", ""), "no_spaces"
    positions = [i for i in range(1, len(text)) if _is_syllable(text[i - 1]) and _is_syllable(text[i])]
    if not positions:
        return text, "none"
    i = positions[int(rng.integers(0, len(positions)))]
    return text[:i] + " " + text[i:], "extra_space"


class Phraser:
    """Seeded renderer of a child's messages."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def _pick(self, options):
        return options[int(self.rng.integers(0, len(options)))]

    def opening(self, want: Want) -> Utterance:
        parts: list[str] = [self._pick(OPENERS)]
        if want.near:
            parts.append(self._pick(NEAR) + " ")
        amount = korean_amount(want.budget, int(self.rng.integers(0, 4))) if want.budget is not None else None
        if want.dish and amount:
            parts.append(self._pick(BUDGET_WITH_DISH).format(amount=amount, dish=want.dish, end=self._pick(WANT_ENDINGS)))
        elif want.dish:
            parts.append(f"{want.dish} {self._pick(WANT_ENDINGS)}")
        elif amount:
            parts.append(self._pick(BUDGET_FRAMES).format(amount=amount) + " " + self._pick(("뭐 먹지", "먹을 거 추천")))
        elif not want.near:
            parts.append(self._pick(HUNGER))
        else:
            parts.append(self._pick(("뭐 먹지", "먹을 거 추천", "밥 먹을 데", "뭐 먹을까")))
        return self._noisy("".join(parts).strip(), want)

    def refine(self, kind: str) -> Utterance:
        return self._noisy(self._pick(REFINEMENTS[kind]), Want(), typos=False)

    def _noisy(self, text: str, want: Want, typos: bool = True) -> Utterance:
        applied: list[str] = []
        if typos and self.rng.random() < P_TYPO:
            text, kind = typo(text, self.rng)
            applied += [f"typo:{kind}"] if kind != "none" else []
        if self.rng.random() < P_SPACING:
            text, kind = spacing(text, self.rng)
            applied += [f"spacing:{kind}"] if kind != "none" else []
        if self.rng.random() < P_SLANG:
            text += self._pick(SLANG_TAILS)
            applied.append("slang")
        if self.rng.random() < P_EMOJI:
            text += " " + self._pick(EMOJI)
            applied.append("emoji")
        return Utterance(text=text, want=want, noise=tuple(applied))

    def dish_for(self, category: str) -> str:
        words = DISHES.get(category) or CATEGORY_WORDS.get(category) or (category,)
        return self._pick(words)
