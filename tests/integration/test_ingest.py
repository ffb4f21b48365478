"""Ingest of the sample workbook into the real PostgreSQL: counts, idempotence, quarantine, PII."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from infra.ingest.load import IngestError, ingest_workbook, read_workbook
from infra.sample_data.columns import SHEETS
from infra.sample_data.generator import generate
from infra.sample_data.workbook import corrupt_workbook

pytestmark = pytest.mark.integration

SCALE = 0.03


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    return generate(seed=7, scale=SCALE, out_dir=out).workbook


@pytest.fixture(scope="module")
def first_report(migrated_engine, workbook, settings):
    return ingest_workbook(migrated_engine, workbook, settings)


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_clean_workbook_loads_every_row(migrated_engine, workbook, first_report):
    frames = read_workbook(workbook)
    assert first_report.quarantined == 0
    for sheet in SHEETS:
        assert _count(migrated_engine, sheet) == len(frames[sheet]) == first_report.sheets[sheet].inserted


def test_reingest_changes_nothing(migrated_engine, workbook, first_report, settings):
    again = ingest_workbook(migrated_engine, workbook, settings)
    for sheet, report in again.sheets.items():
        assert (report.inserted, report.updated, report.quarantined) == (0, 0, 0), sheet
        assert report.unchanged == report.rows
    with migrated_engine.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM ingest_runs")).scalars().all()
    assert statuses == ["succeeded", "succeeded"]


def test_changed_row_is_updated_and_derived_columns_survive(migrated_engine, workbook, first_report, settings, tmp_path):
    with migrated_engine.begin() as conn:
        shop_id = conn.execute(text("SELECT min(id) FROM shops")).scalar()
        conn.execute(text("UPDATE shops SET popularity_score = 0.5 WHERE id = :id"), {"id": shop_id})
    frames = read_workbook(workbook)
    frames["shops"].loc[frames["shops"]["id"] == shop_id, "shop_name"] = "새이름분식"
    changed = tmp_path / "changed.xlsx"
    with pd.ExcelWriter(changed) as writer:
        for sheet, frame in frames.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
    report = ingest_workbook(migrated_engine, changed, settings)
    assert report.sheets["shops"].updated == 1
    assert sum(r.inserted + r.updated for r in report.sheets.values()) == 1
    with migrated_engine.connect() as conn:
        name, popularity = conn.execute(
            text("SELECT shop_name, popularity_score FROM shops WHERE id = :id"), {"id": shop_id}
        ).one()
    assert name == "새이름분식" and float(popularity) == 0.5


def test_card_numbers_never_stored_in_clear(migrated_engine, workbook, first_report):
    cards = read_workbook(workbook)["foodcard_users"]["card_number"].astype(str)
    digits = {"".join(ch for ch in c if ch.isdigit()) for c in cards}
    with migrated_engine.connect() as conn:
        columns = set(conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'foodcard_users'"
        )).scalars())
        stored = conn.execute(text("SELECT card_number_hash, card_last4 FROM foodcard_users")).all()
        quarantine_dump = " ".join(conn.execute(text("SELECT source_row::text FROM ingest_quarantine")).scalars())
    assert "card_number" not in columns
    assert all(len(h) == 64 and len(last4) == 4 for h, last4 in stored)
    assert not any(d in h or d in quarantine_dump for d in digits for h, _ in stored)


def test_corrupted_workbook_quarantines_exactly_the_bad_rows(fresh_engine, workbook, settings, tmp_path):
    bad = tmp_path / "corrupt.xlsx"
    injected = corrupt_workbook(workbook, bad)
    report = ingest_workbook(fresh_engine, bad, settings)
    frames = read_workbook(bad)

    assert report.quarantined >= sum(injected.values())  # cascades (children of bad parents) may add more
    for sheet, sheet_report in report.sheets.items():
        loaded = _count(fresh_engine, sheet)
        assert loaded + sheet_report.quarantined == len(frames[sheet]), f"{sheet}: a row went missing"

    with fresh_engine.connect() as conn:
        rows = conn.execute(text("SELECT sheet, reasons FROM ingest_quarantine")).all()
    reasons = " | ".join(json.dumps(r, ensure_ascii=False) for _, r in rows)
    for needle in ("price must be between", "category is not one of", "outside Korea", "HH:MM", "duplicate id", "refers to no shops row"):
        assert needle in reasons, needle
    assert all(isinstance(r, list) and r for _, r in rows)


def test_workbook_off_contract_is_refused_with_a_clear_error(fresh_engine, workbook, settings, tmp_path):
    frames = read_workbook(workbook)
    broken = tmp_path / "no_menus.xlsx"
    with pd.ExcelWriter(broken) as writer:
        for sheet, frame in frames.items():
            if sheet != "menus":
                frame.to_excel(writer, sheet_name=sheet, index=False)
    with pytest.raises(IngestError, match="missing sheets \\['menus'\\]"):
        ingest_workbook(fresh_engine, broken, settings)
    with pytest.raises(IngestError, match="not found"):
        ingest_workbook(fresh_engine, tmp_path / "nope.xlsx", settings)
