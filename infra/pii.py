"""Personal data helpers: meal-card numbers are kept only as a keyed hash and the last four digits."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

_DIGITS = re.compile(r"\D")


def normalize_card_number(card_number: str) -> str:
    digits = _DIGITS.sub("", card_number or "")
    if not 12 <= len(digits) <= 19:
        raise ValueError("card number must have 12 to 19 digits")
    return digits


def card_number_hash(card_number: str, key: str, earlier_keys: Sequence[str] = ()) -> str:
    """HMAC-SHA256 of the digits: lookups work, and without the key the hash reveals nothing.

    After key rotations the stored value is an onion: the earliest key hashes the digits, each later
    key hashes the hash before it (``earlier_keys`` oldest first, then ``key``). So a rotation can
    rehash every stored value from the stored values alone (``rehash``), never from card numbers,
    and a leaked old key no longer opens anything: the outer layer needs the current one."""
    value = normalize_card_number(card_number)
    for k in (*earlier_keys, key):
        value = rehash(value, k)
    return value


def rehash(value: str, key: str) -> str:
    """One more layer: the HMAC of a stored hash (or, for the first layer, of the digits)."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def key_fingerprint(key: str, earlier_keys: Sequence[str] = ()) -> str:
    """Names a key chain without revealing it: recorded with the hashes, checked before a rotation."""
    return card_number_hash("0" * 16, key, earlier_keys)[:16]


def card_last4(card_number: str) -> str:
    return normalize_card_number(card_number)[-4:]


# --- free text ----------------------------------------------------------------------------------
# What a child may type that identifies them: redacted before the text is cached, stored, used for
# training or logged. Amounts ("5000원", "1만 2천원") stay: they are what the service needs.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # resident registration number: YYMMDD-NNNNNNN (gender digit 1-8)
    (re.compile(r"(?<!\d)\d{6}\s?-?\s?[1-8]\d{6}(?!\d)"), "[주민번호]"),
    # card-like numbers: 12 to 19 digits, spaces or hyphens between groups
    # (not inside a hex string: a model version or a hash in a log line is not a card; not the
    # fraction of a decimal: "seconds: 363.0123456789012" is a duration)
    (re.compile(r"(?<![0-9A-Za-z])(?<!\d\.)\d(?:[ -]?\d){11,18}(?![0-9A-Za-z])"), "[카드번호]"),
    # mobile and landline numbers, with or without +82 and separators
    (re.compile(r"(?<![\d+])(?:\+?82[ -]?)?0?1[016789][ .-]?\d{3,4}[ .-]?\d{4}(?!\d)"), "[전화번호]"),
    (re.compile(r"(?<!\d)0(?:2|[3-6][1-5])[ .-]\d{3,4}[ .-]\d{4}(?!\d)"), "[전화번호]"),
    # dates with a year (birthdays): 2012-03-04, 2012.3.4, 2012/03/04, 2012년 3월 4일
    (re.compile(r"(?<!\d)(?:19|20)\d{2}\s*(?:[./-]|년)\s*\d{1,2}\s*(?:[./-]|월)\s*\d{1,2}\s*일?(?!\d)"), "[생년월일]"),
    # a birthday said without a year: "생일은 3월 4일", "생일 03/04"
    (re.compile(r"(생일\S{0,3}\s*)\d{1,2}\s*(?:월|[./-])\s*\d{1,2}\s*일?"), r"\1[생년월일]"),
)


def redact_text(text: str, names: tuple[str, ...] | list[str] = ()) -> str:
    """``text`` with card, phone and resident numbers, birthdays and the given ``names`` (the
    user's own, from their profile) replaced by placeholders."""
    if not text:
        return text
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = text.replace(name, "[이름]")
        if len(name) == 3 and "[이름]" not in name:  # a Korean full name: the given name alone too ("하늘")
            text = text.replace(name[1:], "[이름]")
    return text
