"""Reading and writing ``sample_data.xlsx``, and spoiling a copy on purpose for tests.

Writing uses openpyxl's write-only mode (streams rows; ~10× faster than the normal mode).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook

from .columns import SHEETS


def _cell(value: object) -> object:
    """Plain Python values for openpyxl: NaN/NaT become empty cells, numpy scalars natives."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (pd.Timestamp,)):
        return value.item()  # numpy scalar
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def write_workbook(tables: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """Write the seven sheets in contract order, header first; refuse off-contract columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    for sheet, columns in SHEETS.items():
        frame = tables[sheet]
        if tuple(frame.columns) != columns:
            raise ValueError(f"{sheet}: columns {tuple(frame.columns)} differ from the contract {columns}")
        ws = wb.create_sheet(sheet)
        ws.append(list(columns))
        for row in frame.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)  # never leave a half-written workbook under the real name
    return path


def read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """All contract sheets as DataFrames (openpyxl engine; text columns stay text)."""
    text = {"shops": {"open_hour": str, "close_hour": str, "break_start_hour": str, "break_end_hour": str,
                      "phone": str},
            "foodcard_users": {"card_number": str}, "coupons": {"id": str},
            "user_coupon_wallet": {"coupon_id": str}}
    return {sheet: pd.read_excel(path, sheet_name=sheet, engine="openpyxl", dtype=text.get(sheet))
            for sheet in SHEETS}


def corrupt_workbook(src: Path, dst: Path) -> dict[str, int]:
    """Copy ``src`` to ``dst`` with deliberately bad rows appended; return counts per defect.

    Every bad row carries exactly one defect and is otherwise valid, so a validator that
    catches each kind should report exactly these counts.
    """
    wb = load_workbook(src)
    shops, menus, orders = wb["shops"], wb["menus"], wb["product_orders"]
    header = {name: [c.value for c in ws[1]] for name, ws in (("shops", shops), ("menus", menus),
                                                               ("product_orders", orders))}

    def rows(ws) -> list[dict]:
        cols = [c.value for c in ws[1]]
        return [dict(zip(cols, r)) for r in ws.iter_rows(min_row=2, values_only=True)]

    shop_rows, menu_rows, order_rows = rows(shops), rows(menus), rows(orders)
    next_shop = max(r["id"] for r in shop_rows) + 1
    next_menu = max(r["id"] for r in menu_rows) + 1
    next_order = max(r["id"] for r in order_rows) + 1
    template_shop, template_menu, template_order = shop_rows[0], menu_rows[0], order_rows[0]
    counts: dict[str, int] = {}

    def add(ws, name: str, kind: str, **changes) -> None:
        nonlocal next_shop, next_menu, next_order
        base = {"shops": template_shop, "menus": template_menu, "product_orders": template_order}[name]
        row = dict(base)
        row["id"] = {"shops": next_shop, "menus": next_menu, "product_orders": next_order}[name]
        row.update(changes)
        ws.append([row[c] for c in header[name]])
        if name == "shops":
            next_shop += 1
        elif name == "menus":
            next_menu += 1
        else:
            next_order += 1
        counts[kind] = counts.get(kind, 0) + 1

    add(menus, "menus", "nonpositive_price", price=0)
    add(menus, "menus", "nonpositive_price", price=-3000)
    add(shops, "shops", "unknown_category", category="퓨전요리")
    add(shops, "shops", "outside_korea", latitude=35.6812, longitude=139.7671)  # Tokyo station
    add(shops, "shops", "outside_korea", latitude=0.0, longitude=0.0)
    add(shops, "shops", "malformed_hours", open_hour="25:99")
    add(shops, "shops", "malformed_hours", close_hour="9시")
    add(menus, "menus", "dangling_shop_id", shop_id=next_shop + 10_000)
    add(orders, "product_orders", "dangling_menu_id", product_id=next_menu + 10_000)
    # Duplicates reuse an existing id; the row is otherwise a fresh, valid record.
    add(shops, "shops", "duplicate_id", id=template_shop["id"], shop_name=f"{template_shop['shop_name']} 2호점")
    add(menus, "menus", "duplicate_id", id=template_menu["id"], menu_name=f"{template_menu['menu_name']} 곱빼기")
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return counts
