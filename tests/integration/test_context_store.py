"""The session context across processes and hosts: Redis is the truth, each L1 only a checked copy.

Two ``LayeredContextStore`` objects stand for two service hosts behind a balancer with no session
affinity; they share the real Redis and PostgreSQL, as the hosts of the multi-host rehearsal do.
"""

from __future__ import annotations

import json
import uuid

import pytest
import redis
from sqlalchemy import text

from serving.adapters import LayeredContextStore

pytestmark = pytest.mark.integration


def _state(session: str, turn: int, **frame) -> dict:
    return {"session_id": session, "user_id": "u1", "turn": turn, "user_turns": turn, "frame": frame}


def _record(engine, state: dict) -> None:
    """The conversation_contexts row the event log writes for a turn."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO conversation_contexts (session_id, user_id, conversation_turn, context_data, "
                          "expires_at) VALUES (:s, 'u1', :t, CAST(:d AS jsonb), now() + interval '1 day')"),
                     {"s": state["session_id"], "t": state["turn"], "d": json.dumps(state)})


def test_a_turn_saved_on_another_host_replaces_this_hosts_l1(migrated_engine, redis_client):
    from infra.redis_client import get_redis

    session = f"xhost-{uuid.uuid4().hex[:8]}"
    host_a, host_b = LayeredContextStore(migrated_engine, get_redis), LayeredContextStore(migrated_engine, get_redis)
    host_a.save(_state(session, 1, budget=5000))
    assert host_a.load(session, "u1")[1] == "l1"  # its own write, confirmed by the version in Redis
    got, level, _ = host_b.load(session, "u1")
    assert (got["turn"], level) == (1, "redis")
    host_b.save(_state(session, 2, budget=5000, food_type="떡볶이"))
    # host A still holds turn 1 in its L1: the version check refuses it
    got, level, turns = host_a.load(session, "u1")
    assert (got["turn"], got["frame"].get("food_type"), level, turns) == (2, "떡볶이", "redis", 2)
    assert host_a.load(session, "u1")[1] == "l1"  # and now it caches turn 2
    assert host_b.load(session, "u1")[1] == "l1"


def test_without_redis_the_newer_of_l1_and_the_record_wins(migrated_engine, redis_client):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    session = f"noredis-{uuid.uuid4().hex[:8]}"
    store = LayeredContextStore(migrated_engine, lambda: dead)
    _record(migrated_engine, _state(session, 2, budget=5000))
    store.save(_state(session, 3, budget=4000))  # Redis down: only this host's L1 has turn 3 yet
    store.breaker.reset()  # try Redis again (it is still down) instead of waiting out the cooldown
    got, level, _ = store.load(session, "u1")
    assert (got["turn"], got["frame"]["budget"], level) == (3, 4000, "l1")
    _record(migrated_engine, _state(session, 4, budget=3000))  # another host's turn reached the record
    got, level, _ = store.load(session, "u1")
    assert (got["turn"], got["frame"]["budget"], level) == (4, 3000, "postgres")


def test_a_turn_kept_through_a_redis_outage_outranks_the_stale_redis_copy(migrated_engine, redis_client):
    from infra.redis_client import get_redis

    session = f"outage-{uuid.uuid4().hex[:8]}"
    up = {"on": True}
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    store = LayeredContextStore(migrated_engine, lambda: get_redis() if up["on"] else dead)
    store.save(_state(session, 1, budget=5000))
    up["on"] = False
    store.save(_state(session, 2, budget=6000))  # Redis still holds turn 1
    up["on"] = True
    store.breaker.reset()
    got, level, _ = store.load(session, "u1")
    assert (got["turn"], got["frame"]["budget"], level) == (2, 6000, "l1")
