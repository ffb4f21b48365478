"""Load generator for ``POST /chat`` on loopback (a command, not a test): bounded in count and time.

For each concurrency level it runs two phases:

* cache-miss: every request carries a Korean utterance never sent before (templates × foods ×
  amounts × places), so the NLU, embedding and retrieval caches all miss;
* cache-hit: utterances from a small pool sent once beforehand, so those caches hit.

It reports client-side p50/p95/p99 latency and throughput per phase and level, and the server's
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

FOODS = ["떡볶이", "김밥", "라면", "순대", "우동", "짜장면", "짬뽕", "볶음밥", "돈까스", "초밥", "덮밥", "피자",
         "치킨", "햄버거", "샌드위치", "국밥", "비빔밥", "김치찌개", "도시락", "죽", "빵", "쌀국수", "파스타", "분식",
         "중식", "한식", "일식", "양식", "버거", "컵밥"]
AMOUNTS = ["3천원", "3500원", "4천원", "4500원", "5천원", "5500원", "6천원", "6500원", "7천원", "7500원", "8천원",
           "8500원", "9천원", "만원", "만 이천원", "만 오천원", "2만원", "오천원", "사천원", "육천원"]
PLACES = ["", "근처에서 ", "학교 앞에서 ", "집 근처 ", "망원동에서 ", "가까운 데서 "]
TEMPLATES = [
    "{place}{amount}으로 {food} 먹고 싶어",
    "배고픈데 {amount}밖에 없어 {food} 같은 거",
    "{food} 먹고 싶은데 {amount} 있어",
    "{place}{food} 파는 곳 알려줘 {amount} 이하로",
    "지금 {food} 먹을 수 있는 곳 {amount}",
    "{amount}으로 뭐 먹지 {food} 말고",
    "친구랑 {food} 먹을 건데 {amount} 있어",
    "{place}{food} 맛집 추천해줘 {amount}",
    "빨리 {food} 먹고 싶어 {amount}",
    "{food} 매운 거 빼고 {amount}",
]
HIT_POOL = ["배고픈데 5천원밖에 없어", "떡볶이 먹고 싶어", "쿠폰 있어?", "김밥 추천해줘", "근처 맛집 알려줘",
            "만원으로 뭐 먹지", "지금 열린 곳 있어?", "매운 거 빼고", "짜장면 먹고 싶어", "치킨 먹고 싶어",
            "10명이 먹을 수 있는 곳", "안녕", "도시락 먹고 싶어", "빵 먹고 싶어", "국밥 먹을래"]
HOME = {"lat": 37.5560, "lon": 126.9050}


def miss_utterances(seed: int = 7):
    """An endless stream of distinct utterances (36,000 before numbered variants; seeded order)."""
    combos = list(itertools.product(TEMPLATES, FOODS, AMOUNTS, PLACES))
    random.Random(seed).shuffle(combos)
    for i, (t, f, a, p) in enumerate(combos):
        yield t.format(food=f, amount=a, place=p).strip()
    n = 0
    while True:  # beyond the grid: a numbered variant
        n += 1
        t, f, a, p = combos[n % len(combos)]
        yield f"{t.format(food=f, amount=a, place=p).strip()} {n}번째"


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
        if self.writer is None:
            await self._open()
        payload = json.dumps(body, ensure_ascii=False).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nX-API-Key: {self.api_key}\r\n"
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


async def _drive(url: str, api_key: str, texts: list[str], concurrency: int, max_seconds: float, users: list[str],
                 run_tag: str) -> tuple[list[float], list[float], dict[str, int]]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    idx = itertools.count()
    lat: list[float] = []
    server_total: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + max_seconds

    async def worker(w: int) -> None:
        conn = _Connection(host, port, api_key)
        try:
            while time.monotonic() < deadline:
                i = next(idx)
                if i >= len(texts):
                    return
                user = users[i % len(users)]
                body = {"user_id": user, "session_id": f"{run_tag}-{user}-{w}", "text": texts[i], "location": HOME}
                t = time.perf_counter()
                try:
                    status, data = await asyncio.wait_for(conn.post("/chat", body), timeout=30.0)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    await conn.close()
                    continue
                ms = (time.perf_counter() - t) * 1000
                if status == 200:
                    lat.append(ms)
                    server_total.append(float(json.loads(data)["timings_ms"].get("total", 0.0)))
                else:
                    errors[str(status)] = errors.get(str(status), 0) + 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return lat, server_total, errors


def drive(url: str, api_key: str, texts: list[str], concurrency: int, max_seconds: float, users: list[str],
          run_tag: str, server_pid: int | None = None) -> dict[str, Any]:
    """``concurrency`` closed-loop clients (each sends its next request when the last one returns)."""
    cpu0 = _server_cpu_s(server_pid)
    started = time.perf_counter()
    lat, server_total, errors = asyncio.run(_drive(url, api_key, texts, concurrency, max_seconds, users, run_tag))
    wall = time.perf_counter() - started
    cpu1 = _server_cpu_s(server_pid)
    cpu_ms = round((cpu1 - cpu0) * 1000 / len(lat), 2) if cpu0 is not None and cpu1 is not None and lat else None
    return {"requests": len(lat), "errors": errors, "wall_s": round(wall, 2), "server_cpu_ms_per_request": cpu_ms,
            "throughput_rps": round(len(lat) / wall, 1) if wall > 0 else 0.0,
            "p50_ms": _pct(lat, 50), "p95_ms": _pct(lat, 95), "p99_ms": _pct(lat, 99),
            "mean_ms": round(statistics.fmean(lat), 2) if lat else None,
            "server_p50_ms": _pct(server_total, 50), "server_p99_ms": _pct(server_total, 99)}


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


def run_bench(url: str | None = None, requests: int = 200, levels: list[int] | None = None,
              max_seconds: float = 30.0, say: Callable[[str], None] = print, api_key: str | None = None,
              engine=None, server_pid: int | None = None) -> dict[str, Any]:
    import httpx

    from infra.settings import get_settings

    levels = levels or [1, 4, 16]
    settings = get_settings()
    api_key = api_key or settings.api_key.get_secret_value()
    proc = None
    pid = server_pid
    if url is None:
        import socket

        from serving.cli import start_service, wait_ready

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        log_path = settings.data_dir / "logs" / "serving-bench.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        say(f"bench: starting the service on {url} (log {log_path})")
        proc = start_service(port, log_path=log_path)
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
    report: dict[str, Any] = {"url": url, "requests_per_phase": requests, "max_seconds_per_phase": max_seconds,
                              "host": _host(), "levels": {}}
    try:
        with httpx.Client(headers={"X-API-Key": api_key}, timeout=30) as c:  # warm the hit pool once
            for t in HIT_POOL:
                c.post(url + "/chat", json={"user_id": users[0], "session_id": f"{prefix}-warm", "text": t,
                                            "location": HOME}).raise_for_status()
        stream = miss_utterances(seed=int(run, 16))  # a fresh order per run: earlier runs' caches must not hit
        for level in levels:
            miss_texts = [next(stream) for _ in range(requests)]
            say(f"bench: concurrency {level}: cache-miss ({requests} distinct utterances)")
            miss = drive(url, api_key, miss_texts, level, max_seconds, users, f"{prefix}m{level}", pid)
            hit_texts = [HIT_POOL[i % len(HIT_POOL)] for i in range(requests)]
            say(f"bench: concurrency {level}: cache-hit")
            hit = drive(url, api_key, hit_texts, level, max_seconds, users, f"{prefix}h{level}", pid)
            report["levels"][str(level)] = {"cache_miss": miss, "cache_hit": hit}
            say(f"  miss p50={miss['p50_ms']} p95={miss['p95_ms']} p99={miss['p99_ms']} ms "
                f"{miss['throughput_rps']} req/s cpu={miss['server_cpu_ms_per_request']} ms/req | "
                f"hit p50={hit['p50_ms']} p99={hit['p99_ms']} ms {hit['throughput_rps']} req/s "
                f"cpu={hit['server_cpu_ms_per_request']} ms/req")
        time.sleep(1.5)  # let the event log flush its last batch
        report["stage_breakdown"] = {"cache_miss": stage_breakdown(engine, f"{prefix}m", since),
                                     "cache_hit": stage_breakdown(engine, f"{prefix}h", since)}
        l4 = report["levels"].get("4", {}).get("cache_miss")
        if l4:
            best_rps = max(v[m]["throughput_rps"] for v in report["levels"].values() for m in ("cache_miss", "cache_hit"))
            report["targets"] = {
                "c4_cache_miss_p50_le_30ms": l4["p50_ms"] <= 30, "c4_cache_miss_p99_le_100ms": l4["p99_ms"] <= 100,
                "throughput_ge_60rps": best_rps >= 60, "best_throughput_rps": best_rps,
            }
    finally:
        if proc is not None:
            from serving.cli import stop_service

            stop_service(proc)
    return report


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(run_bench(), ensure_ascii=False, indent=2))
