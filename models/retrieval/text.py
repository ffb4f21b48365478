"""Query text rules: validation, normalisation, truncation, cache keys, money amounts."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

#: Longest query the retriever reads. A longer one is cut (at the last space before the limit when
#: there is one) rather than refused: chat users paste long messages and the first sentences carry
#: the request. The cut text is what is embedded, searched and cached.
MAX_QUERY_CHARS = 256


class EmptyQueryError(ValueError):
    """The query has no searchable characters (empty, whitespace or punctuation only)."""


_SPACE = re.compile(r"\s+")
_HAS_WORD = re.compile(r"[0-9A-Za-z\uac00-\ud7a3\u3131-\u318e\u4e00-\u9fff]")


def normalize_query(text: str | None) -> str:
    """NFKC, control characters dropped, runs of whitespace collapsed, Latin lower-cased, cut to
    ``MAX_QUERY_CHARS``. Raises ``EmptyQueryError`` when nothing searchable is left."""
    if text is None:
        raise EmptyQueryError("query is empty")
    text = unicodedata.normalize("NFKC", str(text))
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _SPACE.sub(" ", text).strip().lower()
    if not _HAS_WORD.search(text):
        raise EmptyQueryError("query is empty (no letters or digits)")
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        space = cut.rfind(" ")
        text = cut[:space] if space > MAX_QUERY_CHARS // 2 else cut
    return text


def sha256_hex(*parts: str) -> str:
    digest = hashlib.sha256()
    for i, part in enumerate(parts):
        if i:
            digest.update(b"\x1f")
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


# --- money amounts ---------------------------------------------------------------------------------
_NUM_WORDS = {"한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9,
              "일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_AMOUNT = re.compile(
    r"(?:(?P<man>\d+(?:\.\d+)?|[일이삼사오육칠팔구])?\s*만\s*)?"
    r"(?:(?P<cheon>\d+|[일이삼사오육칠팔구])?\s*천\s*)?"
    r"(?P<won>\d{1,3}(?:,\d{3})+|\d+)?\s*원"
)


def extract_budget(text: str) -> int | None:
    """The first money amount in ``text`` in won: 5천원, 오천원, 5,000원, 5000원 → 5000; 만원 → 10000;
    1만5천원, 만 오천원 → 15000. None when the text names no amount."""
    text = unicodedata.normalize("NFKC", text)
    for m in _AMOUNT.finditer(text):
        whole = m.group(0)
        if not any(ch in whole for ch in "만천") and not m.group("won"):
            continue  # a bare "원"
        value = 0.0
        if "만" in whole:
            man = m.group("man")
            value += (float(man) if man and man[0].isdigit() else _NUM_WORDS.get(man or "", 1)) * 10000
        if "천" in whole:
            cheon = m.group("cheon")
            value += (int(cheon) if cheon and cheon.isdigit() else _NUM_WORDS.get(cheon or "", 1)) * 1000
        if m.group("won"):
            value += int(m.group("won").replace(",", ""))
        if value > 0:
            return int(value)
    return None


def hangul_parts(ch: str) -> tuple[int, int, int] | None:
    """(initial, medial, final) indices of a precomposed Hangul syllable (final 0 = none), or None
    for any other character. The one place the spelling-tolerant keys decompose a syllable."""
    code = ord(ch) - 0xAC00
    if not 0 <= code < 11172:
        return None
    cho, rest = divmod(code, 588)
    jung, jong = divmod(rest, 28)
    return cho, jung, jong
