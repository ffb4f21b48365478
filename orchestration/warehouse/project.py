"""The dbt project as Dagster sees it (``DbtProject``), and when its manifest gets prepared
(the dbt CLI itself, ``prepare_manifest`` and ``run_dbt``, is ``infra.dbt``).

The manifest (``dbt_project/target/manifest.json``) is prepared at build time, not at import:

* ``dagster dev`` re-parses on start when a project file changed (see the bottom of this module);
* ``naviyam assets ...`` and ``orchestration.materialize`` call :func:`prepare_manifest` first, which
  runs ``dbt parse`` only when the manifest is missing or older than a project file;
* a bare import with no manifest at all (a fresh checkout) falls back to the same parse once,
  with a log line, rather than failing.
"""

from __future__ import annotations

import os

from dagster_dbt import DbtProject

from infra.dbt import DBT_PROJECT_DIR, MANIFEST_PATH, prepare_manifest

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


# Under `dagster dev` (and on a fresh checkout) parse when a project file changed. This replaces
# DbtProject.prepare_if_dev, which looks for `dbt` on PATH: the UI's process, started as
# .venv/bin/dagster, need not have the venv on PATH, and dbt_executable() finds it beside Python.
if os.getenv("DAGSTER_IS_DEV_CLI") or not MANIFEST_PATH.exists():  # the variable `dagster dev` sets
    prepare_manifest()
