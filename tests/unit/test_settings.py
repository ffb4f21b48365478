from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.settings import Settings


def test_env_prefix_and_defaults(monkeypatch):
    monkeypatch.setenv("NAVIYAM_PG_PORT", "6543")
    monkeypatch.setenv("NAVIYAM_SAMPLE_SCALE", "0.5")
    settings = Settings(_env_file=None)
    assert settings.pg_port == 6543
    assert settings.sample_scale == 0.5
    assert settings.timezone == "Asia/Seoul"
    assert settings.sqlalchemy_url().endswith("@127.0.0.1:6543/naviyam")


def test_socket_host_builds_query_style_url():
    settings = Settings(_env_file=None, pg_host="/tmp/pg sock", pg_password="p@ss")
    assert settings.pg_uses_socket
    assert settings.sqlalchemy_url("x") == "postgresql+psycopg://postgres:p%40ss@/x?host=/tmp/pg%20sock&port=5432"
    assert settings.libpq_dsn("x").startswith("postgresql://postgres:p%40ss@/x?host=")


def test_bad_values_fail_at_start_up():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, timezone="Mars/Olympus")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, sample_scale=0)


def test_mlflow_defaults_to_local_sqlite(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.mlflow_uri == f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}"
    assert Settings(_env_file=None, mlflow_tracking_uri="http://mlflow:5000").mlflow_uri == "http://mlflow:5000"
