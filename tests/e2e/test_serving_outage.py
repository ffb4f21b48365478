"""Lossless logging through the real service: PostgreSQL connections are killed (and refused for a
while) in the middle of a load; afterwards every answered turn is in the log tables exactly once."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
import uuid

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from e2e_seed import wait_rows

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEXTS = ["떡볶이 먹고 싶어", "김밥 5천원", "배고픈데 4천원밖에 없어", "근처 국밥집", "짜장면 먹을래", "도시락 추천해줘",
         "매운 거 빼고", "쿠폰 있어?"]


def _connections(settings, dbname: str, allowed: bool) -> None:
    with psycopg.connect(settings.libpq_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(dbname), sql.SQL("true" if allowed else "false")))
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname,))


def test_database_killed_mid_load_nothing_missing_nothing_doubled(service, settings):
    run = uuid.uuid4().hex[:6]
    n_requests, workers = 80, 4
    answered: list[str] = []
    failed: list[int] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        # each worker owns its sessions, so turns of one session never race each other
        with httpx.Client() as c:
            for j in range(n_requests // workers):
                user = f"out{run}u{w}{j % 2}"
                body = {"user_id": user, "session_id": f"out{run}s{w}{j % 2}", "text": TEXTS[(w + j) % len(TEXTS)],
                        "location": {"lat": 37.556, "lon": 126.905}}
                r = c.post(service.url + "/chat", json=body, headers=service.headers(), timeout=30)
                with lock:
                    (answered.append(r.json()["event_id"]) if r.status_code == 200 else failed.append(r.status_code))
                time.sleep(0.05)

    def outage() -> None:
        time.sleep(1.0)
        _connections(settings, service.dbname, False)
        try:
            time.sleep(2.5)
        finally:
            _connections(settings, service.dbname, True)

    killer = threading.Thread(target=outage)
    killer.start()
    with cf.ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))
    killer.join()

    # each worker process keeps its own event log: ask, on a new connection each time (a kept-alive
    # one stays with one worker), until every worker has answered
    spooled: dict[int, int] = {}
    for _ in range(60):
        status = httpx.post(service.url + "/status", json={}, headers={**service.headers(), "Connection": "close"},
                            timeout=30).json()
        spooled[status["worker_pid"]] = status["event_log"]["spooled"]
        if len(spooled) >= settings.serving_workers:
            break
    assert sum(spooled.values()) > 0, f"the outage should have sent records to the spool: {spooled}"
    assert len(answered) >= n_requests * 0.9, f"the service should keep answering during the outage: {failed}"

    e = service.engine
    n = len(answered)
    like = {"p": f"out{run}%"}
    assert wait_rows(e, "SELECT count(*) FROM conversations WHERE user_id LIKE :p", like, n, timeout=60) == n
    with e.connect() as conn:
        ids = set(answered)
        for table in ("conversations", "recommendations_log"):
            rows = conn.execute(text(f"SELECT event_id::text, count(*) FROM {table} WHERE user_id LIKE :p "
                                     "GROUP BY event_id"), like).all()
            assert {r[0] for r in rows} == ids, table
            assert all(r[1] == 1 for r in rows), f"{table}: a turn written twice"
        for table in ("user_interactions", "performance_logs"):
            total, distinct = conn.execute(text(f"SELECT count(*), count(DISTINCT event_id) FROM {table} "
                                                "WHERE user_id LIKE :p"), like).one()
            assert total == distinct >= n, table
        contexts = conn.execute(text("SELECT count(*) FROM conversation_contexts WHERE user_id LIKE :p"), like).scalar()
        assert contexts == n
        nlu = conn.execute(text("SELECT count(*), count(DISTINCT (created_at, user_id, input_text)) FROM nlu_training_data "
                                "WHERE user_id LIKE :p"), like).one()
        assert nlu[0] == nlu[1] == n
