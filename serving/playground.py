"""The chat playground's data: a few sample users and places to pick from a list.

The page itself is static (``serving/static/``: HTML, CSS and one script, no build step) and calls
``/chat`` and ``/feedback`` like any client. Users are shown by id, age group and card balance,
never by name; places are the neighbourhoods with the most shops, at their shops' centre.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")

USERS_SQL = """
select u.id, u.age_group, f.balance, f.status, (select count(*) from user_coupon_wallet w
       where w.user_id = u.id and w.status = 'ACTIVE') as coupons
from users u left join foodcard_users f on f.user_id = u.id
order by (f.status = 'ACTIVE') desc nulls last, u.id
limit 12
"""

PLACES_SQL = """
select split_part(address_name, ' ', 3) as dong, avg(latitude)::float as lat, avg(longitude)::float as lon,
       count(*) as shops
from shops
where address_name is not null and latitude is not null
group by 1 having split_part(address_name, ' ', 3) <> ''
order by shops desc, dong
limit 10
"""


def samples(engine=None) -> dict[str, Any]:
    """``{"users": [...], "places": [...], "api_key": ...}``; the key only where it is public anyway
    (development with the built-in key), so a laptop needs no typing and production leaks nothing."""
    from sqlalchemy import text

    from infra.settings import DEV_API_KEY, get_settings

    settings = get_settings()
    out: dict[str, Any] = {"users": [], "places": [], "api_key": None}
    if not settings.is_production and settings.api_key.get_secret_value() == DEV_API_KEY:
        out["api_key"] = DEV_API_KEY
    try:
        if engine is None:
            from infra.db import get_engine

            engine = get_engine()
        with engine.connect() as conn:
            for r in conn.execute(text(USERS_SQL)).mappings():
                card = (f"급식카드 {r['balance']:,}원" if r["status"] == "ACTIVE" and r["balance"] is not None
                        else "카드 없음")
                out["users"].append({"user_id": str(r["id"]), "label": f"#{r['id']} · {r['age_group'] or '?'} · "
                                                                       f"{card} · 쿠폰 {r['coupons']}장"})
            for r in conn.execute(text(PLACES_SQL)).mappings():
                out["places"].append({"name": r["dong"], "lat": round(r["lat"], 5), "lon": round(r["lon"], 5),
                                      "shops": r["shops"]})
    except Exception as exc:  # the page still works with typed ids and no location
        log.warning("playground samples unavailable (%s)", type(exc).__name__)
    return out
