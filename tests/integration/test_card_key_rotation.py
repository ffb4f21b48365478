"""Rotating the card-hash key: every stored hash is rehashed from the hashes alone, lookups with the
new settings (new key, old one retired into the chain) find the same cards, and a rotation cannot
be applied twice."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from infra.card_keys import rotate, stored_fingerprint
from infra.pii import card_last4, card_number_hash

pytestmark = pytest.mark.integration

CARDS = {1: "9410-1234-5678-0001", 2: "9410 1234 5678 0002"}


def test_rotation_rehashes_without_card_numbers_and_only_once(fresh_engine):
    old, new = "old-key-" + "x" * 30, "new-key-" + "y" * 30
    with fresh_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, name) VALUES (1, 'a'), (2, 'b')"))
        for uid, card in CARDS.items():
            conn.execute(text("INSERT INTO foodcard_users (id, user_id, card_number_hash, card_last4, balance) "
                              "VALUES (:i, :i, :h, :l, 1000)"), {"i": uid, "h": card_number_hash(card, old), "l": card_last4(card)})
    result = rotate(fresh_engine, old, [], new)
    assert result.rows == 2
    with fresh_engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, card_number_hash FROM foodcard_users")).all())
    for uid, card in CARDS.items():
        assert stored[uid] == card_number_hash(card, new, [old])  # what a lookup computes with the new settings
        assert stored[uid] != card_number_hash(card, old) and stored[uid] != card_number_hash(card, new)
    assert stored_fingerprint(fresh_engine) == result.new_fingerprint
    with pytest.raises(ValueError, match="already applied"):
        rotate(fresh_engine, old, [], new)  # the same rotation again
    again = rotate(fresh_engine, new, [old], "third-key-" + "z" * 30)  # the next rotation, with updated settings
    assert again.rows == 2 and again.old_fingerprint == result.new_fingerprint
