"""Platform user ids and the integer ``users.id`` they may name.

The chat side keeps the platform's text id (``VARCHAR(100)``); a platform id names a ``users`` row
only in its one canonical form, the decimal text of the id: "1" is user 1, while "0001", "1.0",
"+1" or "１" are other users who have no ``users`` row. Without one canonical form two platform
users would share one integer key (and the ``users`` mart would get two rows for it). The dbt
macro ``platform_to_user_id`` (dbt_project/macros/math.sql) applies the same pattern.
"""

from __future__ import annotations

import re

MAX_INT32 = 2**31 - 1
#: the canonical decimal text of a positive int4: no sign, no leading zero, ASCII digits only
CANONICAL_USER_KEY = re.compile(r"[1-9][0-9]{0,9}")


def user_key(platform_id: str) -> int | None:
    """``users.id`` named by a platform id, or None when it is not the canonical text of one."""
    if isinstance(platform_id, str) and CANONICAL_USER_KEY.fullmatch(platform_id):
        value = int(platform_id)
        if value <= MAX_INT32:
            return value
    return None
