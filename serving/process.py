"""Start, wait for and stop the chat service as a child process (``naviyam service`` commands, the
load benchmark, the demo and the end-to-end tests use the same three calls)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

SERVICE = "serving.service:Naviyam"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PORT = 3000
#: the per-client limit of a service a load generator starts (the benchmark, the closed-loop
#: simulation): it is the only client, and the production limit (``rate_limit_per_minute``, 1,200)
#: would answer part of the run with 429
LOAD_GENERATOR_RATE_LIMIT_ENV = {"NAVIYAM_RATE_LIMIT_PER_MINUTE": "1000000"}


def serve_command(port: int, host: str = "127.0.0.1") -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", SERVICE, "--host", host, "--port", str(port)]


def service_env(port: int, env: dict | None = None) -> dict:
    """The service's environment: its own BENTOML_HOME per data dir and port, because BentoML keeps the
    Prometheus multiprocess files there and empties that folder whenever a server starts: two services
    sharing ~/bentoml would wipe each other's metrics (set BENTOML_HOME yourself to override)."""
    from infra.settings import get_settings

    merged = {**os.environ, **(env or {})}
    if "BENTOML_HOME" not in merged:
        data_dir = Path(merged.get("NAVIYAM_DATA_DIR") or get_settings().data_dir)
        merged["BENTOML_HOME"] = str(data_dir / "bentoml" / str(port))
    return merged


def start_service(port: int = DEFAULT_PORT, host: str = "127.0.0.1", env: dict | None = None,
                  log_path: Path | None = None) -> subprocess.Popen:
    """Start the service in its own process group (so it can be stopped as a whole)."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen(serve_command(port, host), cwd=PROJECT_ROOT, env=service_env(port, env),
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop_service(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    import signal

    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the group this Popen created: the server and its workers
        proc.wait(timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_ready(url: str, timeout: float = 180.0, proc: subprocess.Popen | None = None) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the service exited with code {proc.returncode}")
        try:
            r = httpx.get(url + "/readyz", timeout=2.0)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise TimeoutError(f"service at {url} not ready after {timeout:.0f}s ({last})")
