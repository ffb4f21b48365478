"""Split each sheet into rows to load and rows to quarantine, with every reason a row failed.

Column rules run as one great-expectations 1.x suite per sheet; row rules, duplicate ids and
references run in pandas. A row whose parent was quarantined is quarantined too ("shop_id 7 refers
to a row that was quarantined"), so nothing disappears between the workbook and the database.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from infra.ingest.rules import RULES, SheetRules

log = logging.getLogger(__name__)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass
class SheetVerdict:
    sheet: str
    valid: pd.DataFrame
    quarantined: pd.DataFrame  # the source rows that failed, original columns
    reasons: dict[int, list[str]] = field(default_factory=dict)  # DataFrame index → reasons

    @property
    def valid_ids(self) -> set:
        return set(self.valid["id"].tolist())


@lru_cache(maxsize=1)
def _gx_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _suite(sheet: str, rules: SheetRules):
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=f"ingest_{sheet}")
    for position, rule in enumerate(rules.columns):
        expectation_cls = getattr(gxe, rule.expectation)
        # the rule's position rides along: GX does not return results in the order they were added
        suite.add_expectation(expectation_cls(column=rule.column, meta={"rule": position}, **rule.kwargs))
    return suite


def run_column_rules(sheet: str, df: pd.DataFrame, rules: SheetRules) -> dict[int, list[str]]:
    """Run the sheet's great-expectations suite; map each failing row index to its reasons."""
    context = _gx_context()
    source_name = f"ingest_{sheet}"
    try:
        source = context.data_sources.get(source_name)
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas(source_name)
    try:
        asset = source.get_asset(sheet)
    except LookupError:
        asset = source.add_dataframe_asset(sheet)
    try:
        definition = asset.get_batch_definition("whole")
    except (KeyError, ValueError, LookupError):
        definition = asset.add_batch_definition_whole_dataframe("whole")
    batch = definition.get_batch(batch_parameters={"dataframe": df.reset_index(drop=True)})
    result = batch.validate(_suite(sheet, rules), result_format={"result_format": "COMPLETE"})

    position_to_index = df.index.to_numpy()
    failures: dict[int, list[str]] = defaultdict(list)
    for outcome in result.results:
        if outcome.success:
            continue
        rule = rules.columns[int(outcome.expectation_config.meta["rule"])]
        for position in outcome.result.get("unexpected_index_list") or []:
            index = int(position_to_index[position])
            failures[index].append(f"{rule.reason} (got {_show(df.at[index, rule.column])})")
    return failures


def _plain(value: object) -> object:
    """A numpy scalar as its Python value, so messages read 999999, not np.int64(999999)."""
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def _show(value: object) -> str:
    return "empty" if value is None or (isinstance(value, float) and pd.isna(value)) else repr(_plain(value))


def validate_sheet(
    sheet: str, df: pd.DataFrame, parents: dict[str, set], quarantined_parents: dict[str, set]
) -> SheetVerdict:
    """Check one sheet. ``parents``: valid ids per sheet (this file and the database)."""
    rules = RULES[sheet]
    reasons: dict[int, list[str]] = defaultdict(list)

    for index, found in run_column_rules(sheet, df, rules).items():
        reasons[index].extend(found)

    for rule in rules.rows:
        for index in df.index[rule.broken(df).to_numpy()]:
            reasons[int(index)].append(rule.reason)

    duplicated = df["id"].notna() & df.duplicated(subset="id", keep="first")
    for index in df.index[duplicated.to_numpy()]:
        reasons[int(index)].append(f"duplicate id {_plain(df.at[index, 'id'])!r} (the first row with this id was kept)")

    for ref in rules.references:
        values = df[ref.column]
        present = values.notna()
        known = values.isin(parents.get(ref.sheet, set()))
        for index in df.index[(present & ~known).to_numpy()]:
            value = _plain(df.at[index, ref.column])
            if value in quarantined_parents.get(ref.sheet, set()):
                reasons[int(index)].append(f"{ref.column} {value!r} refers to a {ref.sheet} row that was quarantined")
            else:
                reasons[int(index)].append(f"{ref.column} {value!r} refers to no {ref.sheet} row")

    bad = sorted(reasons)
    return SheetVerdict(
        sheet=sheet,
        valid=df.drop(index=bad),
        quarantined=df.loc[bad],
        reasons={i: reasons[i] for i in bad},
    )
