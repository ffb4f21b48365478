"""What a query asks of a dish, read from its words: wanted and avoided meaning tags.

The menu side (``meaning``) tags each menu from its own text (soup, noodle, rice, cold, soft,
pork...). This module reads the same tags from a child's request, so a search can tell which hits
answer the need and which only share a word with it:

* **what the food is like**: the request's own words (국물, 시원한, 바삭한, 부드러운, 든든하게);
  a dish it names is left to the search itself (its tags would lift other dishes like it);
* **the situation** (general knowledge, not a list of test phrasings): rain or cold → something
  warm, heat → something cold, a cold or a sore stomach → something soft and not hot, breakfast or
  a quick bite → something light, friends or a party → something to share, after sport → meat,
  a diet → light and not fried, stress → heat;
* **what it rules out**: the words before 말고 / 빼고 / 싫어 / 없는 / 안 들어간, after 안, and
  before 지 않 ("면 말고 밥" avoids noodles, "안 맵고" and "맵지 않은" avoid heat, "고기 없는"
  avoids meat).

``QueryNeed.words`` are the words the menu side (``meaning``) writes into the sparse documents for
the wanted and hinted tags ("따뜻한", "나눠 먹는", "고기"): added to the sparse query, they let a
request that names neither a dish nor a quality ("비 오는 날 먹을 거", "당 충전") reach the menus
that answer it. ``results.arrange`` reranks the pool with ``QueryNeed.factor``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from models.retrieval.meaning import MEANING_WORDS


MEATS = frozenset({"pork", "beef", "chicken"})

# what the request's own words say the food is like: tag group ("any of" its tags) → cue
_QUALITY: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = tuple(
    (frozenset(tags.split()), re.compile(cue)) for tags, cue in (
        ("soup", r"국물|국\b|탕\b|찌개|전골"),
        ("noodle", r"면\b|면(?:으로|이|요리|종류)|국수|누들|면발|면치기"),
        ("rice", r"밥|덮밥|라이스"),
        ("bread", r"빵|토스트|버거|샌드위치"),
        ("fried", r"튀김|튀긴|튀겨|튀기|바삭|기름진"),
        ("grilled", r"구운|구이|구워|숯불|불판|직화"),
        ("cold", r"시원|차가|차갑|차게|얼음|아이스|냉|살얼음"),
        ("warm", r"따뜻|따끈|뜨끈|뜨거|따듯|뜨뜻"),
        ("sweet", r"\b달\b|달달|달콤|단\s?(거|것|게|음|디저트|맛)|달다|당\s?(충전|떨어)|단거"),
        ("spicy", r"매운|매콤|맵|얼큰|칼칼|화끈"),
        ("soft", r"부드러|보들|말랑|순한|촉촉|씹기\s?편|술술"),
        ("hearty", r"든든|배\s?(터지|부르|불러|채우)|푸짐|양\s?많|넉넉"),
        ("light", r"가볍|가벼|간단|간식|출출|후딱|한입|입가심"),
        ("share", r"나눠|나누어|같이\s?먹|여럿|다\s?같이"),
        ("pork beef chicken", r"고기|육류|단백질"),
        ("pork", r"돼지|삼겹|목살|제육"),
        ("beef", r"소고기|쇠고기|한우|불고기"),
        ("chicken", r"닭|치킨"),
        ("seafood", r"해물|해산물|생선|새우|오징어|조개|바다|수산"),
        ("egg", r"계란|달걀|에그"),
        ("tofu", r"두부"),
        ("dairy", r"치즈|우유|크림"),
        ("vegetarian", r"채식|비건|야채|채소|베지"),
    ))

# situations → (wanted tag groups, avoided tags)
_SITUATIONS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(cue), want, avoid) for cue, want, avoid in (
        (r"비\s?(가\s?)?(오|와|온|내리)|비오|장마|빗소리|우중충", "warm", ""),
        (r"추워|추운|춥|겨울|으슬|쌀쌀|몸\s?(을\s?)?녹|얼어", "warm", ""),
        (r"더워|더운|덥|여름|땀|폭염", "cold", ""),
        (r"감기|아파|아플|아픈|몸살|속\s?(이\s?)?(안\s?좋|불편|편한|쓰려)|체했|소화|열\s?나|기운\s?없", "soft", "spicy"),
        (r"아침|등교\s?전|모닝|일어나서", "light", ""),
        (r"쉬는\s?시간|학원\s?가기\s?전|빨리|급하|시간\s?없", "light", ""),
        (r"친구(들)?(이)?(랑|하고|와)|여럿이|파티|모임|단체|생일", "share", ""),
        (r"운동|축구|농구|체육|헬스|근육|야구|태권도", "pork/beef/chicken", ""),
        (r"다이어트|살\s?(안\s?)?(찌|빼|빠)|칼로리|체중", "light", "fried"),
        (r"혼밥|혼자|배고프|배고파|배고픈|허기", "hearty", ""),
        (r"스트레스|화나|열받|빡치|짜증", "spicy", ""),
    ))

# "X 말고", "X 빼고", "X 싫어", "X 없는", "X 안 들어간": X (one or two words before) is avoided
_AVOID_AFTER = re.compile(r"((?:[가-힣A-Za-z]+\s?){1,2}?)\s?(?:말고|빼고|싫|없는|없이|없고|안\s?들어간|제외|못\s?먹|별로|"
                          r"알레르기|알러지)")
_AVOID_NOT = re.compile(r"([가-힣]+)지\s?(?:않|말|마)")  # 맵지 않은, 튀기지 않은, 달지 않게
_AVOID_BEFORE = re.compile(r"(?:\b안|\b덜|\b못)\s?([가-힣]+)")  # 안 매운, 덜 단


@dataclass(frozen=True)
class QueryNeed:
    """Wanted tag groups (each "any of"), avoided tags and the words a situation adds."""

    want: tuple[frozenset[str], ...] = ()
    avoid: frozenset[str] = frozenset()
    words: str = ""
    #: wanted groups only a situation suggests (rain → warm): hints, weighed more lightly
    hints: tuple[frozenset[str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.want or self.avoid or self.hints)

    def key(self) -> str:
        """A stable text of the need, for cache keys."""
        return ";".join(["+".join(sorted(g)) for g in self.want] + ["~" + "+".join(sorted(g)) for g in self.hints]
                        + ["-" + t for t in sorted(self.avoid)])

    def factor(self, tags: frozenset[str] | set[str], *, avoided: float, missed: float, hinted: float) -> float:
        """How much of its score a menu with ``tags`` keeps: ``avoided`` if it has an avoided tag,
        ``missed`` for each wanted group it lacks, ``hinted`` for each hinted one."""
        if tags & self.avoid:
            return avoided
        return (missed ** sum(1 for g in self.want if not tags & g)
                * hinted ** sum(1 for g in self.hints if not tags & g))


def _qualities(text: str) -> list[frozenset[str]]:
    return [g for g, rx in _QUALITY if rx.search(text)]


def _merge(groups: list[frozenset[str]]) -> tuple[frozenset[str], ...]:
    """Distinct groups, a group dropped when a narrower one is inside it (고기 + 돼지 → pork)."""
    out: list[frozenset[str]] = []
    for g in sorted(set(groups), key=len):
        if not any(h <= g for h in out):
            out.append(g)
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def read_need(text: str, *, named: frozenset[str] = frozenset()) -> QueryNeed:
    """The need of a (normalised) query; empty when it asks nothing of what a dish is like.

    ``named``: the dish words the query names. They are not read as qualities (김밥 is not a
    request for 밥, 치즈떡볶이 not one for 치즈), and a query that names a dish gets no situation
    hints ("친구랑 불고기" asks for 불고기, not for something to share)."""
    for word in sorted(named, key=len, reverse=True):
        text = text.replace(word, " ")
    situations = not named
    avoid_spans = [m.group(1) for rx in (_AVOID_AFTER, _AVOID_NOT, _AVOID_BEFORE) for m in rx.finditer(text)]
    avoid: set[str] = set()
    positive = text
    for span in avoid_spans:
        for g in _qualities(span):
            avoid |= g
        positive = positive.replace(span, " ")
    want = [g for g in _qualities(positive) if not g & avoid]
    hints: list[frozenset[str]] = []
    for rx, wanted, avoided in _SITUATIONS if situations else ():
        if rx.search(text):
            hints += [frozenset(group.split("/")) for group in wanted.split()]
            avoid |= set(avoided.split())
    if "vegetarian" in avoid:
        avoid |= MEATS
    if avoid >= MEATS:  # "고기 없는", "고기 빼고": a meatless dish is wanted
        want.append(frozenset({"vegetarian"}))
    groups = _merge([g for g in want if not g <= avoid])
    hinted = tuple(g for g in _merge([g for g in hints if not g <= avoid]) if g not in groups)
    words = dict.fromkeys(w for g in (*groups, *hinted) for w in _words_of(g))
    return QueryNeed(groups, frozenset(avoid), " ".join(words), hinted)

def _words_of(group: frozenset[str]) -> list[str]:
    """The words the menu side writes for every tag of ``group`` (돼지고기/소고기/닭고기 → 고기)."""
    per_tag = [MEANING_WORDS.get(t, "").split() for t in sorted(group)]
    return [w for w in per_tag[0] if all(w in words for words in per_tag[1:])]
