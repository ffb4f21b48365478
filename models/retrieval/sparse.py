"""Sparse lexical vectors from Korean morphemes (kiwipiepy), BM25-style.

A text becomes terms:

* ``N:<form>`` for each content morpheme (general/proper nouns, roots, foreign words),
* ``P:<key>`` for the same nouns spelled loosely: tense consonants folded to plain ones and
  ㅔ/ㅐ merged, so 떡뽁이/떡볶이, 돈까스/돈가스, 짜장면/자장면, 찌게/찌개 share a term,
* ``V:<stem>`` for verb/adjective stems that carry meaning (맵다, 달다, 굽다; not 먹다/싶다).

Particles, endings, numbers and currency words are dropped (budgets are filters, not words).
Terms hash to u32 indices (CRC-32). Documents carry the BM25 term-frequency part
``tf·(k1+1) / (tf + k1·(1-b+b·dl/avgdl))``; queries carry 1.0 per distinct term. The IDF part is
applied by Qdrant itself (sparse vector with ``modifier=IDF``), so it follows the live corpus.

Kiwi takes ~1-2 s to load and its first analysis another ~2 s: ``get_kiwi()`` loads once per
process, ``warm_up()`` pays both costs up front.
"""

from __future__ import annotations

import functools
import re
import threading
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from models.retrieval.text import hangul_parts

K1 = 1.2
B = 0.75

_NOUN_TAGS = {"NNG", "NNP", "SL", "SH", "XR"}
_STEM_TAGS = {"VA", "VV", "VA-I", "VV-I", "VA-R", "VV-R"}
# conversational nouns and stems that say nothing about the food (a menu called "점심 정식" must not
# win every "점심으로 ..." query)
STOP_NOUNS = {
    "것", "거", "곳", "집", "데", "뭐", "이하", "이상", "이내", "정도", "가격", "원", "천", "만", "메뉴",
    "음식", "요리", "추천", "식당", "가게", "요", "좀", "때", "쪽", "근처", "주변", "지금", "오늘", "내일",
    "하나", "점심", "저녁", "아침", "끼", "끼니", "친구", "친구들", "엄마", "아빠", "가족", "동생", "학교",
    "학원", "혼자", "혼밥", "배", "생각", "기분", "맛", "맛집", "돈", "용돈", "카드", "급식카드", "안쪽", "밖",
    "다음", "이번", "우리", "나", "너", "사람", "명", "개", "인분",
}
_STOP_STEMS = {"먹", "싶", "있", "없", "하", "되", "주", "가", "오", "알", "보", "좋", "같", "어떻", "그렇",
               "이렇", "시키", "사", "드시", "드리", "추천하", "찾", "파", "알리", "땡기", "당기", "맛있",
               "배고프", "고프", "갈", "모르", "빼", "말", "어떡하", "만들", "주문하", "원하", "괜찮",
               "들어가", "싫"}

# well-known alternative names (query side): the catalogue's usual word is searched as well. Only
# real other names live here (오뎅 = 어묵, 스시 = 초밥); misspellings are the speller's job
# (``spelling``: jamo edit distance against the index's own words), never a list.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "오뎅": ("어묵",), "스시": ("초밥",), "통닭": ("치킨",), "달걀": ("계란",), "달걀말이": ("계란말이",),
    "돈카츠": ("돈까스",), "돈가츠": ("돈까스",), "카츠": ("돈까스",), "스파게티": ("파스타",),
    "햄버거": ("버거",), "아메리카노": ("커피",), "짜장": ("짜장면",), "부침개": ("전",), "중국집": ("중식",),
    "중국": ("중식",), "일본": ("일식",), "고깃집": ("고기", "구이"), "빵집": ("빵", "베이커리"),
    "분식집": ("분식",), "치킨집": ("치킨",), "피자집": ("피자",), "동남아": ("아시안",),
    "베트남": ("쌀국수", "아시안"), "태국": ("아시안",), "쏘야": ("소시지",), "떡꼬치": ("떡볶이",),
    "밀크티": ("버블티",), "커리": ("카레",), "카레": ("커리",), "제육": ("제육볶음",), "냉모밀": ("모밀",),
    "소바": ("모밀",), "라볶이": ("떡볶이",), "버블티": ("밀크티",), "디저트": ("카페",), "빙수": ("팥빙수",),
    "쉐이크": ("셰이크",),
}

# "면 말고 밥", "고기 빼고", "빵은 싫고": the word before an exclusion is not searched for
_EXCLUDED = re.compile(r"([가-힣]+?)(?:은|는|이|가|을|를|도)?\s?(?:말고|빼고|싫|없는|없이|안\s?들어간|제외)")

# "안 매운", "맵지 않은", "매운 거 빼고": the heat words must not be searched for
_SPICY_STEMS = {"맵", "매콤하", "얼큰하", "칼칼하", "화끈하"}
_NOT_SPICY = re.compile(r"(안|못|덜)\s?(맵|매운|매콤|얼큰)|맵지\s?않|매운\s?(거|것|건)?\s?(빼|말고|못|싫)|순한")

# tense → plain initial consonants (choseong indexes), and final-consonant folds (jongseong)
# tense and aspirated → plain initial consonants: ㄲㅋ→ㄱ ㄸㅌ→ㄷ ㅃㅍ→ㅂ ㅆ→ㅅ ㅉㅊ→ㅈ
_CHO_FOLD = {1: 0, 15: 0, 4: 3, 16: 3, 8: 7, 17: 7, 10: 9, 13: 12, 14: 12}
_JUNG_FOLD = {5: 1, 7: 3}  # ㅔ→ㅐ ㅖ→ㅒ
_JONG_FOLD = {2: 1, 20: 19, 3: 1, 24: 1, 25: 7, 23: 22}  # ㄲ→ㄱ ㅆ→ㅅ ㄳ→ㄱ ㅋ→ㄱ ㅌ→ㄷ ㅊ→ㅈ


def loose_key(word: str) -> str:
    """A spelling-insensitive key of a Korean word (see the module doc)."""
    out = []
    for ch in word:
        parts = hangul_parts(ch)
        if parts is not None:
            cho, jung, jong = parts
            cho = _CHO_FOLD.get(cho, cho)
            jung = _JUNG_FOLD.get(jung, jung)
            jong = _JONG_FOLD.get(jong, jong)
            out.append(chr(0xAC00 + cho * 588 + jung * 28 + jong))
        else:
            out.append(ch)
    return "".join(out)


_kiwi = None
_kiwi_lock = threading.Lock()


def get_kiwi():
    """The process-wide Kiwi analyser (loaded and warmed on first use)."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi

                kiwi = Kiwi(num_workers=-1)
                kiwi.tokenize("떡볶이를 먹고 싶어요")  # the first analysis builds lazy tables (~2 s)
                _kiwi = kiwi
    return _kiwi


def warm_up() -> None:
    get_kiwi()


# Kiwi scores a noun its dictionary holds above about -13 (운동 -8.8, 몸살 -12.5, 생일 -10.7) and one
# it guesses below about -16 (짜장멘 -27.8, 감튀 -16.7): the line between a word and a misspelling
DICTIONARY_WORD_SCORE = -14.0
_FUNCTION_TAGS = ("J", "E", "XS", "VCP", "VCN", "VX", "NNB", "S")
_PREDICATE_TAGS = {"VV", "VA", "XR", "MAG", "MM"}


@functools.lru_cache(maxsize=20_000)
def reads_as_korean(word: str) -> bool:
    """Whether Kiwi reads ``word`` as ordinary Korean rather than a misspelling: one noun its
    dictionary holds, with particles ("운동", "닭으로"), or a verb or adjective form with no noun
    ("튀긴", "바삭하게", "땡겨"). A misspelt dish is a guessed noun ("짜장멘") or a noun run into
    other pieces ("삼결살" = 삼 + 결 + 살, "된장찌게" = 된장 + 찌 + 게), and stays correctable."""
    tokens = get_kiwi().tokenize(word)
    content = [t for t in tokens if not t.tag.startswith(_FUNCTION_TAGS)]
    nouns = [t for t in content if t.tag in ("NNG", "NNP")]
    if nouns:
        return len(content) == 1 and nouns[0].score >= DICTIONARY_WORD_SCORE
    return bool(content) and all(t.tag.split("-")[0] in _PREDICATE_TAGS for t in content)


def term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8")) & 0xFFFFFFFF


def _content_terms(tokens) -> tuple[list[str], list[tuple[int, int]]]:
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for token in tokens:
        form, tag = token.form, token.tag
        if tag in _NOUN_TAGS:
            form = form.lower()
            spans.append((token.start, token.start + token.len))
            if form in STOP_NOUNS or (len(form) < 2 and tag == "SL"):
                continue
            out.append("N:" + form)
            out.append("P:" + loose_key(form))
        elif tag in _STEM_TAGS:
            spans.append((token.start, token.start + token.len))
            if form in _STOP_STEMS:
                continue
            out.append("V:" + form)
    return out, spans


_EOJEOL = re.compile(r"[가-힣]{2,}")


def terms(text: str) -> list[str]:
    """The lexical terms of ``text``, in order, with repeats.

    A word the sentence analysis read as function morphemes only (Kiwi takes "라면" in "매운 거 빼고
    라면" for the ending -라면) is analysed again on its own."""
    if not text or not text.strip():
        return []
    kiwi = get_kiwi()
    return _terms_of(kiwi, text, kiwi.tokenize(text))


def terms_many(texts: Sequence[str]) -> list[list[str]]:
    """``terms`` of each of ``texts``: each distinct text analysed once, all of them in one call of
    Kiwi's batch mode (an index build's 30k documents: a few seconds instead of ~25 one by one)."""
    distinct = list(dict.fromkeys(t for t in texts if t and t.strip()))
    kiwi = get_kiwi()
    # the words read again on their own are few and repeat across documents (바삭한, 듬뿍, 제일: 44
    # distinct words for 21,278 re-readings in a scale-1 build), so each is analysed once
    words: dict[str, list[str]] = {}
    found = {text: _terms_of(kiwi, text, tokens, words) for text, tokens in zip(distinct, kiwi.tokenize(distinct))}
    return [found.get(t, []) for t in texts]


def terms_of_parts(documents: Sequence[Sequence[str]]) -> list[list[str]]:
    """The terms of documents given as independent parts (``Doc.lexical_parts``): each part's terms,
    in order. Parts repeat across documents where whole texts do not (a menu's dish words and its
    shop's name: ~4,400 distinct parts for ~24,700 distinct menu texts), so one batch over the
    distinct parts analyses a fifth of the text."""
    flat = [part for doc in documents for part in doc]
    per_part = iter(terms_many(flat))
    return [[t for _ in doc for t in next(per_part)] for doc in documents]


def _terms_of(kiwi, text: str, tokens, words: dict[str, list[str]] | None = None) -> list[str]:
    out, spans = _content_terms(tokens)
    for m in _EOJEOL.finditer(text):
        if any(a < m.end() and b > m.start() for a, b in spans):
            continue
        word = m.group(0)
        if words is None or word not in words:
            again, _ = _content_terms(kiwi.tokenize(word))
            if words is None:
                out.extend(again)
                continue
            words[word] = again
        out.extend(words[word])
    return out


@dataclass(frozen=True)
class SparseVec:
    indices: list[int]
    values: list[float]

    def is_empty(self) -> bool:
        return not self.indices

    def to_dict(self) -> dict:
        return {"indices": self.indices, "values": self.values}


def _vector(weights: dict[int, float]) -> SparseVec:
    items = sorted(weights.items())
    return SparseVec([i for i, _ in items], [round(float(v), 5) for _, v in items])


def document_length(text: str) -> int:
    return sum(1 for t in terms(text) if not t.startswith("P:"))


def encode_document(text: str | list[str], avgdl: float) -> SparseVec:
    """BM25 term-frequency weights of a document (``avgdl``: mean ``document_length`` of the corpus).
    ``text`` may be the document's ``terms`` already computed."""
    toks = terms(text) if isinstance(text, str) else text
    counts = Counter(toks)
    dl = sum(1 for t in toks if not t.startswith("P:"))
    norm = K1 * (1 - B + B * dl / max(avgdl, 1.0))
    weights: dict[int, float] = {}
    for term, tf in counts.items():
        idx = term_index(term)
        weights[idx] = weights.get(idx, 0.0) + tf * (K1 + 1) / (tf + norm)
    return _vector(weights)


def excluded_words(text: str) -> set[str]:
    """Nouns the query excludes: "면 말고 밥" → {면}, "고기 안 들어간 거" → {고기}."""
    return {m.group(1) for m in _EXCLUDED.finditer(text)}


def _wanted_terms(text: str) -> list[str]:
    """``terms`` minus heat words the query negates ("안 매운", "매운 거 빼고") and nouns it excludes."""
    return list(_wanted_terms_of(text))


@functools.lru_cache(maxsize=4096)
def _wanted_terms_of(text: str) -> tuple[str, ...]:
    # one analysis per query text: a turn searches the same text several times (the dense form, the
    # sparse vector, and each relaxation when nothing fits), and popular phrasings recur
    out = terms(text)
    if _NOT_SPICY.search(text):
        out = [t for t in out if not (t.startswith("V:") and t[2:] in _SPICY_STEMS)]
    excluded = excluded_words(text)
    if excluded:
        keys = {loose_key(w) for w in excluded}
        out = [t for t in out if not ((t.startswith("N:") and t[2:] in excluded)
                                      or (t.startswith("P:") and t[2:] in keys))]
    return tuple(out)


def dense_query(text: str) -> str:
    """What the dense embedding of a query reads: its content words, without the chat around them.

    "떡볶이 먹고 싶은데 5천원밖에 없어" → "떡볶이", "안 매운 국밥 있어?" → "국밥": nouns and meaningful
    stems (as 맵다) in order, the stop words, amounts and negated heat words of ``terms`` left out;
    the whole text when nothing is left ("뭐 먹지"). e5 costs ~1 ms per token here, so the short
    form embeds in about two thirds of the time; it ranks better on its own (the sentence's "먹고
    싶어" and a negated "매운" pull towards unrelated menus: dense MRR@10 0.739 → 0.798 on the 238
    evaluation queries, hybrid unchanged at 0.88); and many phrasings of one request share one
    cached vector and one cached result."""
    words: list[str] = []
    for t in _wanted_terms(text):
        word = t[2:] if t.startswith("N:") else t[2:] + "다" if t.startswith("V:") else None
        if word and word not in words:
            words.append(word)
    return " ".join(words) or text


def query_terms(text: str) -> list[str]:
    """``terms`` plus synonyms of the query's nouns, minus heat words the query negates."""
    out = _wanted_terms(text)
    extra: list[str] = []
    for t in out:
        if t.startswith("N:"):
            for syn in SYNONYMS.get(t[2:], ()):
                extra += ["N:" + syn, "P:" + loose_key(syn)]
    return out + extra


def encode_query(text: str) -> SparseVec:
    """1.0 per distinct query term (Qdrant multiplies by IDF)."""
    return _vector({term_index(t): 1.0 for t in query_terms(text)})
