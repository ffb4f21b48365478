"""The multi-host rehearsal: several chat-service hosts, each in its own network namespace, behind
HAProxy with no session affinity, sharing the one PostgreSQL and Redis. Needs root (``ip netns``).

    sudo .venv/bin/python -m infra.deploy.rehearsal --hosts 1,2,3 --seconds 15   # throughput per host count

What it builds, and removes again at exit (everything is named ``nvy*``, on 10.231.0.0/24):

* a bridge ``nvybr`` at 10.231.0.1 in the root namespace; host *i* is the namespace ``nvyh<i>`` with
  a veth into the bridge at 10.231.0.(10+i), its service on port 3106 (one worker: each is a 2 GB
  process) and its own data folder (its event spool is its own, as a pod's volume is);
* two socat relays on 10.231.0.1 (3107 → PostgreSQL, 3108 → Redis), which listen on loopback only;
* HAProxy on 127.0.0.1:3109: round robin, no cookie or stick table, health check ``GET /readyz``,
  and the answering host in the ``X-Served-By`` response header.

Only the service is started by command line (``bentoml serve``), so this module imports nothing
above ``infra``. The database must hold the sample data, the index and the models (``make demo``,
or the e2e fixture in ``tests/e2e/test_multi_host.py``).
"""

from __future__ import annotations

import concurrent.futures as cf
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUBNET = "10.231.0"  # a private /24 this module creates and removes
GATEWAY = f"{SUBNET}.1"
SERVICE_PORT, PG_RELAY_PORT, REDIS_RELAY_PORT, BALANCER_PORT = 3106, 3107, 3108, 3109
BRIDGE = "nvybr"
LOCK_FILE = Path(tempfile.gettempdir()) / "naviyam-rehearsal.lock"
SERVICE = "serving.service:Naviyam"
#: data-folder entries a host reads from the prepared folder (the spool and logs stay its own)
SHARED_DATA = ("qdrant", "models", "feast", "mlflow")
DEBIAN_PACKAGES = {"haproxy": "haproxy", "socat": "socat", "ip": "iproute2"}


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def missing_tools() -> list[str]:
    return [tool for tool in DEBIAN_PACKAGES if shutil.which(tool) is None]


def ensure_tools(say: Callable[[str], None] = print) -> None:
    """Install HAProxy, socat and iproute2 from Debian's packages when missing (needs root)."""
    missing = missing_tools()
    if not missing:
        return
    if os.geteuid() != 0:
        raise PermissionError(f"missing {missing}; run as root to install them with apt-get")
    packages = sorted({DEBIAN_PACKAGES[t] for t in missing})
    say(f"rehearsal: installing {' '.join(packages)} from Debian (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env, capture_output=True)
    if missing_tools():
        raise RuntimeError(f"still missing after apt-get: {missing_tools()}")


def host_address(i: int) -> str:
    return f"{SUBNET}.{10 + i}"


class Network:
    """The bridge, one namespace + veth per host, and the relays to PostgreSQL and Redis."""

    def __init__(self, n_hosts: int, pg: tuple[str, int], redis: tuple[str, int]) -> None:
        self.n_hosts = n_hosts
        self.pg, self.redis = pg, redis
        self.relays: list[subprocess.Popen] = []
        self._lock_fh = None

    def namespace(self, i: int) -> str:
        return f"nvyh{i}"

    def __enter__(self) -> "Network":
        self._lock_fh = open(LOCK_FILE, "w")
        try:  # one rehearsal at a time: the subnet and the names are fixed
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another rehearsal holds {LOCK_FILE}") from None
        self._remove()  # leftovers of a run that was killed
        try:
            _run("ip", "link", "add", BRIDGE, "type", "bridge")
            _run("ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
            _run("ip", "link", "set", BRIDGE, "up")
            for i in range(1, self.n_hosts + 1):
                ns, outer, inner = self.namespace(i), f"nvyv{i}", f"nvyp{i}"
                _run("ip", "netns", "add", ns)
                _run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
                _run("ip", "link", "set", outer, "master", BRIDGE)
                _run("ip", "link", "set", outer, "up")
                _run("ip", "link", "set", inner, "netns", ns)
                _run("ip", "-n", ns, "addr", "add", f"{host_address(i)}/24", "dev", inner)
                _run("ip", "-n", ns, "link", "set", inner, "up")
                _run("ip", "-n", ns, "link", "set", "lo", "up")
            for port, (host, target) in ((PG_RELAY_PORT, self.pg), (REDIS_RELAY_PORT, self.redis)):
                self.relays.append(subprocess.Popen(
                    ["socat", f"TCP-LISTEN:{port},bind={GATEWAY},reuseaddr,fork,backlog=512", f"TCP:{host}:{target}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for port in (PG_RELAY_PORT, REDIS_RELAY_PORT):
                _wait_port(GATEWAY, port, 5.0)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for relay in self.relays:
            relay.terminate()
            try:
                relay.wait(5)
            except subprocess.TimeoutExpired:
                relay.kill()
        self.relays.clear()
        self._remove()
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def _remove(self) -> None:
        listed = _run("ip", "-o", "link", "show", check=False).stdout
        for line in listed.splitlines():
            name = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
            if name.startswith("nvyv"):
                _run("ip", "link", "del", name, check=False)  # takes its peer in the namespace with it
        for ns in _run("ip", "netns", "list", check=False).stdout.split():
            if ns.startswith("nvyh"):
                # nothing may outlive its host: a process left in a namespace keeps it (and its port) alive
                for pid in _run("ip", "netns", "pids", ns, check=False).stdout.split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                _run("ip", "netns", "del", ns, check=False)
        if f" {BRIDGE}:" in listed or f" {BRIDGE}@" in listed:
            _run("ip", "link", "del", BRIDGE, check=False)


def _wait_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {host}:{port}")


@dataclass
class Host:
    """One chat-service host: a ``bentoml serve`` process group inside its namespace."""
    index: int
    namespace: str
    data_dir: Path
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return f"h{self.index}"

    @property
    def url(self) -> str:
        return f"http://{host_address(self.index)}:{SERVICE_PORT}"

    def start(self) -> None:
        cmd = ["ip", "netns", "exec", self.namespace, sys.executable, "-m", "bentoml", "serve", SERVICE,
               "--host", "0.0.0.0", "--port", str(SERVICE_PORT)]
        out = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env={**os.environ, **self.env}, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def processes(self) -> list:
        """The host's whole process tree: BentoML starts its workers in sessions of their own, so a
        signal to the process group alone would leave a worker serving on the inherited socket."""
        import psutil

        if self.proc is None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """SIGTERM: the graceful stop a pod gets (the server stops its workers, the event log
        drains); SIGKILL: a host lost, every process of it at once."""
        import psutil

        tree = self.processes()
        if not tree:
            return
        targets = tree if sig == signal.SIGKILL else tree[:1]
        for p in targets:
            try:
                p.send_signal(sig)
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(tree, timeout=timeout)
        for p in alive:  # whatever ignored the graceful stop
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=10)
        if self.proc is not None:
            self.proc.wait(10)

    def wait_ready(self, timeout: float = 300.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")

    def spool_records(self) -> int:
        folder = self.data_dir / "spool" / "events"
        return sum(sum(1 for line in p.open(encoding="utf-8") if line.strip()) for p in folder.glob("seg-*.jsonl"))


def host_env(base: dict[str, str], data_dir: Path) -> dict[str, str]:
    """The service's settings on a host: the database and Redis through the relays, one worker."""
    redis = urlsplit(base["NAVIYAM_REDIS_URL"])
    redis_url = urlunsplit((redis.scheme, f"{GATEWAY}:{REDIS_RELAY_PORT}", redis.path, redis.query, ""))
    return {**base, "NAVIYAM_DATA_DIR": str(data_dir), "NAVIYAM_PG_HOST": GATEWAY,
            "NAVIYAM_PG_PORT": str(PG_RELAY_PORT), "NAVIYAM_REDIS_URL": redis_url,
            "NAVIYAM_SERVING_WORKERS": "1", "NAVIYAM_PG_EMBEDDED_FALLBACK": "false",
            "NAVIYAM_REDIS_EMBEDDED_FALLBACK": "false", "BENTOML_DO_NOT_TRACK": "true",
            # the rehearsal is one client driving every simulated child: the per-client limit
            # (a product guard, tested in tests/integration/test_serving_guard.py) would cap the load
            "NAVIYAM_RATE_LIMIT_PER_MINUTE": "1000000"}


def make_hosts(n: int, network: Network, prepared_dir: Path, base_env: dict[str, str], root: Path) -> list[Host]:
    hosts = []
    for i in range(1, n + 1):
        d = root / f"h{i}"
        d.mkdir(parents=True, exist_ok=True)
        for entry in SHARED_DATA:
            src = prepared_dir / entry
            if src.exists() and not (d / entry).exists():
                (d / entry).symlink_to(src)
        hosts.append(Host(i, network.namespace(i), d, host_env(base_env, d), root / f"h{i}.log"))
    return hosts


class Balancer:
    """HAProxy in the foreground; its admin socket takes hosts in and out of rotation."""

    def __init__(self, hosts: list[Host], workdir: Path, port: int = BALANCER_PORT) -> None:
        self.hosts, self.port = hosts, port
        self.cfg, self.sock = workdir / "haproxy.cfg", workdir / "haproxy.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def config(self) -> str:
        servers = "\n".join(f"    server {h.name} {host_address(h.index)}:{SERVICE_PORT} check" for h in self.hosts)
        return f"""global
    maxconn 4096
    stats socket {self.sock} mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout queue 30s
    # /readyz answers in milliseconds, but a busy host must not be taken for a dead one
    timeout check 5s
    # a request is retried on another host only when it never reached one (a POST is not idempotent)
    retries 3
    retry-on conn-failure
    option redispatch 1

frontend chat
    bind 127.0.0.1:{self.port}
    default_backend hosts

backend hosts
    # no cookie, no stick table, no source hash: any turn may land on any host
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 1s fastinter 250ms downinter 500ms fall 2 rise 2
    http-response set-header X-Served-By %s
{servers}
"""

    def start(self) -> None:
        self.cfg.write_text(self.config())
        _run("haproxy", "-c", "-f", str(self.cfg))
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.cfg)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_port("127.0.0.1", self.port, 5.0)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.sock))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """host → HAProxy's view of it (UP, DOWN, MAINT, ...)."""
        out = {}
        for line in self.command("show stat").splitlines():
            cols = line.split(",")
            if len(cols) > 17 and cols[0] == "hosts" and cols[1] not in ("FRONTEND", "BACKEND"):
                out[cols[1]] = cols[17]
        return out

    def sessions(self, name: str) -> int:
        """Requests HAProxy has in flight on one host."""
        for line in self.command("show stat").splitlines():
            cols = line.split(",")
            if len(cols) > 4 and cols[0] == "hosts" and cols[1] == name:
                return int(cols[4] or 0)
        raise KeyError(name)

    def drain(self, name: str, timeout: float = 30.0) -> float:
        """Take a host out of rotation and wait until its last request is answered (what the
        endpoints controller and preStop do for a pod); returns the seconds it took."""
        self.command(f"set server hosts/{name} state drain")
        started = time.monotonic()
        while self.sessions(name) and time.monotonic() - started < timeout:
            time.sleep(0.05)
        return time.monotonic() - started

    def set_in_rotation(self, names: list[str]) -> None:
        for h in self.hosts:
            self.command(f"{'enable' if h.name in names else 'disable'} server hosts/{h.name}")

    def wait_state(self, name: str, prefix: str, timeout: float = 20.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.states().get(name, "").startswith(prefix):
                return time.monotonic() - started
            time.sleep(0.1)
        raise TimeoutError(f"HAProxy did not mark {name} {prefix} in {timeout:.0f}s: {self.states()}")


# ---- load ------------------------------------------------------------------------------------------

HOME = {"lat": 37.5560, "lon": 126.9050}
#: one conversation: a food and a budget, then two refinements that only the session's context can
#: complete ("매운 거 빼고", "더 싼 거"), then "아까 거" (the earlier one)
SCRIPT = ("떡볶이 5천원 이하로 먹고 싶어", "매운 거 빼고", "더 싼 거 없어?", "아까 거 어디야?")


@dataclass
class Turn:
    session_id: str
    index: int
    status: int
    host: str = ""
    body: dict = field(default_factory=dict)
    attempts: int = 1
    acked_at: float = 0.0


def context_problems(turns: list[Turn]) -> list[str]:
    """What is wrong with one scripted conversation's answers (empty: its context held across hosts)."""
    if [t.index for t in turns] != list(range(1, len(turns) + 1)) or any(t.status != 200 for t in turns):
        return [f"unanswered turn(s): {[(t.index, t.status) for t in turns]}"]
    bad = [f"turn {t.index} answered as session turn {t.body.get('turn')}: context lost"
           for t in turns if t.body.get("turn") != t.index]
    bodies = [t.body for t in turns]
    for i, b in enumerate(bodies[:3], start=1):
        ents = b["entities"]
        if ents.get("budget") != 5000 or ents.get("food_type") != "분식":
            bad.append(f"turn {i} lost the 분식 / 5,000원 frame: {ents}")
        if any(r["final_price"] > 5000 for r in b["recommendations"]):
            bad.append(f"turn {i} recommends over 5,000원")
    for i, b in enumerate(bodies[1:3], start=2):
        if not b.get("refinement") or "no_spicy" not in (b["entities"].get("dietary_restrictions") or []):
            bad.append(f"turn {i} is not a no-spicy refinement of turn 1: {b.get('refinement')} {b['entities']}")
    if len(bodies) >= 3 and bodies[1]["recommendations"] and bodies[2]["recommendations"]:
        if max(r["final_price"] for r in bodies[2]["recommendations"]) >= min(
                r["final_price"] for r in bodies[1]["recommendations"]):
            bad.append("turn 3 (더 싼 거) is not cheaper than turn 2")
    if len(bodies) >= 4:
        earlier = next((b["recommendations"] for b in reversed(bodies[:3]) if b["recommendations"]), [])
        if not bodies[3].get("back_reference"):
            bad.append("turn 4 did not read 아까 거 as a back reference")
        elif earlier and (not bodies[3]["recommendations"]
                          or bodies[3]["recommendations"][0]["shop_id"] != earlier[0]["shop_id"]):
            bad.append("turn 4 recalled another shop than the last recommendation")
    return bad


class Driver:
    """Scripted conversations through the balancer from ``concurrency`` threads; a turn that gets no
    answer (a host died under it) is sent again, as the app would."""

    def __init__(self, url: str, api_key: str, users: list[str], max_attempts: int = 5) -> None:
        self.url, self.api_key, self.users = url, api_key, users
        self.max_attempts = max_attempts
        self.conversations: dict[str, list[Turn]] = {}
        self.failed_attempts = 0
        #: "host status" (or "- ExceptionName" when no answer came) → attempts, to tell a host that went
        #: away (no answer, 502/503 from the balancer) from a surviving host that refused (429, 5xx)
        self.failures: dict[str, int] = {}
        self._lock = threading.Lock()

    def conversation(self, client, n: int) -> list[Turn]:
        import httpx

        session = f"mh-{uuid.uuid4().hex[:12]}"
        user = self.users[n % len(self.users)]
        turns: list[Turn] = []
        for i, text in enumerate(SCRIPT, start=1):
            body = {"user_id": user, "session_id": session, "text": text, "location": HOME}
            turn = Turn(session, i, 0)
            for attempt in range(1, self.max_attempts + 1):
                turn.attempts = attempt
                try:
                    r = client.post(self.url + "/chat", json=body, headers={"X-API-Key": self.api_key}, timeout=30)
                    turn.status, turn.host = r.status_code, r.headers.get("x-served-by", "")
                    if r.status_code == 200:
                        turn.body, turn.acked_at = r.json(), time.monotonic()
                        break
                    failure = f"{turn.host or '-'} {r.status_code}"
                except httpx.HTTPError as exc:
                    turn.status = -1
                    failure = f"- {type(exc).__name__}"
                with self._lock:
                    self.failed_attempts += 1
                    self.failures[failure] = self.failures.get(failure, 0) + 1
                time.sleep(0.2)
            turns.append(turn)
            if turn.status != 200:
                break
        with self._lock:
            self.conversations[session] = turns
        return turns

    def run(self, concurrency: int, seconds: float | None = None, conversations: int | None = None) -> dict:
        """Run until ``seconds`` pass or ``conversations`` finish; returns the phase's figures."""
        import httpx

        started = time.monotonic()
        counter = iter(range(10**9))
        lock = threading.Lock()
        done_turns: list[int] = []

        def worker() -> None:
            with httpx.Client() as client:
                while True:
                    with lock:
                        n = next(counter)
                    if conversations is not None and n >= conversations:
                        return
                    if seconds is not None and time.monotonic() - started > seconds:
                        return
                    turns = self.conversation(client, n)
                    with lock:
                        done_turns.append(sum(1 for t in turns if t.status == 200))

        with cf.ThreadPoolExecutor(concurrency) as pool:
            for f in [pool.submit(worker) for _ in range(concurrency)]:
                f.result()
        elapsed = time.monotonic() - started
        return {"turns": sum(done_turns), "seconds": round(elapsed, 2),
                "turns_per_s": round(sum(done_turns) / elapsed, 2) if elapsed else 0.0}

    def acked(self) -> list[Turn]:
        return [t for turns in self.conversations.values() for t in turns if t.status == 200]


def throughput(balancer: Balancer, driver_factory: Callable[[], Driver], hosts: list[Host], counts: list[int],
               seconds: float, concurrency_per_host: int = 4, say: Callable[[str], None] = print) -> list[dict]:
    """Turns per second through the balancer with the first 1, 2, ... hosts in rotation."""
    rows = []
    for n in counts:
        balancer.set_in_rotation([h.name for h in hosts[:n]])
        time.sleep(1.0)
        driver = driver_factory()
        driver.run(concurrency=2 * n, seconds=min(3.0, seconds))  # warm the caches of this mix
        fig = driver_factory().run(concurrency=concurrency_per_host * n, seconds=seconds)
        row = {"hosts": n, "concurrency": concurrency_per_host * n, **fig}
        say(f"rehearsal: {n} host(s): {fig['turns_per_s']} turns/s ({fig['turns']} turns in {fig['seconds']} s, "
            f"concurrency {concurrency_per_host * n})")
        rows.append(row)
    balancer.set_in_rotation([h.name for h in hosts])
    return rows


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default="1,2,3", help="host counts to measure, comma-separated (at most 3)")
    ap.add_argument("--seconds", type=float, default=15.0, help="load per host count")
    ap.add_argument("--users", default="1,2,3", help="platform user ids the conversations use")
    args = ap.parse_args(argv)
    from infra.settings import get_settings

    settings = get_settings()
    counts = [int(x) for x in args.hosts.split(",")]
    ensure_tools()
    redis = urlsplit(settings.redis_url)
    base_env = {"NAVIYAM_PG_DATABASE": settings.pg_database, "NAVIYAM_API_KEY": settings.api_key.get_secret_value(),
                "NAVIYAM_REDIS_URL": settings.redis_url, "NAVIYAM_MLFLOW_TRACKING_URI": settings.mlflow_uri}
    work = Path(tempfile.mkdtemp(prefix="naviyam-rehearsal-"))
    with Network(max(counts), (settings.pg_host, settings.pg_port), (redis.hostname or "127.0.0.1", redis.port or 6379)) as net:
        hosts = make_hosts(max(counts), net, settings.data_dir, base_env, work)
        balancer = Balancer(hosts, work)
        try:
            for h in hosts:
                h.start()
            for h in hosts:
                h.wait_ready()
            balancer.start()
            rows = throughput(balancer, lambda: Driver(balancer.url, base_env["NAVIYAM_API_KEY"], args.users.split(",")),
                              hosts, counts, args.seconds, say=lambda m: print(m, file=sys.stderr))
            print(json.dumps({"throughput": rows, "cores": os.cpu_count()}, indent=2))
        finally:
            balancer.stop()
            for h in hosts:
                h.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
