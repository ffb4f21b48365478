"""The sample data's shops and menus plus the per-menu ground truth, for the benchmark.

Reads ``sample_data.xlsx`` / ``hidden_truth.json`` from ``settings.sample_dir`` when they exist and
were generated with the requested seed and scale; otherwise draws only the catalogue (shops and
menus) with the generator's own first steps, which is fast (no six-month order simulation) and
yields the same shops, menus and ids as ``infra.sample_data.build(seed, scale)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SHOP_SHEET_COLS = ("id", "shop_name", "category", "address_name", "is_good_influence_shop", "is_food_card_shop",
                   "open_hour", "close_hour", "break_start_hour", "break_end_hour", "phone", "owner_message",
                   "latitude", "longitude")


@dataclass
class SampleCatalog:
    shops: list[dict]
    menus: list[dict]
    truth: dict[int, dict]  # menu id → {dish_type, shop_category, spicy, price, attributes}
    source: str
    seed: int
    scale: float


def _truth_from_json(data: dict) -> dict[int, dict]:
    fields = data.get("menu_fields") or ["dish_type", "shop_category", "spicy", "price"]
    return {int(k): dict(zip(fields, v)) for k, v in data["menus"].items()}


def _clean(value):
    try:
        import math

        if isinstance(value, float) and math.isnan(value):
            return None
    except Exception:  # pragma: no cover
        pass
    return value


def load_from_files(workbook: Path, truth_file: Path) -> SampleCatalog | None:
    if not (workbook.exists() and truth_file.exists()):
        return None
    import pandas as pd

    data = json.loads(truth_file.read_text(encoding="utf-8"))
    shops_df = pd.read_excel(workbook, sheet_name="shops", engine="openpyxl",
                             dtype={"open_hour": str, "close_hour": str, "break_start_hour": str,
                                    "break_end_hour": str, "phone": str})
    menus_df = pd.read_excel(workbook, sheet_name="menus", engine="openpyxl")
    shops = [{k: _clean(v) for k, v in r.items()} for r in shops_df.to_dict("records")]
    menus = [{k: _clean(v) for k, v in r.items()} for r in menus_df.to_dict("records")]
    for s in shops:
        s["current_status"] = "UNKNOWN"
    meta = data.get("meta", {})
    return SampleCatalog(shops, menus, _truth_from_json(data), f"files:{workbook}", int(meta.get("seed", -1)),
                         float(meta.get("scale", -1)))


def generate_catalog(seed: int, scale: float) -> SampleCatalog:
    """Shops, menus and menu truth exactly as ``infra.sample_data.build`` draws them."""
    import numpy as np

    from infra.sample_data import generator, places
    from infra.sample_data.shops import make_shops, neighbourhood_weights

    rng = np.random.default_rng(seed)
    hoods = places.neighbourhoods_in(places.districts_for_scale(scale))
    shops = make_shops(rng, max(20, round(generator.SHOPS_PER_SCALE * scale)), hoods, neighbourhood_weights(rng, hoods))
    shop_rows, menu_rows, truth = [], [], {}
    menu_id = 0
    for s in shops:
        shop_rows.append({
            "id": s.key, "shop_name": s.name, "category": s.category, "address_name": s.address,
            "is_good_influence_shop": s.good, "is_food_card_shop": s.food_card, "open_hour": s.open_hour,
            "close_hour": s.close_hour, "break_start_hour": s.break_start, "break_end_hour": s.break_end,
            "phone": s.phone, "owner_message": s.owner_message, "latitude": s.lat, "longitude": s.lon,
            "current_status": "UNKNOWN",
        })
        for m in s.menus:
            menu_id += 1
            menu_rows.append({"id": menu_id, "shop_id": s.key, "menu_name": m.name, "price": m.price,
                              "description": m.description, "category": m.role, "dietary_tags": None})
            truth[menu_id] = {"dish_type": m.dish_type, "shop_category": s.category, "spicy": int(m.spicy),
                              "price": m.price, "attributes": list(m.attributes)}
    return SampleCatalog(shop_rows, menu_rows, truth, "generator", seed, scale)


def load_catalog(seed: int | None = None, scale: float | None = None) -> SampleCatalog:
    from infra.settings import get_settings

    settings = get_settings()
    seed = settings.sample_seed if seed is None else seed
    scale = settings.sample_scale if scale is None else scale
    from_files = load_from_files(settings.sample_workbook, settings.hidden_truth_file)
    if from_files is not None and from_files.seed == seed and abs(from_files.scale - scale) < 1e-9:
        return from_files
    return generate_catalog(seed, scale)
