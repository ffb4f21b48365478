"""Load generator for ``POST /chat`` on loopback (a command, not a test): bounded in count and time.

* Floors, measured in the same run: the round trip of the trivial ``GET /healthz`` (what HTTP and the
  framework cost) and the same chat turns run by the pipeline in the benchmark's own process (no
  HTTP, one at a time).
* Closed loop, for each concurrency level, two phases: cache-miss (every utterance names dishes and a
  place never sent together before, so the NLU, embedding and result caches all miss: the run reads
  each answer's cache levels, reports the miss rate and fails the phase below 0.99) and cache-hit
  (a small pool sent once beforehand).
* Open loop: requests at a fixed arrival rate whatever the answers do, latency counted from each
  request's scheduled send time, errors and timeouts counted (and counted as infinitely slow in
  ``p99_all_ms``); it searches the highest rate whose p99 stays within 100 ms.

It reports p50/p95/p99 and throughput per phase, the service's CPU per request, and the server's
stage breakdown read back from ``performance_logs`` (the rows the benchmark's own requests wrote).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from serving.process import LOAD_GENERATOR_RATE_LIMIT_ENV

FOODS = ["떡볶이", "김밥", "라면", "순대", "우동", "짜장면", "짬뽕", "볶음밥", "돈까스", "초밥", "덮밥", "피자",
         "치킨", "햄버거", "샌드위치", "국밥", "비빔밥", "김치찌개", "도시락", "죽", "빵", "쌀국수", "파스타", "분식",
         "중식", "한식", "일식", "양식", "버거", "컵밥", "냉면", "칼국수", "수제비", "만두", "어묵", "튀김", "제육볶음",
         "불고기", "된장찌개", "순두부찌개", "부대찌개", "감자탕", "갈비탕", "설렁탕", "삼계탕", "오므라이스", "카레",
         "마라탕", "탕수육", "쫄면", "라볶이", "주먹밥", "토스트", "와플", "샐러드", "닭강정", "핫도그", "떡국", "잔치국수",
         "비빔국수"]
AMOUNTS = ["3천원", "3500원", "4천원", "4500원", "5천원", "5500원", "6천원", "6500원", "7천원", "7500원", "8천원",
           "8500원", "9천원", "만원", "만 이천원", "만 오천원", "2만원", "오천원", "사천원", "육천원"]
PLACES = ["망원동", "합정동", "연남동", "서교동", "성산동", "상암동", "신촌동", "대흥동", "공덕동", "도화동", "아현동",
          "염리동", "노고산동", "창천동", "대현동", "북아현동", "충정로", "홍제동", "연희동", "남가좌동", "북가좌동",
          "응암동", "역촌동", "불광동", "갈현동", "구산동", "대조동", "녹번동", "수색동", "증산동", "하계동", "중계동",
          "상계동", "월계동", "공릉동", "목동", "신정동", "신월동", "화곡동", "등촌동"]
TEMPLATES = [
    "{place}에서 {amount}으로 {food} 먹고 싶어",
    "배고픈데 {amount}밖에 없어 {place} {food} 같은 거",
    "{food} 먹고 싶은데 {amount} 있어 {place}",
    "{place} {food} 파는 곳 알려줘 {amount} 이하로",
    "지금 {place}에서 {food} 먹을 수 있는 곳 {amount}",
    "친구랑 {place}에서 {food} 먹을 건데 {amount} 있어",
    "{place} {food} 맛집 추천해줘 {amount}",
    "빨리 {food} 먹고 싶어 {place} {amount}",
]
# the response's cache levels that mean "served from a cache" (serving/pipeline.py's levels)
HIT_LEVELS = {"l1", "l2", "l3", "redis", "postgres", "cache_l1", "cache_redis", "cache_db", "hit"}
QUERY_CACHES = ("nlu", "embedding", "retrieval")
HIT_POOL = ["배고픈데 5천원밖에 없어", "떡볶이 먹고 싶어", "쿠폰 있어?", "김밥 추천해줘", "근처 맛집 알려줘",
            "만원으로 뭐 먹지", "지금 열린 곳 있어?", "매운 거 빼고", "짜장면 먹고 싶어", "치킨 먹고 싶어",
            "10명이 먹을 수 있는 곳", "안녕", "도시락 먹고 싶어", "빵 먹고 싶어", "국밥 먹을래"]
HOME = {"lat": 37.5560, "lon": 126.9050}


def _has_final(word: str) -> bool:
    """Whether the last Hangul syllable has a final consonant (떡볶이랑 vs 김밥이랑)."""
    code = ord(word[-1]) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


def miss_utterances(seed: int = 7):
    """An endless stream of utterances whose content words never repeat (seeded order).

    The caches key on more than the text: the query embedding on its content words (the nouns and
    stems), so two phrasings of "떡볶이 5천원" share a vector. Every utterance here names its own
    pair of dishes and a place (60 × 59 × 40 = 141,600 combinations; templates and amounts vary on
    top), so the NLU, embedding and result caches all miss; the run measures the miss rate it got."""
    combos = list(itertools.product(range(len(FOODS)), range(len(FOODS) - 1), range(len(PLACES))))
    rng = random.Random(seed)
    rng.shuffle(combos)
    for i, (a, b, p) in enumerate(combos):
        b = b + 1 if b >= a else b  # a second dish, never the first one again
        particle = ("이나" if _has_final(FOODS[a]) else "나") if i % 2 else ("이랑" if _has_final(FOODS[a]) else "랑")
        food = f"{FOODS[a]}{particle} {FOODS[b]}"
        template = TEMPLATES[i % len(TEMPLATES)]
        yield template.format(food=food, amount=AMOUNTS[rng.randrange(len(AMOUNTS))], place=PLACES[p])
    n = 0
    while True:  # beyond the grid (not reached by a bounded run): numbered variants
        n += 1
        a, b, p = combos[n % len(combos)]
        yield f"{FOODS[a]} {FOODS[(a + 1 + b) % len(FOODS)]} {PLACES[p]} {n}번째"


def is_query_miss(cache: dict[str, str] | None) -> bool:
    """True when none of the per-query caches (NLU, embedding, results) served this turn."""
    return not any((cache or {}).get(k) in HIT_LEVELS for k in QUERY_CACHES)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(q / 100 * (len(values) - 1)))))
    return round(values[k], 2)


def _server_cpu_s(pid: int | None) -> float | None:
    """CPU seconds used so far by the service's process tree (load-independent cost per request)."""
    if pid is None:
        return None
    try:
        import psutil

        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except Exception:
        return None


class _Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams.

    The load generator shares the 2 cores with the service it measures, so it must cost next to
    nothing per request: a hand-written request line and header parse instead of an HTTP library
    (httpx spent ~1.5 ms of CPU per request here, taken straight from the server's budget)."""

    def __init__(self, host: str, port: int, api_key: str) -> None:
        self.host, self.port, self.api_key = host, port, api_key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        return await self.request("POST", path, json.dumps(body, ensure_ascii=False).encode())

    async def request(self, method: str, path: str, payload: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nX-API-Key: {self.api_key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n").encode()
        assert self.writer is not None and self.reader is not None
        self.writer.write(head + payload)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length or 0)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


class _Tally:
    """Latencies, server totals, per-query cache misses, errors and timeouts of one phase."""

    def __init__(self) -> None:
        self.lat: list[float] = []
        self.server_total: list[float] = []
        self.misses = 0
        self.errors: dict[str, int] = {}
        self.timeouts = 0

    def ok(self, ms: float, data: bytes) -> None:
        body = json.loads(data)
        self.lat.append(ms)
        self.server_total.append(float(body["timings_ms"].get("total", 0.0)))
        self.misses += is_query_miss(body.get("cache"))

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def failed(self) -> int:
        return self.timeouts + sum(self.errors.values())

    def summary(self, wall: float) -> dict[str, Any]:
        # a failed request is not a fast one: it counts as infinitely slow in the all-requests p99
        everything = self.lat + [float("inf")] * self.failed
        return {"requests": len(self.lat), "errors": self.errors, "timeouts": self.timeouts, "wall_s": round(wall, 2),
                "throughput_rps": round(len(self.lat) / wall, 1) if wall > 0 else 0.0,
                "p50_ms": _pct(self.lat, 50), "p95_ms": _pct(self.lat, 95), "p99_ms": _pct(self.lat, 99),
                "p99_all_ms": _pct(everything, 99),
                "mean_ms": round(statistics.fmean(self.lat), 2) if self.lat else None,
                "query_miss_rate": round(self.misses / len(self.lat), 3) if self.lat else None,
                "server_p50_ms": _pct(self.server_total, 50), "server_p99_ms": _pct(self.server_total, 99)}


def _chat_body(text: str, i: int, users: list[str], run_tag: str, lane: int) -> dict[str, Any]:
    user = users[i % len(users)]
    return {"user_id": user, "session_id": f"{run_tag}-{user}-{lane}", "text": text, "location": HOME}


async def _drive(url: str, api_key: str, texts: list[str], concurrency: int, max_seconds: float, users: list[str],
                 run_tag: str, timeout: float) -> _Tally:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    idx = itertools.count()
    tally = _Tally()
    deadline = time.monotonic() + max_seconds

    async def worker(w: int) -> None:
        conn = _Connection(host, port, api_key)
        try:
            while time.monotonic() < deadline:
                i = next(idx)
                if i >= len(texts):
                    return
                t = time.perf_counter()
                try:
                    status, data = await asyncio.wait_for(conn.post("/chat", _chat_body(texts[i], i, users, run_tag, w)),
                                                          timeout=timeout)
                except asyncio.TimeoutError:
                    tally.timeouts += 1
                    await conn.close()
                    continue
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    tally.error(type(exc).__name__)
                    await conn.close()
                    continue
                if status == 200:
                    tally.ok((time.perf_counter() - t) * 1000, data)
                else:
                    tally.error(str(status))
        finally:
            await conn.close()

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return tally


def drive(url: str, api_key: str, texts: list[str], concurrency: int, max_seconds: float, users: list[str],
          run_tag: str, server_pid: int | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """``concurrency`` closed-loop clients (each sends its next request when the last one returns)."""
    cpu0 = _server_cpu_s(server_pid)
    started = time.perf_counter()
    tally = asyncio.run(_drive(url, api_key, texts, concurrency, max_seconds, users, run_tag, timeout))
    wall = time.perf_counter() - started
    out = tally.summary(wall)
    out["server_cpu_ms_per_request"] = _cpu_per_request(server_pid, cpu0, len(tally.lat))
    return out


def _cpu_per_request(pid: int | None, cpu0: float | None, n: int) -> float | None:
    cpu1 = _server_cpu_s(pid)
    return round((cpu1 - cpu0) * 1000 / n, 2) if cpu0 is not None and cpu1 is not None and n else None


async def _open_loop(url: str, api_key: str, texts: list[str], rate: float, users: list[str], run_tag: str,
                     timeout: float, max_connections: int) -> _Tally:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    tally = _Tally()
    idle: list[_Connection] = []
    slots = asyncio.Semaphore(max_connections)
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(i: int, scheduled: float) -> None:
        async with slots:  # waiting for a free connection is part of the latency: it counts from `scheduled`
            conn = idle.pop() if idle else _Connection(host, port, api_key)
            try:
                status, data = await asyncio.wait_for(
                    conn.post("/chat", _chat_body(texts[i], i, users, run_tag, i % max_connections)),
                    timeout=max(0.001, scheduled + timeout - loop.time()))
            except asyncio.TimeoutError:
                tally.timeouts += 1
                await conn.close()
                return
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(type(exc).__name__)
                await conn.close()
                return
            idle.append(conn)
        if status == 200:
            tally.ok((loop.time() - scheduled) * 1000, data)
        else:
            tally.error(str(status))

    tasks = []
    for i in range(len(texts)):
        scheduled = t0 + i / rate  # fixed arrivals: a slow answer never delays the next request
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    for conn in idle:
        await conn.close()
    return tally


def drive_open_loop(url: str, api_key: str, texts: list[str], rate: float, users: list[str], run_tag: str,
                    server_pid: int | None = None, timeout: float = 2.0, max_connections: int = 64) -> dict[str, Any]:
    """Open loop: ``len(texts)`` requests sent at ``rate`` per second on a fixed schedule, whatever the
    answers do; each latency counts from the request's scheduled send time (so queueing shows)."""
    cpu0 = _server_cpu_s(server_pid)
    started = time.perf_counter()
    tally = asyncio.run(_open_loop(url, api_key, texts, rate, users, run_tag, timeout, max_connections))
    wall = time.perf_counter() - started
    out = {"offered_rps": rate, **tally.summary(wall)}
    out["server_cpu_ms_per_request"] = _cpu_per_request(server_pid, cpu0, len(tally.lat))
    return out


def max_rate_within(probe: Callable[[float], dict[str, Any]], p99_ms: float = 100.0, start: float = 5.0,
                    ceiling: float = 400.0, steps: int = 4) -> dict[str, Any]:
    """The highest arrival rate whose p99 (failed requests counted as infinitely slow) stays within
    ``p99_ms``: doubling from ``start`` until a rate fails, then ``steps`` bisections."""
    tried: list[dict[str, Any]] = []

    def ok(rate: float) -> bool:
        r = probe(rate)
        tried.append(r)
        return r["p99_all_ms"] <= p99_ms

    good, bad = 0.0, None
    rate = start
    while rate <= ceiling:
        if ok(rate):
            good, rate = rate, rate * 2
        else:
            bad = rate
            break
    if bad is not None and good > 0:
        for _ in range(steps):
            mid = round((good + bad) / 2, 1)
            if ok(mid):
                good = mid
            else:
                bad = mid
    return {"p99_limit_ms": p99_ms, "max_rps": good, "first_failing_rps": bad, "tried": tried}


async def _http_floor(url: str, api_key: str, n: int) -> list[float]:
    parsed = urlparse(url)
    conn = _Connection(parsed.hostname or "127.0.0.1", parsed.port or 80, api_key)
    lat = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            status, _ = await conn.request("GET", "/healthz")
            if status == 200:
                lat.append((time.perf_counter() - t) * 1000)
    finally:
        await conn.close()
    return lat


def http_floor(url: str, api_key: str, n: int = 200) -> dict[str, Any]:
    """Round trip of the trivial ``GET /healthz`` on one keep-alive connection: what HTTP and the
    framework cost before any chat work."""
    lat = asyncio.run(_http_floor(url, api_key, n))
    return {"requests": len(lat), "p50_ms": _pct(lat, 50), "p99_ms": _pct(lat, 99)}


def in_process_floor(miss_texts: list[str], users: list[str], run_tag: str) -> dict[str, Any]:
    """The same turns run by the pipeline in this process (no HTTP, one at a time): the floor /chat is
    measured against. The first turns pay the models' warm-up and are left out."""
    from serving.schemas import ChatRequest
    from serving.service import build_pipeline

    pipeline, _ = build_pipeline()
    try:
        for i, t in enumerate(HIT_POOL[:3]):
            pipeline.chat(ChatRequest.model_validate(_chat_body(t, i, users, run_tag + "w", 0)))
        miss, hit = [], []
        for i, t in enumerate(miss_texts):
            t0 = time.perf_counter()
            out = pipeline.chat(ChatRequest.model_validate(_chat_body(t, i, users, run_tag + "m", 0)))
            miss.append(((time.perf_counter() - t0) * 1000, is_query_miss(out.get("cache"))))
        for i, t in enumerate(HIT_POOL * 2):
            t0 = time.perf_counter()
            pipeline.chat(ChatRequest.model_validate(_chat_body(t, i, users, run_tag + "h", 0)))
            if i >= len(HIT_POOL):  # the second round hits
                hit.append((time.perf_counter() - t0) * 1000)
    finally:
        pipeline.close()
    miss_ms = [m for m, _ in miss]
    return {"turns": len(miss), "miss_p50_ms": _pct(miss_ms, 50), "miss_p99_ms": _pct(miss_ms, 99),
            "query_miss_rate": round(sum(1 for _, m in miss if m) / len(miss), 3) if miss else None,
            "hit_p50_ms": _pct(hit, 50), "hit_p99_ms": _pct(hit, 99)}


def _host() -> dict[str, Any]:
    import os

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "loadavg_at_start": load}


def sample_users(engine, n: int) -> list[str]:
    """Real users, meal-card holders first: their turns read a card, a wallet and feature rows, as a
    child's do (made-up ids would skip those reads and flatter the figures)."""
    from sqlalchemy import text

    try:
        with engine.connect() as conn:
            rows = conn.execute(text("""
                SELECT u.id FROM users u LEFT JOIN foodcard_users f ON f.user_id = u.id AND f.status = 'ACTIVE'
                ORDER BY (f.user_id IS NULL), md5(u.id::text) LIMIT :n
            """), {"n": n}).scalars().all()
    except Exception:  # no sample data loaded: the caller falls back to new users
        return []
    return [str(r) for r in rows]


def stage_breakdown(engine, session_prefix: str, since) -> dict[str, Any]:
    """Per-stage p50/p95 and the bottleneck counts from performance_logs rows of this run."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT optimization_suggestions->'stage_ms' AS stages, bottleneck_component, cache_hit_rate, total_time_ms,
                   memory_usage_mb
            FROM performance_logs WHERE "timestamp" >= :since AND session_id LIKE :s AND success
        """), {"since": since, "s": session_prefix + "%"}).mappings().all()
    stages: dict[str, list[float]] = {}
    bottlenecks: dict[str, int] = {}
    hit_rates, mem = [], []
    for r in rows:
        for k, v in (r["stages"] or {}).items():
            stages.setdefault(k, []).append(float(v))
        if r["bottleneck_component"]:
            bottlenecks[r["bottleneck_component"]] = bottlenecks.get(r["bottleneck_component"], 0) + 1
        if r["cache_hit_rate"] is not None:
            hit_rates.append(float(r["cache_hit_rate"]))
        if r["memory_usage_mb"] is not None:
            mem.append(float(r["memory_usage_mb"]))
    return {
        "rows": len(rows),
        "stage_ms": {k: {"p50": _pct(v, 50), "p95": _pct(v, 95)} for k, v in sorted(stages.items())},
        "bottleneck_component": dict(sorted(bottlenecks.items(), key=lambda kv: -kv[1])),
        "mean_cache_hit_rate": round(statistics.fmean(hit_rates), 3) if hit_rates else None,
        "max_memory_mb": max(mem) if mem else None,
    }


MIN_MISS_RATE = 0.99  # below this, the cache-miss phase measured cache hits and is failed


def rate_limited(levels: dict[str, dict[str, Any]]) -> int:
    """Requests of the closed-loop phases the service refused with 429 (left out of the latencies)."""
    return sum(int((phase.get("errors") or {}).get("429", 0))
               for phases in levels.values() for phase in phases.values() if isinstance(phase, dict))


def run_bench(url: str | None = None, requests: int = 200, levels: list[int] | None = None,
              max_seconds: float = 30.0, say: Callable[[str], None] = print, api_key: str | None = None,
              engine=None, server_pid: int | None = None, mode: str = "both", rate_seconds: float = 8.0,
              p99_limit_ms: float = 100.0, floors: bool = True, timeout: float = 2.0) -> dict[str, Any]:
    """Closed loop at each level in ``levels`` (``mode`` closed/both), then open loop: the highest
    arrival rate whose p99 stays within ``p99_limit_ms`` (``mode`` open/both), each probe
    ``rate_seconds`` long with cache-miss utterances; the floors first (``floors``). ``report["failures"]``
    names every phase that failed (a cache-miss phase whose measured miss rate was below 0.99)."""
    import httpx

    from infra.settings import get_settings

    levels = levels or [1, 4, 16]
    settings = get_settings()
    api_key = api_key or settings.api_key.get_secret_value()
    proc = None
    pid = server_pid
    if url is None:
        import socket

        from serving.process import start_service, wait_ready

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        log_path = settings.data_dir / "logs" / "serving-bench.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        say(f"bench: starting the service on {url} (log {log_path})")
        proc = start_service(port, log_path=log_path, env=LOAD_GENERATOR_RATE_LIMIT_ENV)
        pid = proc.pid
        wait_ready(url, proc=proc)
    if engine is None:
        from infra.db import get_engine

        engine = get_engine()
    run = uuid.uuid4().hex[:6]
    prefix = f"bench{run}"
    users = sample_users(engine, 32) or [f"{prefix}u{i}" for i in range(32)]
    from datetime import datetime, timezone

    since = datetime.now(timezone.utc)
    report: dict[str, Any] = {"url": url, "mode": mode, "requests_per_phase": requests,
                              "max_seconds_per_phase": max_seconds, "host": _host(), "levels": {}, "failures": []}
    stream = miss_utterances(seed=int(run, 16))  # a fresh order per run: earlier runs' caches must not hit

    def check_misses(name: str, phase: dict[str, Any]) -> None:
        rate = phase.get("query_miss_rate")
        phase["miss_rate_ok"] = rate is not None and rate >= MIN_MISS_RATE
        if not phase["miss_rate_ok"]:
            report["failures"].append(f"{name}: measured cache-miss rate {rate} < {MIN_MISS_RATE}")

    try:
        with httpx.Client(headers={"X-API-Key": api_key}, timeout=30) as c:  # warm the hit pool once
            for t in HIT_POOL:
                c.post(url + "/chat", json={"user_id": users[0], "session_id": f"{prefix}-warm", "text": t,
                                            "location": HOME}).raise_for_status()
        if floors:
            say("bench: floors: GET /healthz round trip, then the same turns in this process (no HTTP)")
            report["floors"] = {"http_healthz": http_floor(url, api_key),
                                "in_process_turn": in_process_floor([next(stream) for _ in range(60)], users,
                                                                    f"{prefix}f")}
            fl = report["floors"]
            say(f"  /healthz p50={fl['http_healthz']['p50_ms']} ms | in-process turn miss "
                f"p50={fl['in_process_turn']['miss_p50_ms']} p99={fl['in_process_turn']['miss_p99_ms']} ms, "
                f"hit p50={fl['in_process_turn']['hit_p50_ms']} ms")
        for level in levels if mode in ("closed", "both") else []:
            miss_texts = [next(stream) for _ in range(requests)]
            say(f"bench: closed loop, concurrency {level}: cache-miss ({requests} utterances, new content words each)")
            miss = drive(url, api_key, miss_texts, level, max_seconds, users, f"{prefix}m{level}", pid)
            check_misses(f"closed c{level} cache-miss", miss)
            hit_texts = [HIT_POOL[i % len(HIT_POOL)] for i in range(requests)]
            say(f"bench: closed loop, concurrency {level}: cache-hit")
            hit = drive(url, api_key, hit_texts, level, max_seconds, users, f"{prefix}h{level}", pid)
            report["levels"][str(level)] = {"cache_miss": miss, "cache_hit": hit}
            say(f"  miss p50={miss['p50_ms']} p95={miss['p95_ms']} p99={miss['p99_ms']} ms "
                f"{miss['throughput_rps']} req/s cpu={miss['server_cpu_ms_per_request']} ms/req "
                f"miss-rate={miss['query_miss_rate']} | hit p50={hit['p50_ms']} p99={hit['p99_ms']} ms "
                f"{hit['throughput_rps']} req/s cpu={hit['server_cpu_ms_per_request']} ms/req")
        if mode in ("open", "both"):
            probes = itertools.count()

            def probe(rate: float) -> dict[str, Any]:
                n = max(20, int(rate * rate_seconds))
                texts = [next(stream) for _ in range(n)]
                r = drive_open_loop(url, api_key, texts, rate, users, f"{prefix}o{next(probes)}", pid, timeout=timeout)
                check_misses(f"open loop {rate} req/s", r)
                say(f"  open loop {rate} req/s: p50={r['p50_ms']} p99={r['p99_ms']} ms (all, failures as slow: "
                    f"{r['p99_all_ms']}) done {r['requests']}/{n}, errors={r['errors']} timeouts={r['timeouts']} "
                    f"miss-rate={r['query_miss_rate']}")
                return r

            say(f"bench: open loop (cache-miss): highest arrival rate with p99 <= {p99_limit_ms:g} ms")
            report["open_loop"] = max_rate_within(probe, p99_ms=p99_limit_ms)
            say(f"  max rate within p99 {p99_limit_ms:g} ms: {report['open_loop']['max_rps']} req/s")
        refused = rate_limited(report["levels"])
        if refused:
            report["failures"].append(
                f"{refused} requests were refused with 429 by the service's per-client rate limit and are left out "
                f"of the figures: start the service under test with "
                + " ".join(f"{k}={v}" for k, v in LOAD_GENERATOR_RATE_LIMIT_ENV.items()))
        time.sleep(1.5)  # let the event log flush its last batch
        report["stage_breakdown"] = {"cache_miss": stage_breakdown(engine, f"{prefix}m", since),
                                     "cache_hit": stage_breakdown(engine, f"{prefix}h", since)}
        l1 = report["levels"].get("1", {}).get("cache_miss")
        l4 = report["levels"].get("4", {}).get("cache_miss")
        targets: dict[str, Any] = {}
        if l1 and report.get("floors"):
            floor = report["floors"]["in_process_turn"]["miss_p50_ms"]
            targets["c1_cache_miss_p50_over_in_process"] = round(l1["p50_ms"] / floor, 2) if floor else None
            targets["c1_cache_miss_p50_le_1_5x_in_process"] = bool(floor) and l1["p50_ms"] <= 1.5 * floor
        if l4:
            targets.update({"c4_cache_miss_p50_le_30ms": l4["p50_ms"] <= 30, "c4_cache_miss_p99_le_80ms": l4["p99_ms"] <= 80})
            hit4 = report["levels"]["4"]["cache_hit"]
            if l4.get("server_cpu_ms_per_request") and hit4.get("server_cpu_ms_per_request"):
                ratio = l4["server_cpu_ms_per_request"] / hit4["server_cpu_ms_per_request"]
                targets["c4_miss_over_hit_server_cpu"] = round(ratio, 2)
                targets["hit_3x_cheaper_cpu"] = ratio >= 3
        if "open_loop" in report:
            targets["open_loop_max_rps_p99_le_100ms"] = report["open_loop"]["max_rps"]
        report["targets"] = targets
    finally:
        if proc is not None:
            from serving.process import stop_service

            stop_service(proc)
    return report


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run_bench(), ensure_ascii=False, indent=2))
