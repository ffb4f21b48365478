"""Text normalization (spec Phase 1, step 2): the canonical form every later step and the cache see.

Pure functions, no model: full-width characters to ASCII, emoji out (kept aside as an emotion cue),
runs of repeated characters shortened (ㅋㅋㅋㅋ → ㅋㅋ, !!! → !, 배고파아아 → 배고파),
Latin lower-cased, whitespace collapsed. Korean spacing is *not* rewritten here: the rules match
with optional spaces instead, which is cheaper and never invents a wrong split.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 2000  # longer input is cut here; see parser.MAX_INPUT_CHARS for the hard limit

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space
_FULLWIDTH.update({0x2018: 0x27, 0x2019: 0x27, 0x201C: 0x22, 0x201D: 0x22, 0xFF5E: 0x7E})

_EMOJI_RE = re.compile(
    "["
    "\U0001F000-\U0001FAFF"  # pictographs, emoticons, transport, supplemental symbols
    "\U00002600-\U000027BF"  # misc symbols, dingbats
    "\U0001F1E6-\U0001F1FF"  # flags
    "\U00002B00-\U00002BFF"  # arrows, stars
    "\u2300-\u23FF"          # technical (⌛ ⏰)
    "\uFE0F\u200D\u20E3"     # variation selector, zero-width joiner, keycap
    "\u2764\u2665\u2661"     # hearts
    "]+"
)
# emoticons written with characters: kept in the text, but read as emotion cues
_CONTROL_RE = re.compile(r"[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B\u200C\u2060\uFEFF]")
_SPACE_RE = re.compile(r"\s+")
_REPEAT_PUNCT_RE = re.compile(r"([!?.~,^;])\1+")
_REPEAT_JAMO_RE = re.compile(r"([ㄱ-ㅎㅏ-ㅣ])\1{2,}")
_REPEAT_SYLLABLE_RE = re.compile(r"([가-힣])\1{2,}")

_HANGUL_BASE = 0xAC00


def _vowel_of(syllable: str) -> int | None:
    """(medial vowel index, has no final consonant) of a Hangul syllable, else None."""
    code = ord(syllable) - _HANGUL_BASE
    if not 0 <= code < 11172:
        return None
    if code % 28:  # has a final consonant
        return None
    return (code // 28) % 21


_ELONGATION = {_vowel_of(ch): ch for ch in "아어오우으이애에여요"}


def _strip_elongation(text: str) -> str:
    """배고파아아 → 배고파, 좋아아 → 좋아: drop ㅇ+same-vowel syllables that only stretch a word end."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        out.append(ch)
        vowel = _vowel_of(ch)
        stretch = _ELONGATION.get(vowel) if vowel is not None else None
        if stretch:
            j = i + 1
            while j < n and text[j] == stretch:
                j += 1
            # only at a word end (space, punctuation or end of text), so 나아가다 survives
            if j > i + 1 and (j == n or not ("가" <= text[j] <= "힣")):
                i = j
                continue
        i += 1
    return "".join(out)


def extract_emoji(text: str) -> list[str]:
    return _EMOJI_RE.findall(text)


def normalize(text: str) -> str:
    """The canonical text: what the rules read and what the cache is keyed on."""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_FULLWIDTH)
    text = _CONTROL_RE.sub("", text)
    text = _EMOJI_RE.sub(" ", text)
    text = text[:MAX_CHARS]
    text = text.lower()
    text = _REPEAT_PUNCT_RE.sub(r"\1", text)
    text = _REPEAT_JAMO_RE.sub(r"\1\1", text)
    text = _REPEAT_SYLLABLE_RE.sub(r"\1", text)
    text = _strip_elongation(text)
    text = _SPACE_RE.sub(" ", text).strip()
    return text


def has_content(normalized: str) -> bool:
    """False for text with nothing to read: empty, punctuation only, emoji only."""
    return any(ch.isalnum() for ch in normalized)
