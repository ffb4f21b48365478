"""``serve`` / ``chat`` / ``bench`` for the chat service (mounted by the project CLI), and
``demo_chats(say)`` for ``naviyam demo``.

    python -m serving.cli serve --port 3000
    python -m serving.cli chat "배고픈데 5천원밖에 없어" --user-id 1 --session-id s1          # against :3000
    python -m serving.cli chat "떡볶이 먹고 싶어" --user-id 1 --session-id s1 --in-process
    python -m serving.cli bench --url http://127.0.0.1:3000 --requests 300
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from infra.cli import bootstrap
from serving.process import (
    DEFAULT_PORT,
    PROJECT_ROOT,
    serve_command,
    service_env,
    start_service,
    stop_service,
    wait_ready,
)

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

app = typer.Typer(name="serve", help="The chat service: serve it, talk to it, measure it.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_show_locals=False)


DEMO_TURNS = [
    ("배고픈데 5천원밖에 없어", {"lat": 37.5560, "lon": 126.9050}),
    ("떡볶이 좋아해", None),
    ("매운 거 빼고", None),
    ("쿠폰 있어?", None),
    ("친구들 10명이랑 먹을 곳 있어?", None),
]


def _api_key() -> str:
    from infra.settings import get_settings

    return get_settings().api_key.get_secret_value()


def post_chat(url: str, text: str, user_id: str, session_id: str, location: dict | None = None,
              api_key: str | None = None, client=None) -> dict:
    import httpx

    body: dict[str, Any] = {"user_id": user_id, "session_id": session_id, "text": text}
    if location:
        body["location"] = location
    headers = {"X-API-Key": api_key or _api_key()}
    r = (client or httpx).post(url + "/chat", json=body, headers=headers, timeout=30.0)
    r.raise_for_status()
    return r.json()


# ---- commands --------------------------------------------------------------------------------

@app.command("serve")
def serve(port: Annotated[int, typer.Option(help="TCP port.")] = DEFAULT_PORT,
          host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = "127.0.0.1") -> None:
    """Start the BentoML chat service (foreground)."""
    from infra.services import ensure_services

    ensure_services()  # the embedded PostgreSQL / Valkey fallbacks export their endpoints to the child
    raise typer.Exit(subprocess.call(serve_command(port, host), cwd=PROJECT_ROOT, env=service_env(port)))


@app.command("chat")
def chat(text: Annotated[str, typer.Argument(help="What the child says.")],
         user_id: Annotated[str, typer.Option("--user-id")] = "demo-user",
         session_id: Annotated[str, typer.Option("--session-id")] = "demo-session",
         url: Annotated[str, typer.Option(help="Running service.")] = f"http://127.0.0.1:{DEFAULT_PORT}",
         in_process: Annotated[bool, typer.Option("--in-process", help="Run the pipeline here, no server.")] = False,
         lat: Annotated[Optional[float], typer.Option()] = None,
         lon: Annotated[Optional[float], typer.Option()] = None,
         full: Annotated[bool, typer.Option("--json", help="Print the whole structured result.")] = False) -> None:
    """One chat turn, against a running service or in-process."""
    location = {"lat": lat, "lon": lon} if lat is not None and lon is not None else None
    if in_process:
        from serving.schemas import ChatRequest
        from serving.service import build_pipeline

        bootstrap()
        pipeline, _ = build_pipeline()
        body: dict[str, Any] = {"user_id": user_id, "session_id": session_id, "text": text}
        if location:
            body["location"] = location
        result = pipeline.chat(ChatRequest.model_validate(body))
        pipeline.close()
    else:
        result = post_chat(url, text, user_id, session_id, location)
    if full:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        typer.echo(result["answer"])
        for r in result["recommendations"]:
            coupon = f" ({r['coupon']['name']} -{r['coupon']['discount']:,}원)" if r.get("coupon") else ""
            typer.echo(f"  {r['rank']}. {r['shop_name']} · {r['menu_name']} {r['final_price']:,}원{coupon}"
                       f" [{r['reason']}]")
        typer.echo(f"  intent={result['intent']} strategy={result['strategy']} variant={result['model_variant']} "
                   f"total={result['timings_ms'].get('total')}ms")


@app.command("bench")
def bench(url: Annotated[Optional[str], typer.Option(help="A running service; default: start one on a free port.")] = None,
          requests: Annotated[int, typer.Option(help="Requests per concurrency level and cache mode.")] = 200,
          concurrency: Annotated[str, typer.Option(help="Comma-separated concurrency levels.")] = "1,4,16",
          max_seconds: Annotated[float, typer.Option(help="Time cap per phase.")] = 30.0,
          mode: Annotated[str, typer.Option(help="closed (clients wait for answers), open (fixed arrival rate) "
                                                 "or both.")] = "both",
          rate_seconds: Annotated[float, typer.Option(help="Length of each open-loop probe.")] = 8.0,
          p99_limit_ms: Annotated[float, typer.Option(help="Open loop: the p99 the highest rate must keep.")] = 100.0,
          timeout: Annotated[float, typer.Option(help="Open loop: a request not answered this many seconds "
                                                      "after its scheduled send is a timeout.")] = 2.0,
          floors: Annotated[bool, typer.Option(help="Measure the in-process turn and the /healthz round trip.")] = True,
          server_pid: Annotated[Optional[int], typer.Option(help="PID of a running service (CPU per request).")] = None,
          out: Annotated[Optional[Path], typer.Option(help="Write the JSON report here too.")] = None) -> None:
    """Load-test /chat on loopback: floors (in-process turn, /healthz), closed loop per concurrency (cache-miss
    with its measured miss rate, cache-hit), open loop up to the highest rate within the p99 limit, stage
    breakdown. Exits 1 when a phase failed (a cache-miss phase whose miss rate was below 0.99)."""
    from serving.bench import run_bench

    if mode not in ("closed", "open", "both"):
        raise typer.BadParameter("--mode is closed, open or both")
    report = run_bench(url=url, requests=requests, levels=[int(x) for x in concurrency.split(",") if x.strip()],
                       max_seconds=max_seconds, say=lambda m: typer.secho(m, err=True), server_pid=server_pid,
                       mode=mode, rate_seconds=rate_seconds, p99_limit_ms=p99_limit_ms, floors=floors,
                       timeout=timeout)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if out:
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    for failure in report["failures"]:
        typer.secho(f"FAILED: {failure}", err=True, fg="red")
    if report["failures"]:
        raise typer.Exit(1)


def demo_chats(say: Callable[[str], None] = print, port: int | None = None, turns=DEMO_TURNS,
               user_id: str = "1", session_id: str | None = None) -> list[dict]:
    """Start the service, answer a few sample chats (printing them with ``say``), stop it; returns the results.

    Uses sample user ``user_id`` (a meal-card child in the sample data)."""
    import socket

    bootstrap()
    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    from infra.settings import get_settings

    log_path = get_settings().data_dir / "logs" / "serving-demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    say(f"chat service: starting on {url} (log: {log_path})")
    proc = start_service(port, log_path=log_path)
    results: list[dict] = []
    try:
        wait_ready(url, proc=proc)
        session_id = session_id or f"demo-{int(time.time())}"
        import httpx

        with httpx.Client() as client:
            for text, location in turns:
                r = post_chat(url, text, user_id, session_id, location, client=client)
                results.append(r)
                say(f"🧒 {text}")
                say(f"🦋 {r['answer']}")
                for rec in r["recommendations"]:
                    say(f"    {rec['rank']}. {rec['shop_name']} · {rec['menu_name']} {rec['final_price']:,}원 "
                        f"({rec['reason']}, score {rec['score']})")
                say(f"    [intent={r['intent']} strategy={r['strategy']} variant={r['model_variant']} "
                    f"{r['timings_ms'].get('total')} ms]")
    finally:
        stop_service(proc)
    return results


if __name__ == "__main__":
    app()
