"""The load benchmark's own logic: all-miss utterances, miss accounting, open-loop timing, rate search."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

from models.retrieval.sparse import dense_query
from serving import bench


def test_miss_utterances_never_repeat_their_content_words():
    texts = list(itertools.islice(bench.miss_utterances(seed=11), 400))
    keys = [dense_query(t) for t in texts]  # what the query-embedding cache keys on
    assert len(set(texts)) == len(texts)
    assert len(set(keys)) == len(keys)


def test_is_query_miss_reads_the_answers_cache_levels():
    assert bench.is_query_miss({"nlu": "model", "embedding": "miss", "retrieval": "miss", "context": "l1"})
    assert not bench.is_query_miss({"nlu": "model", "embedding": "l2", "retrieval": "miss"})
    assert not bench.is_query_miss({"nlu": "cache_l1", "embedding": "miss", "retrieval": "miss"})


def test_failed_requests_count_as_infinitely_slow_in_p99_all():
    tally = bench._Tally()
    body = json.dumps({"timings_ms": {"total": 5.0}, "cache": {"nlu": "model"}}).encode()
    for _ in range(95):
        tally.ok(10.0, body)
    tally.timeouts = 5
    out = tally.summary(1.0)
    assert out["p99_ms"] == 10.0 and out["p99_all_ms"] == float("inf")
    assert out["timeouts"] == 5 and out["query_miss_rate"] == 1.0


def test_max_rate_within_finds_the_knee():
    def probe(rate):  # a service that keeps p99 at 50 ms up to 37 req/s, then queues
        return {"p99_all_ms": 50.0 if rate <= 37 else 500.0, "rate": rate}

    out = bench.max_rate_within(probe, p99_ms=100, start=5, steps=5)
    assert 34 <= out["max_rps"] <= 37 and out["first_failing_rps"] > 37
    assert [t["rate"] for t in out["tried"]][:4] == [5, 10, 20, 40]


class _SerialServer:
    """A real HTTP/1.1 server on loopback that answers one request at a time in ``service_s``."""

    def __init__(self, service_s: float) -> None:
        self.service_s = service_s
        self.lock = None
        self.port = 0
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.lock = asyncio.Lock()

        async def handle(reader, writer):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                                  if ln.lower().startswith(b"content-length")][0])
                    await reader.readexactly(length)
                    async with self.lock:  # one at a time: arrivals faster than 1/service_s queue up
                        await asyncio.sleep(self.service_s)
                    body = json.dumps({"timings_ms": {"total": 1}, "cache": {"nlu": "model"}}).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = self.loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()


def test_open_loop_counts_latency_from_the_scheduled_send_time():
    """Lower bounds only (a busy machine makes everything slower, never faster than the schedule)."""
    server = _SerialServer(service_s=0.05)  # at most 20 answers a second
    url = f"http://127.0.0.1:{server.port}"
    texts = ["x"] * 20
    # 200 req/s offered over one connection: request i waits for the i answers before it, so counted
    # from its scheduled send time it took at least (i + 1) x 50 ms - i x 5 ms; counted from the
    # moment it went out on the wire, each would look like one 50 ms service time
    out = bench.drive_open_loop(url, "k", texts, rate=200, users=["u"], run_tag="t", timeout=30, max_connections=1)
    assert out["requests"] == 20 and out["timeouts"] == 0 and out["offered_rps"] == 200
    assert out["p99_ms"] >= 0.9 * (20 * 50 - 19 * 5)
    assert out["p50_ms"] >= 0.9 * (10 * 50 - 9 * 5)
    short = bench.drive_open_loop(url, "k", texts, rate=200, users=["u"], run_tag="t", timeout=0.3, max_connections=1)
    assert short["timeouts"] > 0 and short["requests"] + short["timeouts"] + sum(short["errors"].values()) == 20
    assert short["p99_all_ms"] == float("inf")


def test_rate_limited_counts_the_refused_requests_of_every_closed_loop_phase():
    from serving.bench import rate_limited

    levels = {"1": {"cache_miss": {"errors": {}}, "cache_hit": {"errors": {"429": 15, "500": 1}}},
              "4": {"cache_miss": {"errors": {"429": 2}}, "cache_hit": {"errors": {}}}}
    assert rate_limited(levels) == 17
    assert rate_limited({}) == 0
