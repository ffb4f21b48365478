"""The dbt CLI on this project: where it is, the environment profiles.yml reads, a parsed
manifest, and a plain ``dbt`` run. Kept below the orchestration layer because the feature
store's CLI path and the tests build marts too; the Dagster graph runs dbt through dagster-dbt
(orchestration/warehouse)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from infra.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
#: live-table rows the warehouse left out, with reasons (dbt_project/models/staging/live_quarantine.sql)
LIVE_QUARANTINE = "analytics_staging.live_quarantine"


def dbt_env(settings: Settings, database: str | None = None) -> dict[str, str]:
    """The NAVIYAM_DBT_* variables profiles.yml reads, for ``database`` (default: the project's)."""
    return {
        "NAVIYAM_DBT_HOST": settings.pg_host,
        "NAVIYAM_DBT_PORT": str(settings.pg_port),
        "NAVIYAM_DBT_USER": settings.pg_user,
        "NAVIYAM_DBT_PASSWORD": settings.pg_password.get_secret_value(),
        "NAVIYAM_DBT_DBNAME": database or settings.pg_database,
        "NAVIYAM_DBT_THREADS": str(settings.dbt_threads),
        # dbt's own sessions speak local time too, like infra.db's engines
        "PGTZ": settings.timezone,
    }


def _project_files() -> list[Path]:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        files.extend(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    return files


def manifest_is_stale() -> bool:
    if not MANIFEST_PATH.exists():
        return True
    built = MANIFEST_PATH.stat().st_mtime
    return any(p.stat().st_mtime > built for p in _project_files())


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def prepare_manifest(force: bool = False) -> Path:
    """Run ``dbt parse`` when the manifest is missing or stale (or ``force``); returns its path."""
    if force or manifest_is_stale():
        log.info("preparing the dbt manifest (dbt parse)")
        subprocess.run(
            [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
            cwd=DBT_PROJECT_DIR,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )
    return MANIFEST_PATH


def run_dbt(args: list[str], database: str | None = None, dbt_vars: dict | None = None,
            capture: bool = True) -> subprocess.CompletedProcess:
    """Run the dbt CLI on the project against ``database`` (default: the configured one).

    For tests, benchmarks and debugging; the graph itself runs dbt through dagster-dbt.
    """
    command = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    env = {**os.environ, **dbt_env(get_settings(), database), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=capture, text=True)
