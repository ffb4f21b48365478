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


STRONG = "x" * 16 + "-production-secret-0123456789"


def test_production_refuses_default_and_short_secrets():
    with pytest.raises(ValidationError, match="NAVIYAM_API_KEY is the built-in development value"):
        Settings(_env_file=None, environment="production", card_hash_key=STRONG)
    with pytest.raises(ValidationError, match="NAVIYAM_CARD_HASH_KEY is the built-in development value"):
        Settings(_env_file=None, environment="production", api_key=STRONG)
    with pytest.raises(ValidationError, match="NAVIYAM_API_KEY is shorter than 32 characters"):
        Settings(_env_file=None, environment="production", api_key="short-but-not-default", card_hash_key=STRONG)


def test_production_turns_fallbacks_off_and_refuses_them_when_asked(monkeypatch):
    settings = Settings(_env_file=None, environment="production", api_key=STRONG, card_hash_key=STRONG + "2")
    assert not settings.pg_embedded_fallback and not settings.redis_embedded_fallback
    assert not settings.api_docs_enabled and not settings.playground_enabled and not settings.debug_endpoints_enabled
    monkeypatch.setenv("NAVIYAM_REDIS_EMBEDDED_FALLBACK", "true")
    with pytest.raises(ValidationError, match="REDIS_EMBEDDED_FALLBACK must be off in production"):
        Settings(_env_file=None, environment="production", api_key=STRONG, card_hash_key=STRONG)


def test_development_keeps_conveniences_and_each_has_its_own_switch():
    dev = Settings(_env_file=None)
    assert dev.environment == "development" and dev.pg_embedded_fallback
    assert dev.api_docs_enabled and dev.playground_enabled and dev.debug_endpoints_enabled
    prod = Settings(_env_file=None, environment="production", api_key=STRONG, card_hash_key=STRONG,
                    playground=True, api_docs=False)
    assert prod.playground_enabled and not prod.api_docs_enabled and not prod.debug_endpoints_enabled
