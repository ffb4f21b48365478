"""All quality checks of the graph (the dbt tests come with the dbt assets)."""

import dagster as dg

from orchestration.quality.expectations import expectation_checks
from orchestration.quality.monitoring import monitoring_checks
from orchestration.quality.quarantine import quarantine_checks

defs = dg.Definitions(asset_checks=[*expectation_checks, *monitoring_checks, *quarantine_checks])
