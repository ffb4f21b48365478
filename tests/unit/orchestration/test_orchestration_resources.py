"""dbt gets the same connection as the app, including the embedded server's socket directory."""

from pydantic import SecretStr

from infra.settings import Settings
from infra.dbt import dbt_env


def test_socket_host_and_port_reach_dbt():
    settings = Settings(pg_host="/tmp/pgserver-sock", pg_port=5999, pg_user="postgres", pg_password=SecretStr(""))
    env = dbt_env(settings, "naviyam_x")
    assert env["NAVIYAM_DBT_HOST"] == "/tmp/pgserver-sock"
    assert env["NAVIYAM_DBT_PORT"] == "5999"
    assert env["NAVIYAM_DBT_DBNAME"] == "naviyam_x"
    assert env["NAVIYAM_DBT_PASSWORD"] == ""
    assert env["PGTZ"] == "Asia/Seoul"


def test_default_database_is_the_configured_one():
    settings = Settings(pg_database="naviyam", pg_password=SecretStr("pw"))
    env = dbt_env(settings)
    assert env["NAVIYAM_DBT_DBNAME"] == "naviyam" and env["NAVIYAM_DBT_PASSWORD"] == "pw"
