"""Deterministic, seeded generator of the spec's ``sample_data.xlsx`` (and its hidden truth).

Public API::

    from infra.sample_data import generate, corrupt_workbook, SHEETS
    summary = generate(seed=20261125, scale=1.0, out_dir=settings.sample_dir)

The column contract lives in ``columns``; the choice model that produced every order is in
``behaviour`` (``utility``, ``utilities``, ``choose``), so later code can simulate impressions.
"""

from .behaviour import UserTruth, choose, utilities, utility
from .columns import CATEGORIES, MENU_CATEGORIES, SHEETS
from .generator import GenerationSummary, build, generate, generate_from_settings, reference_time
from .workbook import corrupt_workbook, read_workbook, write_workbook

__all__ = [
    "CATEGORIES", "MENU_CATEGORIES", "SHEETS", "GenerationSummary", "UserTruth", "build", "choose",
    "corrupt_workbook", "generate", "generate_from_settings", "read_workbook", "reference_time",
    "utilities", "utility", "write_workbook",
]
