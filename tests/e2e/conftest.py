"""The real service over real HTTP, against real PostgreSQL, Redis and a Qdrant shard.

One session-wide service: a fresh database migrated and seeded (``seed.py``), the retrieval index
built into a private data folder, then ``bentoml serve serving.service:Naviyam`` started on a free
loopback port in its own process group, and stopped (and the database dropped) at the end. The
service reaches PostgreSQL and Redis through TCP proxies the tests control (``tcp_proxy.py``), so a
test can cut or freeze either (``service.pg_proxy``, ``service.redis_proxy``; None where PostgreSQL
is on a Unix socket).
"""

from __future__ import annotations

import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

API_KEY = "e2e-" + uuid.uuid4().hex


@dataclass
class Service:
    url: str
    api_key: str
    engine: object
    dbname: str
    log_path: Path
    data_dir: Path
    proc: object = None
    pg_proxy: object = None
    redis_proxy: object = None

    def headers(self) -> dict:
        return {"X-API-Key": self.api_key}

    def chat(self, client: httpx.Client, text: str, user_id: str, session_id: str, **extra) -> httpx.Response:
        body = {"user_id": user_id, "session_id": session_id, "text": text, **extra}
        return client.post(self.url + "/chat", json=body, headers=self.headers(), timeout=30)

    def ok_chat(self, client: httpx.Client, text: str, user_id: str, session_id: str, **extra) -> dict:
        r = self.chat(client, text, user_id, session_id, **extra)
        assert r.status_code == 200, r.text
        return r.json()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _register_tiny_rankers(settings) -> list:
    """Two small Wide&Deep rankers in this session's MLflow registry: a champion and a challenger,
    so the service serves the real model and the A/B split has two arms.

    They learn from the benchmark's lists labelled by the children's hidden tastes, not from the
    orders as a deployment's bootstrap does: the scenarios test the pipeline's personalization path
    (a child's stated likes reach the ranker through ``category_preference_match``), which needs a
    ranker that weighs taste. A 400-list bootstrap on the orders of this tiny sample weighs it too
    little (wide weight ~0.07) for a child with no order history; the nightly retrain on the logs is
    what teaches a deployment that weight."""
    import torch

    from infra.sample_data.generator import build
    from models.ranking.train import TrainConfig, train_ranker

    torch.set_num_threads(1)
    sample = build(20261125, 0.04)
    reports = []
    for promote, seed in (("auto", 0), ("challenger", 1)):
        cfg = TrainConfig(n_impressions=400, list_size=10, max_epochs=2, seed=seed, promote=promote,
                          label_source="simulated")
        reports.append(train_ranker(settings, cfg, tables=sample.tables, truth=sample.truth, engine=None))
    return reports


@dataclass
class Prepared:
    """A migrated, seeded database, the retrieval index and registered rankers: what a service host needs."""
    dbname: str
    engine: object
    data_dir: Path
    env: dict  # the service's environment (settings as NAVIYAM_* variables)


@pytest.fixture(scope="session")
def e2e_env(settings, tmp_path_factory) -> Prepared:
    from infra.db import get_engine
    from infra.schema import create_database, drop_database, prepare
    from models.retrieval.store import EdgeStore

    import e2e_seed as seed

    dbname = f"naviyam_e2e_{uuid.uuid4().hex[:8]}"
    create_database(settings, dbname)
    engine = get_engine(settings.sqlalchemy_url(dbname))
    prepare(engine, settings)
    seed.seed(engine, settings.card_hash_key.get_secret_value())
    data_dir = tmp_path_factory.mktemp("e2e-data")
    from models.retrieval import build_index

    store = EdgeStore(data_dir / "qdrant")
    build_index(engine, store=store, full=True)
    store.close()

    _register_tiny_rankers(settings)
    env = {"NAVIYAM_DATA_DIR": str(data_dir), "NAVIYAM_PG_DATABASE": dbname, "NAVIYAM_API_KEY": API_KEY,
           "NAVIYAM_PG_HOST": settings.pg_host, "NAVIYAM_PG_PORT": str(settings.pg_port),
           "NAVIYAM_REDIS_URL": settings.redis_url, "BENTOML_DO_NOT_TRACK": "true",
           "NAVIYAM_MLFLOW_TRACKING_URI": settings.mlflow_uri}
    yield Prepared(dbname=dbname, engine=engine, data_dir=data_dir, env=env)
    engine.dispose()
    drop_database(settings, dbname)


class OtlpReceiver:
    """A tiny OTLP/HTTP collector: keeps every JSON body posted to /v1/traces."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[dict]:
        return [span for body in self.bodies for rs in body.get("resourceSpans", [])
                for ss in rs.get("scopeSpans", []) for span in ss.get("spans", [])]


@pytest.fixture(scope="session")
def otlp() -> OtlpReceiver:
    receiver = OtlpReceiver()
    yield receiver
    receiver.server.shutdown()


def _wait_every_worker(url: str, workers: int, timeout: float = 120.0) -> None:
    """Until each of the service's workers has answered a request: ``/readyz`` passes once the
    first worker is up, and a test that starts while the second one still warms up (models, the
    shard, a first search: a second of both cores) measures that start, not what it tests."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only workers {sorted(seen)} of {workers} answered within {timeout:.0f}s")
        try:  # a new connection each time, so the workers take turns accepting
            r = httpx.post(url + "/status", json={}, headers={"X-API-Key": API_KEY, "Connection": "close"},
                           timeout=10)
            if r.status_code == 200:
                seen.add(int(r.json()["worker_pid"]))
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


@pytest.fixture(scope="session")
def service(e2e_env, settings, otlp) -> Service:
    """The service, reaching PostgreSQL and Redis through TCP proxies the outage tests can cut."""
    from urllib.parse import urlparse

    from serving.process import start_service, stop_service, wait_ready
    from tcp_proxy import TcpProxy

    data_dir = e2e_env.data_dir
    pg_proxy = None if settings.pg_uses_socket else TcpProxy(settings.pg_host, settings.pg_port)
    redis_url = urlparse(settings.redis_url)
    redis_proxy = TcpProxy(redis_url.hostname or "127.0.0.1", redis_url.port or 6379) \
        if redis_url.scheme == "redis" else None
    redis_auth = redis_url.netloc.rsplit("@", 1)[0] + "@" if "@" in redis_url.netloc else ""
    env = {**e2e_env.env,
           "NAVIYAM_PG_HOST": "127.0.0.1" if pg_proxy else settings.pg_host,
           "NAVIYAM_PG_PORT": str(pg_proxy.port if pg_proxy else settings.pg_port),
           "NAVIYAM_REDIS_URL": f"redis://{redis_auth}127.0.0.1:{redis_proxy.port}{redis_url.path}"
           if redis_proxy else settings.redis_url,
           "NAVIYAM_OTLP_ENDPOINT": otlp.url, "OTEL_BSP_SCHEDULE_DELAY": "500",
           # Every e2e test shares this service from one address, and several send wrong or missing
           # keys on purpose (schemathesis many): the default lockout would then refuse the tests that
           # follow. Limits are tested on their own in tests/integration/test_serving_guard.py.
           "NAVIYAM_AUTH_FAILURES_PER_MINUTE": "1000000", "NAVIYAM_RATE_LIMIT_PER_MINUTE": "1000000"}
    port = _free_port()
    log_path = data_dir / "service.log"
    proc = start_service(port, env=env, log_path=log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, timeout=240, proc=proc)
        _wait_every_worker(url, settings.serving_workers)
    except Exception:
        stop_service(proc)
        print(log_path.read_text()[-4000:])
        raise
    yield Service(url=url, api_key=API_KEY, engine=e2e_env.engine, dbname=e2e_env.dbname, log_path=log_path,
                  data_dir=data_dir, proc=proc, pg_proxy=pg_proxy, redis_proxy=redis_proxy)
    stop_service(proc)
    for proxy in (pg_proxy, redis_proxy):
        if proxy is not None:
            proxy.close()


@pytest.fixture()
def client():
    with httpx.Client() as c:
        yield c
