"""Personal data helpers: meal-card numbers are kept only as a keyed hash and the last four digits."""

from __future__ import annotations

import hashlib
import hmac
import re

_DIGITS = re.compile(r"\D")


def normalize_card_number(card_number: str) -> str:
    digits = _DIGITS.sub("", card_number or "")
    if not 12 <= len(digits) <= 19:
        raise ValueError("card number must have 12 to 19 digits")
    return digits


def card_number_hash(card_number: str, key: str) -> str:
    """HMAC-SHA256 of the digits: lookups work, and without the key the hash reveals nothing."""
    return hmac.new(key.encode(), normalize_card_number(card_number).encode(), hashlib.sha256).hexdigest()


def card_last4(card_number: str) -> str:
    return normalize_card_number(card_number)[-4:]
