"""Hand-made feature history for the Feast tests: rows whose validity times each test knows."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd


def user_row(ts: pd.Timestamp, total: float, share_top: int, user_id: int = 7) -> dict:
    """One nightly user row; all of the user's visits in category index ``share_top``."""
    share = np.zeros(13)
    share[share_top] = 1.0
    return {"user_id": user_id, "event_timestamp": ts, "total_orders": total, "avg_order_value": 6000.0,
            "order_frequency": 4.0, "favorite_count": 1.0, "category_diversity": 0.0, "shop_loyalty": 0.5,
            "loc_lat": 37.5, "loc_lon": 127.0, "is_foodcard": 1.0, "segment": "teen",
            "category_share": share, "slot_share": np.array([0.0, 1.0, 0.0, 0.0]), "recent_shop_ids": [1]}


def two_shops() -> dict[str, pd.DataFrame]:
    """Raw ``shops`` and ``menus`` of a 분식 meal-card shop (1) and a 치킨 shop without the card (2)."""
    return {
        "shops": pd.DataFrame({"id": [1, 2], "category": ["분식", "치킨"], "is_food_card_shop": ["Y", "N"],
                               "is_good_influence_shop": [False, True], "latitude": [37.5, 37.51],
                               "longitude": [127.0, 127.01]}),
        "menus": pd.DataFrame({"id": [11, 21], "shop_id": [1, 2], "price": [5000, 18000],
                               "category": ["메인메뉴"] * 2}),
    }


def applied_store(settings, snapshots, database: str, registry_dir):
    """Load ``snapshots`` into the tables the views read and ``feast apply`` in a project of its own."""
    from feature_repo.config import get_feature_store
    from feature_repo.history import load_feature_history
    from feature_repo.materialize import apply_feature_store

    load_feature_history(settings, snapshots, database=database)
    store = get_feature_store(settings, project=f"t_{uuid.uuid4().hex[:10]}", database=database,
                              registry_path=registry_dir / "registry.db")
    apply_feature_store(store=store)
    return store
