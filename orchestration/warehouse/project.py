"""Where the dbt project is and how its manifest gets prepared.

The manifest (``dbt_project/target/manifest.json``) is prepared at build time, not at import:

* ``dagster dev`` re-parses on start when a project file changed (see the bottom of this module);
* ``naviyam assets ...`` and ``orchestration.run`` call :func:`prepare_manifest` first, which
  runs ``dbt parse`` only when the manifest is missing or older than a project file;
* a bare import with no manifest at all (a fresh checkout) falls back to the same parse once,
  with a log line, rather than failing.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from infra.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


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


# Under `dagster dev` (and on a fresh checkout) parse when a project file changed. This replaces
# DbtProject.prepare_if_dev, which looks for `dbt` on PATH: the UI's process, started as
# .venv/bin/dagster, need not have the venv on PATH, and dbt_executable() finds it beside Python.
if os.getenv("DAGSTER_IS_DEV_CLI") or not MANIFEST_PATH.exists():  # the variable `dagster dev` sets
    prepare_manifest()


def run_dbt(args: list[str], database: str | None = None, dbt_vars: dict | None = None,
            capture: bool = True) -> subprocess.CompletedProcess:
    """Run the dbt CLI on the project against ``database`` (default: the configured one).

    For tests, benchmarks and debugging; the graph itself runs dbt through dagster-dbt.
    """
    import json

    from infra.settings import get_settings
    from orchestration.resources import dbt_env

    command = [dbt_executable(), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    env = {**os.environ, **dbt_env(get_settings(), database), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=capture, text=True)
