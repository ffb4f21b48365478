"""The multi-host rehearsal (issue 19): three chat-service hosts, each in its own network namespace,
behind HAProxy with no session affinity, sharing the one PostgreSQL and Redis.

* scripted conversations (budget → food → "매운 거 빼고" → "아까 거") keep their context while
  their turns land on different hosts;
* throughput with 1, 2 and 3 hosts in rotation (printed; on 2 cores the curve is flat by design);
* one host is killed (SIGKILL) under load: HAProxy takes it out, the conversations carry on, and
  every acknowledged turn's log rows are counted: lost, doubled; it comes back and rejoins;
* another is drained and stopped the way Kubernetes stops a pod (out of rotation, then SIGTERM):
  nothing lost.

Needs root (``ip netns``) and installs HAProxy/socat from Debian when missing. The figures are
printed as ``REHEARSAL {json}``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from infra.deploy import rehearsal as rh

pytestmark = [
    pytest.mark.e2e, pytest.mark.slow,
    # iproute2, HAProxy and socat are installed from Debian when missing (rehearsal.ensure_tools)
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

USERS = ["1", "2", "3"]
N_HOSTS = 3


def _train_nlu_once(e2e_env) -> None:
    """The hosts share the prepared data folder's models; without a trained NLU classifier each
    would train its own from the grammar at start, three at once on two cores."""
    from models.nlu.classifier import MODEL_FILENAME

    if not (e2e_env.data_dir / "models" / "nlu" / MODEL_FILENAME).exists():
        subprocess.run([sys.executable, "-c", "from models.nlu.registry import load_intent_model; load_intent_model()"],
                       env={**os.environ, **e2e_env.env}, cwd=rh.PROJECT_ROOT, check=True, timeout=600,
                       capture_output=True)


@pytest.fixture(scope="module")
def cluster(e2e_env, settings, tmp_path_factory):
    rh.ensure_tools()
    _train_nlu_once(e2e_env)
    redis = urlsplit(settings.redis_url)
    work = tmp_path_factory.mktemp("rehearsal")
    with rh.Network(N_HOSTS, (settings.pg_host, settings.pg_port),
                    (redis.hostname or "127.0.0.1", redis.port or 6379)) as net:
        hosts = rh.make_hosts(N_HOSTS, net, e2e_env.data_dir, e2e_env.env, work)
        balancer = rh.Balancer(hosts, work)
        try:
            for h in hosts:
                h.start()
            with ThreadPoolExecutor(N_HOSTS) as pool:
                list(pool.map(lambda h: h.wait_ready(timeout=480), hosts))
            balancer.start()
            for h in hosts:
                balancer.wait_state(h.name, "UP")
            yield hosts, balancer
        finally:
            balancer.stop()
            for h in hosts:
                h.stop()
            for h in hosts:
                if h.log_path.exists():
                    tail = h.log_path.read_text(errors="replace")[-1500:]
                    print(f"--- {h.name} log tail ---\n{tail}")


def _settle(engine, sql: str, params: dict, timeout: float = 15.0):
    """The query's result once it stops changing (the hosts' event logs flush every 0.2 s)."""
    last, stable_since, deadline = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            now = conn.execute(text(sql), params).all()
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 1.5:
            break
        time.sleep(0.3)
    return last


def log_audit(engine, turns: list[rh.Turn]) -> dict:
    """Each acknowledged turn's rows: missing ones (lost) and repeated ones (written twice)."""
    ids = [t.body["event_id"] for t in turns]
    sessions = sorted({t.session_id for t in turns})
    conv = dict(_settle(engine, "SELECT event_id::text, count(*) FROM conversations WHERE event_id = ANY(CAST(:i AS uuid[])) "
                                "GROUP BY 1", {"i": ids}))
    recs = dict(_settle(engine, "SELECT event_id::text, count(*) FROM recommendations_log "
                                "WHERE event_id = ANY(CAST(:i AS uuid[])) GROUP BY 1", {"i": ids}))
    ctx = {(s, t): n for s, t, n in _settle(
        engine, "SELECT session_id, conversation_turn, count(*) FROM conversation_contexts WHERE session_id = ANY(:s) "
                "GROUP BY 1, 2", {"s": sessions})}
    turn_twice = _settle(engine, "SELECT session_id, conversation_turn, count(*) FROM conversations WHERE session_id = "
                                 "ANY(:s) GROUP BY 1, 2 HAVING count(*) > 1", {"s": sessions})
    lost = {"conversations": sum(1 for i in ids if i not in conv),
            "recommendations_log": sum(1 for i in ids if i not in recs),
            "conversation_contexts": sum(1 for t in turns if (t.session_id, t.body["turn"]) not in ctx)}
    doubled = {"conversations_by_event": sum(1 for n in conv.values() if n > 1),
               "recommendations_log_by_event": sum(1 for n in recs.values() if n > 1),
               "session_turn_logged_twice": len(turn_twice)}
    lost_turns = [t for t in turns if t.body["event_id"] not in conv]
    return {"acked_turns": len(turns), "lost": lost, "doubled": doubled, "lost_turns": lost_turns}


LOG_TABLES = ("conversations", "conversation_contexts", "user_interactions", "recommendations_log", "performance_logs")


def capacity_inputs(engine, driver: rh.Driver) -> dict:
    """What the capacity model needs from a real run: database connections held by the hosts, and
    rows and bytes each turn writes (the rows of these sessions, as stored)."""
    sessions = list(driver.conversations)
    turns = len(driver.acked())
    out: dict = {"turns": turns}
    with engine.connect() as conn:
        out["pg_connections_to_the_database"] = conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")).scalar()
        rows = total = 0
        for table in LOG_TABLES:
            n, size = conn.execute(text(f"SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0) FROM {table} t "
                                        "WHERE session_id = ANY(:s)"), {"s": sessions}).one()
            rows, total = rows + n, total + size
        n, size = conn.execute(text(
            "SELECT count(*), coalesce(sum(pg_column_size(f.*)), 0) FROM recommendation_features f "
            "JOIN recommendations_log r ON r.event_id = f.recommendation_event_id WHERE r.session_id = ANY(:s)"),
            {"s": sessions}).one()
        rows, total = rows + n, total + size
    out["log_rows_per_turn"] = round(rows / turns, 2) if turns else None
    out["log_bytes_per_turn"] = round(total / turns) if turns else None  # heap tuples, before indexes
    return out


def test_multi_host_rehearsal(cluster, e2e_env):
    hosts, balancer = cluster
    api_key = e2e_env.env["NAVIYAM_API_KEY"]
    report: dict = {"hosts": N_HOSTS, "cores": os.cpu_count()}
    make_driver = lambda: rh.Driver(balancer.url, api_key, USERS)  # noqa: E731

    # --- 1. conversations whose turns land on different hosts keep their context ---------------------
    d = make_driver()
    d.run(concurrency=6, conversations=30)
    problems = {s: rh.context_problems(turns) for s, turns in d.conversations.items()}
    cross = [s for s, turns in d.conversations.items() if len({t.host for t in turns}) >= 2]
    passed_cross = [s for s in cross if not problems[s]]
    report["conversations"] = {"total": len(d.conversations), "cross_host": len(cross),
                               "cross_host_passed": len(passed_cross),
                               "hosts_per_conversation": sorted({len({t.host for t in ts}) for ts in d.conversations.values()})}
    assert not {s: p for s, p in problems.items() if p}, problems
    assert len(cross) >= 20, report["conversations"]  # round robin, no affinity: nearly every one crosses
    assert {t.host for t in d.acked()} == {h.name for h in hosts}
    audit = log_audit(e2e_env.engine, d.acked())
    assert sum(audit["lost"].values()) == 0 and sum(audit["doubled"].values()) == 0, audit
    report["capacity_inputs"] = capacity_inputs(e2e_env.engine, d)

    # --- 2. throughput with 1, 2, 3 hosts -------------------------------------------------------------
    print("REHEARSAL conversations " + json.dumps(report, ensure_ascii=False))
    report["throughput"] = rh.throughput(balancer, make_driver, hosts, [1, 2, 3], seconds=8.0, concurrency_per_host=3)
    assert all(r["turns"] > 0 for r in report["throughput"])

    # --- 3. one host killed under load, then back -----------------------------------------------------
    victim = hosts[1]
    load = make_driver()
    runner = threading.Thread(target=load.run, kwargs={"concurrency": 6, "seconds": 14.0})
    runner.start()
    time.sleep(5.0)
    assert balancer.states()[victim.name].startswith("UP"), balancer.states()
    killed_at = time.monotonic()
    victim.stop(signal.SIGKILL)
    gone_at = time.monotonic()  # every process of the host is dead
    drained_s = balancer.wait_state(victim.name, "DOWN", timeout=15)
    spool_left = victim.spool_records()
    victim.start()  # back while the others carry the load; its spool (if any) replays at start
    runner.join()
    victim.wait_ready(timeout=480)
    rejoined_s = balancer.wait_state(victim.name, "UP", timeout=30)
    after = make_driver()
    after.run(concurrency=3, conversations=6)
    acked = load.acked()
    audit = log_audit(e2e_env.engine, acked)
    # turns acknowledged by the victim in the last moments before the kill, by age
    lost_age = sorted(round(killed_at - t.acked_at, 3) for t in audit["lost_turns"])
    lost_detail = [(t.host, t.session_id, t.index, round(killed_at - t.acked_at, 3)) for t in audit["lost_turns"]]
    clean = [s for s, turns in load.conversations.items() if all(t.attempts == 1 for t in turns)]
    resent = {s: turns for s, turns in load.conversations.items() if s not in clean}
    report["host_kill"] = {
        "killed": victim.name, "signal": "SIGKILL", "balancer_marked_down_after_s": round(drained_s, 2),
        "acked_turns": len(acked), "acked_by_victim": sum(1 for t in acked if t.host == victim.name),
        "failed_attempts_resent": load.failed_attempts, "failures": load.failures, "conversations": len(load.conversations),
        "conversations_with_a_resent_turn": len(resent),
        "context_problems_in_untouched_conversations": sum(1 for s in clean if rh.context_problems(load.conversations[s])),
        "lost": audit["lost"], "doubled": audit["doubled"], "lost_turn_ack_age_s": lost_age,
        "lost_turns_host_session_turn_age": lost_detail, "kill_took_s": round(gone_at - killed_at, 3),
        "spool_records_left_by_victim": spool_left, "rejoined_after_restart_s": round(rejoined_s, 2),
        "victim_serves_again": any(t.host == victim.name for t in after.acked()),
    }
    print("REHEARSAL host_kill " + json.dumps(report["host_kill"], ensure_ascii=False))
    assert sum(audit["doubled"].values()) == 0, report["host_kill"]
    assert report["host_kill"]["context_problems_in_untouched_conversations"] == 0, report["host_kill"]
    assert report["host_kill"]["victim_serves_again"]
    # Known gap (issue 13, item 1): a turn is acknowledged while its records still sit in the
    # writer's memory queue (flushed every 0.2 s), so a SIGKILL can lose the last moments of the
    # victim's turns. What is true today: a lost turn is always one the victim acknowledged
    # before it was killed (its age is reported), never another host's.
    assert all(t.host == victim.name and t.acked_at <= gone_at for t in audit["lost_turns"]), lost_detail

    # --- 4. a graceful stop (what Kubernetes does to a pod): drain, SIGTERM: nothing lost ---------------
    leaving = hosts[2]
    load = make_driver()
    runner = threading.Thread(target=load.run, kwargs={"concurrency": 4, "seconds": 8.0})
    runner.start()
    time.sleep(3.0)
    drained = balancer.drain(leaving.name)  # no new turns; the in-flight ones are answered
    leaving.stop(signal.SIGTERM)
    runner.join()
    audit = log_audit(e2e_env.engine, load.acked())
    report["graceful_stop"] = {"stopped": leaving.name, "drained_in_s": round(drained, 2),
                               "acked_turns": audit["acked_turns"],
                               "acked_by_stopped": sum(1 for t in load.acked() if t.host == leaving.name),
                               "failed_attempts_resent": load.failed_attempts, "failures": load.failures,
                               "lost": audit["lost"], "doubled": audit["doubled"]}
    print("REHEARSAL " + json.dumps(report, ensure_ascii=False))
    assert sum(audit["lost"].values()) == 0 and sum(audit["doubled"].values()) == 0, report["graceful_stop"]
    # the stop itself must cost no client an error: no refused or broken request from the leaving
    # host or from the balancer ("-": no answer, or the balancer's own 502/503). A surviving host
    # that sheds a turn under this machine's load (a 503 from its database deadline) is reported
    # in "failures" but is not the stop's doing.
    caused_by_stop = {k: n for k, n in load.failures.items() if k.split()[0] in ("-", leaving.name)}
    assert not caused_by_stop, report["graceful_stop"]
