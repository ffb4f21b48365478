"""Ingest ``sample_data.xlsx`` into PostgreSQL: validate, upsert the good rows, quarantine the rest.

One run is one transaction for the data (all sheets or none) plus a row in ``ingest_runs`` that
survives a failure. Loading goes through COPY into a temporary table and one
``INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM``, so re-ingesting the same file
inserts nothing, updates nothing and quarantines nothing new.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from infra.ingest.rules import LOAD_ORDER, RULES
from infra.ingest.validate import SheetVerdict, validate_sheet
from infra.pii import card_last4, card_number_hash
from infra.sample_data.columns import SHEETS
from infra.settings import Settings, get_settings

log = logging.getLogger(__name__)


class IngestError(ValueError):
    """The workbook cannot be ingested at all (missing sheet or column, unreadable file)."""


@dataclass
class SheetReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0


@dataclass
class IngestReport:
    run_id: uuid.UUID
    source: Path
    sheets: dict[str, SheetReport] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sheets.values())

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.sheets.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": str(self.run_id),
            "rows": self.rows,
            "quarantined": self.quarantined,
            "seconds": round(self.seconds, 2),
            "rows_per_second": round(self.rows_per_second),
            "sheets": {name: vars(report) for name, report in self.sheets.items()},
        }


# ---- reading -------------------------------------------------------------------------------


def read_workbook(path: Path) -> dict[str, pd.DataFrame]:
    """Read every contract sheet as text-faithful DataFrames; refuse a workbook off the contract."""
    if not path.exists():
        raise IngestError(f"workbook not found: {path}")
    try:
        frames = pd.read_excel(path, sheet_name=None, engine="calamine")
    except Exception as exc:  # calamine raises several types for a broken file
        raise IngestError(f"cannot read {path}: {exc}") from exc
    missing_sheets = [name for name in SHEETS if name not in frames]
    if missing_sheets:
        raise IngestError(f"{path.name}: missing sheets {missing_sheets}")
    for name, columns in SHEETS.items():
        absent = [c for c in columns if c not in frames[name].columns]
        if absent:
            raise IngestError(f"{path.name}: sheet {name!r} lacks columns {absent}")
        frame = frames[name][list(columns)]
        # calamine reads empty cells as NaN and blank text as ''; both mean "not stated"
        frame = frame.replace({"": None}).astype(object).where(frame.notna(), None)
        frames[name] = frame
    return frames


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---- turning sheet rows into table rows ----------------------------------------------------


def _local_ts(value: Any, settings: Settings) -> datetime | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(settings.tz)  # the workbook writes naive local (Asia/Seoul) time
    return stamp.to_pydatetime()


def _day(value: Any) -> date | None:
    return None if value is None else pd.Timestamp(value).date()


def _json(value: Any) -> str | None:
    if value is None:
        return None
    parsed = json.loads(value) if isinstance(value, str) else value
    return json.dumps(parsed, ensure_ascii=False)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "y", "yes"}
    return bool(value)


Converter = Callable[[dict[str, Any], Settings], dict[str, Any]]


def _shop(row: dict[str, Any], _: Settings) -> dict[str, Any]:
    return {
        "id": _int(row["id"]),
        "shop_name": _text(row["shop_name"]),
        "category": row["category"],
        "address_name": _text(row["address_name"]),
        "is_good_influence_shop": _flag(row["is_good_influence_shop"]),
        "is_food_card_shop": row["is_food_card_shop"] or "U",
        **{c: _text(row[c]) for c in ("open_hour", "close_hour", "break_start_hour", "break_end_hour", "phone")},
        "owner_message": _text(row["owner_message"]),
        "latitude": round(float(row["latitude"]), 8),
        "longitude": round(float(row["longitude"]), 8),
    }


def _menu(row: dict[str, Any], _: Settings) -> dict[str, Any]:
    return {
        "id": _int(row["id"]),
        "shop_id": _int(row["shop_id"]),
        "menu_name": _text(row["menu_name"]),
        "price": _int(row["price"]),
        "description": _text(row["description"]),
        "category": row["category"],
    }


def _coupon(row: dict[str, Any], _: Settings) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "coupon_name": _text(row["coupon_name"]),
        "description": _text(row["description"]),
        "discount_amount": _int(row["discount_amount"]),
        "discount_rate": None if row["discount_rate"] is None else round(float(row["discount_rate"]), 2),
        "min_order_amount": _int(row["min_order_amount"]) or 0,
        "usage_type": row["usage_type"],
        "target_categories": _json(row["target_categories"]),
        "applicable_shops": _json(row["applicable_shops"]),
        "valid_from": _day(row["valid_from"]),
        "valid_until": _day(row["valid_until"]),
    }


def _user(row: dict[str, Any], _: Settings) -> dict[str, Any]:
    return {
        "id": _int(row["id"]),
        "name": _text(row["name"]),
        "nickname": _text(row["nickname"]),
        "birthday": _day(row["birthday"]),
        "current_address": _text(row["current_address"]),
    }


def _foodcard_user(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    card = str(row["card_number"])
    return {
        "id": _int(row["id"]),
        "user_id": _int(row["user_id"]),
        "card_number_hash": card_number_hash(card, settings.card_hash_key.get_secret_value(),
                                             [k.get_secret_value() for k in settings.card_hash_earlier_keys]),
        "card_last4": card_last4(card),
        "balance": _int(row["balance"]) or 0,
        "status": row["status"] or "ACTIVE",
    }


def _order(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {
        "id": _int(row["id"]),
        "user_id": _int(row["user_id"]),
        "product_id": _int(row["product_id"]),
        "created_at": _local_ts(row["created_at"], settings),
        "quantity": _int(row["quantity"]) or 1,
        "price": _int(row["price"]),
    }


def _wallet(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {
        "id": _int(row["id"]),
        "user_id": _int(row["user_id"]),
        "coupon_id": str(row["coupon_id"]),
        **{c: _local_ts(row[c], settings) for c in ("acquired_date", "expiry_date", "usage_date")},
        "status": row["status"] or "ACTIVE",
        **{c: _int(row[c]) for c in ("used_shop_id", "used_menu_id", "used_order_amount", "discount_applied")},
        "acquisition_source": _text(row["acquisition_source"]),
        "acquisition_context": _json(row["acquisition_context"]),
    }


CONVERTERS: dict[str, Converter] = {
    "shops": _shop,
    "menus": _menu,
    "coupons": _coupon,
    "users": _user,
    "foodcard_users": _foodcard_user,
    "product_orders": _order,
    "user_coupon_wallet": _wallet,
}
INTEGER_IDS = {"shops", "menus", "users", "foodcard_users", "product_orders", "user_coupon_wallet"}


# ---- writing -------------------------------------------------------------------------------


def upsert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """COPY rows into a temp table, then upsert changed rows only; returns (inserted, updated)."""
    if not rows:
        return 0, 0
    columns = list(rows[0])
    column_list = ", ".join(columns)
    staging = f"_ingest_{table}"
    conn.execute(text(f"CREATE TEMP TABLE {staging} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "id")
    current = ", ".join(f"{table}.{c}" for c in columns if c != "id")
    incoming = ", ".join(f"EXCLUDED.{c}" for c in columns if c != "id")
    result = conn.execute(
        text(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {staging} "
            f"ON CONFLICT (id) DO UPDATE SET {updates} WHERE ({current}) IS DISTINCT FROM ({incoming}) "
            "RETURNING (xmax = 0) AS inserted"
        )
    ).scalars().all()
    conn.execute(text(f"DROP TABLE {staging}"))
    if table in INTEGER_IDS:
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))")
        )
    inserted = sum(1 for flag in result if flag)
    return inserted, len(result) - inserted


def _json_safe(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def quarantine(conn: Connection, run_id: uuid.UUID, sha256: str, verdict: SheetVerdict) -> int:
    if verdict.quarantined.empty:
        return 0
    payload = []
    for index, row in verdict.quarantined.iterrows():
        source = {k: _json_safe(v) for k, v in row.items()}
        if "card_number" in source and source["card_number"] is not None:
            digits = "".join(ch for ch in str(source["card_number"]) if ch.isdigit())
            source["card_number"] = "****" + digits[-4:]  # never keep a card number in clear text
        payload.append(
            {
                "run_id": run_id,
                "sha": sha256,
                "sheet": verdict.sheet,
                "row_number": int(index) + 2,  # header is row 1 in the spreadsheet
                "source_row": json.dumps(source, ensure_ascii=False, default=str),
                "reasons": json.dumps(verdict.reasons[index], ensure_ascii=False),
            }
        )
    conn.execute(
        text(
            "INSERT INTO ingest_quarantine (run_id, source_sha256, sheet, row_number, source_row, reasons) "
            "VALUES (:run_id, :sha, :sheet, :row_number, CAST(:source_row AS jsonb), CAST(:reasons AS jsonb)) "
            "ON CONFLICT (source_sha256, sheet, row_number) DO NOTHING"
        ),
        payload,
    )
    return len(payload)


def _existing_ids(conn: Connection, table: str) -> set:
    return set(conn.execute(text(f"SELECT id FROM {table}")).scalars())


def ingest_workbook(
    engine: Engine, path: Path | None = None, settings: Settings | None = None, progress: Callable[[str], None] | None = None
) -> IngestReport:
    settings = settings or get_settings()
    path = Path(path or settings.sample_workbook)
    say = progress or (lambda message: log.info(message))
    started = time.perf_counter()
    frames = read_workbook(path)
    sha256 = file_sha256(path)
    report = IngestReport(run_id=uuid.uuid4(), source=path)

    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO ingest_runs (run_id, source_file, source_sha256) VALUES (:id, :file, :sha)"),
            {"id": report.run_id, "file": str(path), "sha": sha256},
        )
    try:
        with engine.begin() as conn:
            valid: dict[str, set] = {}
            refused: dict[str, set] = {}
            for sheet in LOAD_ORDER:
                frame = frames[sheet]
                parents = {
                    ref.sheet: valid[ref.sheet] | _existing_ids(conn, ref.sheet) for ref in RULES[sheet].references
                }
                verdict = validate_sheet(sheet, frame, parents, refused)
                valid[sheet] = verdict.valid_ids
                refused[sheet] = set(verdict.quarantined["id"].dropna().tolist()) - verdict.valid_ids
                rows = [CONVERTERS[sheet](row, settings) for row in verdict.valid.to_dict("records")]
                inserted, updated = upsert(conn, sheet, rows)
                sheet_report = SheetReport(
                    rows=len(frame),
                    inserted=inserted,
                    updated=updated,
                    unchanged=len(rows) - inserted - updated,
                    quarantined=quarantine(conn, report.run_id, sha256, verdict),
                )
                report.sheets[sheet] = sheet_report
                say(
                    f"{sheet:<20} {sheet_report.rows:>7} rows: {inserted} new, {updated} changed, "
                    f"{sheet_report.unchanged} unchanged, {sheet_report.quarantined} quarantined"
                )
    except Exception:
        _finish(engine, report, "failed")
        raise
    report.seconds = time.perf_counter() - started
    _finish(engine, report, "succeeded")
    return report


def _finish(engine: Engine, report: IngestReport, status: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ingest_runs SET finished_at = now(), status = :status, row_counts = CAST(:counts AS jsonb) "
                "WHERE run_id = :id"
            ),
            {"status": status, "counts": json.dumps(report.as_dict()), "id": report.run_id},
        )
