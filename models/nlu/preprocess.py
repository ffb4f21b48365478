"""Spec Phase 1: text preprocessing.

``preprocess("배고픈데 5천원밖에 없어")`` →
``Preprocessed(normalized_text="배고픈데 5천원밖에 없어", keywords=["배고프다", "5천원", "없다"],
emotion=Emotion.URGENT, detected_patterns=["budget_constraint", "urgency"])``

Keywords are kiwipiepy morphemes: nouns as they are, verbs and adjectives as lemmas (배고픈데 →
배고프다), money amounts as written. Emotion and patterns are cheap surface cues.
"""

from __future__ import annotations

import re
import threading
import warnings
from dataclasses import dataclass, field

from models.nlu import rules
from models.nlu.amounts import find_amounts
from models.nlu.entities import Extraction, extract
from models.nlu.labels import Emotion, Pattern, Slot
from models.nlu.normalize import extract_emoji, normalize

_kiwi = None
_kiwi_lock = threading.Lock()

_NOUN_TAGS = {"NNG", "NNP", "XR", "SL", "SH"}
_PREDICATE_TAGS = {"VV", "VA", "VV-R", "VA-R", "VV-I", "VA-I", "VX"}
_STOP_LEMMAS = {"하다", "있다", "되다", "보다", "주다", "싶다", "같다", "않다", "이다"}
_STOP_NOUNS = {"거", "것", "수", "데", "곳", "좀", "뭐"}


_UNSPACED_RUN_RE = re.compile(r"[가-힣ㄱ-ㅎ]{8,}")
_STATION_SPLIT_RE = re.compile(r"(?<![가-힣])([가-힣]{2,5}) 역(?=$|[^가-힣]|근처|주변|앞|에)")
SPACING_MAX_CHARS = 300


def fix_spacing(normalized: str) -> str:
    """Korean spacing restored where it was dropped ("강남역근처분식집추천해줘" → "강남역 근처 분식집 추천해 줘").

    Only text with a run of 8+ Hangul syllables and no space is re-spaced (Kiwi, ~0.2 ms), so
    well-spaced text is never rewritten."""
    if len(normalized) > SPACING_MAX_CHARS or not _UNSPACED_RUN_RE.search(normalized):
        return normalized
    spaced = re.sub(r"\s+", " ", get_kiwi().space(normalized)).strip()
    return _STATION_SPLIT_RE.sub(r"\1역", spaced)  # Kiwi splits station names: "사당 역" → "사당역"


def normalize_text(text: str) -> str:
    """The full Phase-1 normalization: ``normalize`` + spacing repair. Training uses it too."""
    return fix_spacing(normalize(text))


def get_kiwi():
    """The process-wide Kiwi analyzer (about a second to build; built once, lazily)."""
    global _kiwi
    if _kiwi is None:
        with _kiwi_lock:
            if _kiwi is None:
                from kiwipiepy import Kiwi  # noqa: PLC0415

                with warnings.catch_warnings():  # 0 means one thread (intended): kiwipiepy warns it changed in 0.21
                    warnings.simplefilter("ignore")
                    _kiwi = Kiwi(num_workers=0)
    return _kiwi


def keywords(text: str, max_keywords: int = 12) -> list[str]:
    """Content words of normalized text: nouns, lemmas of predicates (…다), money amounts."""
    if not text:
        return []
    out: list[str] = []
    money = find_amounts(text)
    money_spans = [(a.start, a.end) for a in money]
    amounts_added = set()
    for tok in get_kiwi().tokenize(text[:500]):
        start, end = tok.start, tok.start + tok.len
        inside = next((a for a in money if a.start <= start < a.end), None)
        if inside is not None:
            if inside.start not in amounts_added:
                amounts_added.add(inside.start)
                out.append(inside.text.replace(" ", ""))
            continue
        if any(s <= start < e for s, e in money_spans):
            continue
        tag = tok.tag
        if tag in _NOUN_TAGS and tok.form not in _STOP_NOUNS:
            out.append(tok.form)
        elif tag in _PREDICATE_TAGS or tag.split("-")[0] in ("VV", "VA"):
            lemma = tok.form + "다"
            if lemma not in _STOP_LEMMAS or tok.form in ("없", "있") and tag == "VA":
                out.append(lemma)
        if len(out) >= max_keywords:
            break
    # keep order, drop duplicates
    seen: set[str] = set()
    return [k for k in out if not (k in seen or seen.add(k))]


_HAPPY_RE = re.compile(r"ㅋㅋ|ㅎㅎ|좋아|신난|행복|최고|기분\s?좋|굿|짱|감사|고마|사랑|ㅎㅇ|:\)|\^\^")
_SAD_RE = re.compile(r"ㅠ|ㅜ|슬퍼|우울|속상|힘들|망했|외로")
_FRUSTRATED_RE = re.compile(r"짜증|화나|열받|빡치|왜\s?이래|별로야|싫어|최악|답답")
_QUESTION_RE = re.compile(r"\?|까$|나요$|니$|어때|있어$|뭐|어디|언제|몇|얼마")
_HAPPY_EMOJI = set("😀😃😄😁😆😊😋😍🥰😘🤗👍🎉❤💕😎🙂")
_SAD_EMOJI = set("😢😭😞😔🥺😿💔😩😫")
_ANGRY_EMOJI = set("😠😡🤬😤")


def emotion_of(text: str, raw: str, extraction: Extraction) -> Emotion:
    if extraction.entities.get(Slot.URGENCY.value) == "high" or rules.EMERGENCY_RE.search(text):
        return Emotion.URGENT
    emoji = "".join(extract_emoji(raw))
    if _FRUSTRATED_RE.search(text) or any(e in _ANGRY_EMOJI for e in emoji):
        return Emotion.FRUSTRATED
    if _SAD_RE.search(text) or any(e in _SAD_EMOJI for e in emoji):
        return Emotion.SAD
    if _HAPPY_RE.search(text) or any(e in _HAPPY_EMOJI for e in emoji):
        return Emotion.HAPPY
    return Emotion.NEUTRAL


def patterns_of(text: str, extraction: Extraction) -> list[str]:
    e = extraction.entities
    found: list[Pattern] = []
    if Slot.BUDGET.value in e or rules.MONEY_CONSTRAINT_RE.search(text):
        found.append(Pattern.BUDGET_CONSTRAINT)
    if e.get(Slot.URGENCY.value) == "high":
        found.append(Pattern.URGENCY)
    if rules.COUPON_RE.search(text):
        found.append(Pattern.COUPON)
    if e.get(Slot.COMPANIONS.value) == "group":
        found.append(Pattern.GROUP)
    if rules.TIME_RE.search(text):
        found.append(Pattern.OPENING_HOURS)
    if Slot.LOCATION_PREFERENCE.value in e or rules.LOCATION_RE.search(text):
        found.append(Pattern.LOCATION)
    if extraction.exclusion:
        found.append(Pattern.EXCLUSION)
    if Slot.FOOD_TYPE.value in e:
        found.append(Pattern.FOOD_MENTION)
    if rules.GREETING_RE.search(text):
        found.append(Pattern.GREETING)
    if _QUESTION_RE.search(text):
        found.append(Pattern.QUESTION)
    return [p.value for p in found]


@dataclass
class Preprocessed:
    raw_text: str
    normalized_text: str
    keywords: list[str] = field(default_factory=list)
    emotion: Emotion = Emotion.NEUTRAL
    detected_patterns: list[str] = field(default_factory=list)
    extraction: Extraction | None = None

    def as_dict(self) -> dict:
        return {"normalized_text": self.normalized_text, "keywords": self.keywords,
                "emotion": self.emotion.value, "detected_patterns": self.detected_patterns}


def preprocess(text: str, *, with_keywords: bool = True) -> Preprocessed:
    """Phase 1 for one utterance (``with_keywords=False`` skips Kiwi: the rule path alone)."""
    plain = normalize(text)
    normalized = fix_spacing(plain)
    extraction = extract(normalized)
    if normalized != plain:
        # re-spacing can split a compound dish ("닭강정" → "닭 강정"): slots only the unspaced text shows are kept
        plain_entities = extract(plain).entities
        for slot, value in plain_entities.items():
            extraction.entities.setdefault(slot, value)
        if "food_type" in plain_entities:  # a dish word is read whole before Kiwi split it ("쌀 국수")
            extraction.entities["food_type"] = plain_entities["food_type"]
    return Preprocessed(
        raw_text=text,
        normalized_text=normalized,
        keywords=keywords(normalized) if with_keywords else [],
        emotion=emotion_of(normalized, text, extraction),
        detected_patterns=patterns_of(normalized, extraction),
        extraction=extraction,
    )
