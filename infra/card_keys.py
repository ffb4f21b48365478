"""Rotating the meal-card hash key without ever seeing a card number.

``foodcard_users.card_number_hash`` holds HMAC layers (``infra.pii.card_number_hash``): rotation
adds one, ``new = HMAC(new_key, stored)``, for every row in one transaction, and records the new
chain's fingerprint as the column's comment, so a rotation is applied exactly once (a second run
with the same keys, or a run whose settings do not match the stored chain, is refused).
After it, set ``NAVIYAM_CARD_HASH_KEY`` to the new key and append the old one to
``NAVIYAM_CARD_HASH_EARLIER_KEYS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine, text

from infra.pii import key_fingerprint, rehash

log = logging.getLogger(__name__)

COMMENT_PREFIX = "card-hash-chain:"


@dataclass
class Rotation:
    rows: int
    old_fingerprint: str
    new_fingerprint: str


def stored_fingerprint(engine: Engine) -> str | None:
    """The fingerprint of the key chain the stored hashes were made with (None before any rotation)."""
    with engine.connect() as conn:
        return stored_fingerprint_in(conn)


def rotate(engine: Engine, current_key: str, earlier_keys: list[str], new_key: str) -> Rotation:
    """Add ``new_key`` as the outer layer of every stored card hash (one transaction)."""
    if not new_key or new_key == current_key or new_key in earlier_keys:
        raise ValueError("the new key must be set and differ from every key in use")
    old_fp = key_fingerprint(current_key, earlier_keys)
    new_fp = key_fingerprint(new_key, [*earlier_keys, current_key])
    with engine.begin() as conn:
        conn.execute(text("LOCK TABLE foodcard_users IN SHARE ROW EXCLUSIVE MODE"))  # no ingest meanwhile
        stored = stored_fingerprint_in(conn)
        if stored is not None and stored != old_fp:
            raise ValueError("the stored hashes were not made with the configured keys "
                             f"(stored chain {stored}, settings {old_fp}): was this rotation already applied?")
        rows = conn.execute(text("SELECT id, card_number_hash FROM foodcard_users WHERE card_number_hash IS NOT NULL")).all()
        if rows:
            conn.execute(text("UPDATE foodcard_users SET card_number_hash = :h WHERE id = :id"),
                         [{"id": r[0], "h": rehash(r[1].strip(), new_key)} for r in rows])
        conn.execute(text(f"COMMENT ON COLUMN foodcard_users.card_number_hash IS '{COMMENT_PREFIX}{new_fp}'"))
    log.info("card hash key rotated: %d rows rehashed", len(rows))
    return Rotation(rows=len(rows), old_fingerprint=old_fp, new_fingerprint=new_fp)


def stored_fingerprint_in(conn) -> str | None:
    comment = conn.execute(text(
        "SELECT col_description('foodcard_users'::regclass, a.attnum) FROM pg_attribute a "
        "WHERE a.attrelid = 'foodcard_users'::regclass AND a.attname = 'card_number_hash'")).scalar()
    return comment[len(COMMENT_PREFIX):] if comment and comment.startswith(COMMENT_PREFIX) else None
