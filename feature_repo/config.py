"""Feast's configuration, built in code from ``infra.settings`` (PostgreSQL over TCP or over the
embedded server's Unix socket, ``sslmode: disable``; Redis from ``redis_url``; a file registry
under ``data_dir/feast``), so nothing host-specific is committed. ``write_feature_store_yaml``
writes the same configuration for the Feast CLI:
``feast -f data/feast/feature_store.yaml -c feature_repo plan``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from infra.feature_contract import SOURCE_SCHEMA

PROJECT = "naviyam"


def settings_or_default(settings: Any = None) -> Any:
    if settings is None:
        from infra.settings import get_settings

        settings = get_settings()
    return settings


def redis_connection_string(url: str) -> str:
    """``redis://[:pw@]host:port/db`` → Feast's ``host:port,db=N[,password=...]``."""
    parsed = urlparse(url)
    parts = [f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}"]
    db = (parsed.path or "/0").lstrip("/") or "0"
    parts.append(f"db={db}")
    if parsed.password:
        parts.append(f"password={unquote(parsed.password)}")
    if parsed.scheme == "rediss":
        parts.append("ssl=true")
    return ",".join(parts)


def config_dict(settings: Any = None, project: str = PROJECT, database: str | None = None,
                registry_path: Path | None = None) -> dict[str, Any]:
    """The feature_store.yaml content as a dict."""
    s = settings_or_default(settings)
    registry = registry_path or (Path(s.data_dir) / "feast" / f"{project}_registry.db")
    registry.parent.mkdir(parents=True, exist_ok=True)
    return {
        "project": project,
        "provider": "local",
        "registry": {"registry_type": "file", "path": str(registry), "cache_ttl_seconds": 60},
        "offline_store": {
            "type": "postgres", "host": s.pg_host, "port": int(s.pg_port), "database": database or s.pg_database,
            # the search path of Feast's own connections: its temporary entity tables land here
            "db_schema": SOURCE_SCHEMA, "user": s.pg_user, "password": s.pg_password.get_secret_value(),
            "sslmode": "disable",
        },
        "online_store": {"type": "redis", "connection_string": redis_connection_string(s.redis_url)},
        "entity_key_serialization_version": 3,
    }


def write_feature_store_yaml(settings: Any = None, path: Path | None = None, **kwargs: Any) -> Path:
    import yaml

    s = settings_or_default(settings)
    path = path or Path(s.data_dir) / "feast" / "feature_store.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config_dict(s, **kwargs), sort_keys=False, allow_unicode=True))
    return path


def get_feature_store(settings: Any = None, project: str = PROJECT, database: str | None = None,
                      registry_path: Path | None = None) -> Any:
    """A FeatureStore built from the settings (no YAML file needed)."""
    from feast import FeatureStore
    from feast.repo_config import RepoConfig

    cfg = RepoConfig(**config_dict(settings, project, database, registry_path))
    return FeatureStore(config=cfg)
