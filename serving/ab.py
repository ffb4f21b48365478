"""A/B assignment of ranking variants (spec scenario 3).

A user's variant is a stable hash of the user id (salted per experiment): the same user always sees
the same model within an experiment, and a new salt re-draws everyone for the next one.

Two splits, each with its own salt so they are independent: first group B, the LoRA two-tower
recommender (``lora_model``, share ``NAVIYAM_SERVING_LORA_SHARE``) when one is registered; the other
children are group A, Wide&Deep, split again between its ``champion`` and a ``challenger`` when a
retrain registered one.
"""

from __future__ import annotations

import hashlib

from infra.vocabulary import CHALLENGER, CHAMPION, LORA_VARIANT

DEFAULT_SALT = "ranking-ab-1"
LORA_SALT = "lora-ab-1"
DEFAULT_CHALLENGER_SHARE = 0.5


def bucket(user_id: str, salt: str = DEFAULT_SALT, buckets: int = 10_000) -> int:
    digest = hashlib.sha256(f"{salt}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % buckets


def assign_variant(user_id: str, *, challenger_share: float = DEFAULT_CHALLENGER_SHARE,
                   salt: str = DEFAULT_SALT, challenger_available: bool = True, lora_share: float = 0.0,
                   lora_available: bool = False) -> str:
    """``lora_model`` (group B), else ``champion`` or ``challenger``; the champion whenever neither
    other arm has a model."""
    if lora_available and lora_share > 0 and bucket(user_id, LORA_SALT) < lora_share * 10_000:
        return LORA_VARIANT
    if not challenger_available or challenger_share <= 0:
        return CHAMPION
    return CHALLENGER if bucket(user_id, salt) < challenger_share * 10_000 else CHAMPION
