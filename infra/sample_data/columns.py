"""The sheet → column contract of ``sample_data.xlsx``.

The ingest imports this module instead of repeating column names, so the generator and the
loader cannot drift apart. Order matters: it is the order of the header row in each sheet.

Cell types written by the generator (what ``openpyxl`` / ``pandas.read_excel`` give back):

* ids: int, except ``coupons.id`` / ``user_coupon_wallet.coupon_id`` (str, e.g. ``'FOOD10'``)
* ``shops.is_good_influence_shop``: bool
* hours: str ``'HH:MM'`` (00:00–23:59); ``close_hour < open_hour`` means the shop closes
  after midnight; ``open_hour == close_hour`` means open around the clock; break columns
  are both empty or both set
* ``users.birthday``, ``coupons.valid_from/valid_until``: date cells (read back as datetime
  at midnight by pandas)
* ``product_orders.created_at`` and the wallet timestamps: naive datetimes in local
  Asia/Seoul time (attach the zone on ingest)
* JSON columns (``target_categories``, ``applicable_shops``, ``acquisition_context``):
  ``json.dumps(..., ensure_ascii=False)`` strings, or empty
* money: int won; ``coupons.discount_rate``: float in (0, 1]
* integer columns that may be empty (``coupons.discount_amount``, the wallet's ``used_*`` and
  ``discount_applied``) come back from ``pandas.read_excel`` as float64 with NaN
* ``product_orders.price`` = menu price × quantity − the coupon discount (the wallet row of a
  used coupon matches its order on user_id, usage_date = created_at and used_menu_id =
  product_id; ``used_order_amount`` is the pre-discount amount)
"""

from __future__ import annotations

# The shop categories, menu roles and meal-card flags are product vocabulary (infra.vocabulary).
from infra.vocabulary import CATEGORIES as CATEGORIES
from infra.vocabulary import FOOD_CARD_FLAGS as FOOD_CARD_FLAGS
from infra.vocabulary import MENU_ROLES as MENU_CATEGORIES

SHEETS: dict[str, tuple[str, ...]] = {
    "shops": (
        "id", "shop_name", "category", "address_name", "is_good_influence_shop",
        "is_food_card_shop", "open_hour", "close_hour", "break_start_hour", "break_end_hour",
        "phone", "owner_message", "latitude", "longitude",
    ),
    "menus": ("id", "shop_id", "menu_name", "price", "description", "category"),
    "coupons": (
        "id", "coupon_name", "description", "discount_amount", "discount_rate",
        "min_order_amount", "usage_type", "target_categories", "applicable_shops",
        "valid_from", "valid_until",
    ),
    "users": ("id", "name", "nickname", "birthday", "current_address"),
    "foodcard_users": ("id", "user_id", "card_number", "balance", "status"),
    "product_orders": ("id", "user_id", "product_id", "created_at", "quantity", "price"),
    "user_coupon_wallet": (
        "id", "user_id", "coupon_id", "acquired_date", "expiry_date", "usage_date", "status",
        "used_shop_id", "used_menu_id", "used_order_amount", "discount_applied",
        "acquisition_source", "acquisition_context",
    ),
}

CARD_STATUSES: tuple[str, ...] = ("ACTIVE", "INACTIVE", "SUSPENDED", "EXPIRED")
COUPON_USAGE_TYPES: tuple[str, ...] = ("ALL", "SHOP", "CATEGORY", "FOODCARD")
WALLET_STATUSES: tuple[str, ...] = ("ACTIVE", "USED", "EXPIRED")

#: Coupon the online service hands to a meal-card user whose balance runs out near month end.
EMERGENCY_COUPON_ID = "EMERGENCY_ASSIST"

#: Bounding box used to validate coordinates (mainland Korea, Jeju and the islands).
KOREA_LAT = (33.0, 38.7)
KOREA_LON = (124.5, 131.0)
