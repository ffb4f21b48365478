"""The Naviyam chat service: one ``@bentoml.service`` class.

    BENTOML_DO_NOT_TRACK=true bentoml serve serving.service:Naviyam --port 3000

Endpoints: ``POST /chat``, ``POST /feedback``, ``POST /status`` (components and the event log),
``GET /healthz`` (alive) and ``GET /readyz`` (models loaded; PostgreSQL, Redis and the Qdrant shard
reachable), the OpenAPI document at ``/docs.json``, Prometheus metrics at ``/metrics`` (all workers)
and the chat playground at ``/playground/``. Every endpoint but the health probes and the playground
page needs the header ``X-API-Key`` (``settings.api_key``); ``/metrics`` needs it unless scraped from
loopback (or ``metrics_public``). Docs, playground and ``/status`` follow their own settings (on in
development, off in production). Bodies over 16 KiB are refused, malformed JSON is a 400, and errors
never carry a stack trace.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import sys
import threading
import time
from datetime import datetime
from http import HTTPStatus
from typing import Any

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

import bentoml  # noqa: E402

from serving import ab, clock  # noqa: E402
from serving.scoring import LinearFallbackScorer  # noqa: E402
from serving.schemas import (  # noqa: E402
    ChatRequest,
    ChatResponse,
    FeedbackRequest,
    FeedbackResponse,
    Location,
    StatusResponse,
)

log = logging.getLogger("naviyam.serving")
audit = logging.getLogger("naviyam.audit")  # one line per request: which client, what, which status

MAX_BODY_BYTES = 16 * 1024
#: request threads of the one worker: enough to overlap I/O on a 2-core box, few enough that every
#: per-thread resource (the NLU keeps one database connection per thread) fits its pool
SERVICE_THREADS = 8
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
PLAYGROUND_PREFIX = "/playground"
DOCS_PATHS = frozenset({"/", "/docs.json", "/schema.json"})
MAX_JSON_DEPTH = 8  # the deepest valid request is 2 levels; refuse deep documents before any parser recurses
READINESS_BUDGET_S = 0.7  # /readyz must answer within a second even with a dependency frozen


class AsOfForbidden(bentoml.exceptions.BentoMLException):
    """``as_of`` sent to a service whose simulation clock is off."""

    error_code = HTTPStatus.FORBIDDEN


class GuardMiddleware:
    """API key on every path but the health probes (each key names a client: audited, rate-limited
    per minute across workers; an address sending wrong keys is refused with 429 after a few); body
    size limit; malformed or deeply nested JSON → 400.

    Also where the environment's switches act: docs, playground and ``/status`` are 404 when off, and
    ``/metrics`` is open to loopback scrapers (or everyone with ``metrics_public``)."""

    def __init__(self, app, api_key: str | None = None, max_body: int = MAX_BODY_BYTES, *, clients: dict | None = None,
                 limiter=None, rate_limit: int | None = None, auth_failures: int | None = None,
                 settings=None) -> None:
        from infra.settings import get_settings

        settings = settings or get_settings()
        self.app = app
        self.max_body = max_body
        if api_key is None:
            api_key = settings.api_key.get_secret_value()
        if clients is None:
            clients = {name: key.get_secret_value() for name, key in settings.api_clients.items()}
        self.keys = [(api_key.encode(), "default")] + [(k.encode(), name) for name, k in clients.items()]
        if limiter is None:
            from infra.redis_client import get_redis
            from serving.rate_limit import RateLimiter

            limiter = RateLimiter(get_redis)
        self.limiter = limiter
        self.rate_limit = rate_limit or settings.rate_limit_per_minute
        self.auth_failures = auth_failures or settings.auth_failures_per_minute
        self.metrics_public = settings.metrics_public
        hidden = []
        if not settings.api_docs_enabled:
            hidden += ["/docs.json", "/schema.json", "/static_content", "/assets"]
        if not settings.playground_enabled:
            hidden.append(PLAYGROUND_PREFIX)
        if not settings.debug_endpoints_enabled:
            hidden.append("/status")
        self.hidden_prefixes: tuple[str, ...] = tuple(hidden)
        self.hide_index = not settings.api_docs_enabled

    async def _reply(self, send, status: int, body: dict, headers: list | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                *(headers or [])]})
        await send({"type": "http.response.body", "body": payload})

    async def _documented(self, scope, receive, send):
        """BentoML's OpenAPI document, completed with the security scheme and the guard's errors."""
        from serving.openapi_doc import document

        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message):
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        if start.get("status") != 200:
            return await self._reply(send, start.get("status", 500), {"error": "OpenAPI document unavailable"})
        return await self._reply(send, 200, document(json.loads(b"".join(chunks))))

    def _client(self, given: bytes) -> str | None:
        found = None
        for key, name in self.keys:  # compare with every key: the time taken tells nothing
            if given and hmac.compare_digest(given, key):
                found = name
        return found

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path in PUBLIC_PATHS:
            return await self.app(scope, receive, send)
        if (self.hide_index and path == "/") or path.startswith(self.hidden_prefixes):
            return await self._reply(send, 404, {"error": "not found"})
        if path == PLAYGROUND_PREFIX or path.startswith(PLAYGROUND_PREFIX + "/"):
            # the page and its script carry no data; the page calls the API with the key the user gives
            return await self.app(scope, receive, send)
        if path == "/metrics" and (self.metrics_public or (scope.get("client") or ("",))[0] in LOOPBACK):
            return await self.app(scope, receive, send)
        import anyio.to_thread

        headers = dict(scope.get("headers") or [])
        client = self._client(headers.get(b"x-api-key", b""))
        address = (scope.get("client") or ("?", 0))[0]
        if client is None:
            wait = await anyio.to_thread.run_sync(self.limiter.hit, "authfail", address, self.auth_failures)
            audit.warning("refused: bad API key", extra={"address": address, "path": path, "status": 429 if wait else 401})
            if wait:
                return await self._reply(send, 429, {"error": "too many requests with a wrong API key"},
                                         [(b"retry-after", str(wait).encode())])
            return await self._reply(send, 401, {"error": "missing or invalid X-API-Key"})
        wait = await anyio.to_thread.run_sync(self.limiter.hit, "client", client, self.rate_limit)
        if wait:
            audit.warning("refused: rate limit", extra={"client": client, "path": path, "status": 429})
            return await self._reply(send, 429, {"error": f"rate limit of {self.rate_limit} requests a minute"},
                                     [(b"retry-after", str(wait).encode())])
        status: list[int] = []

        async def send_audited(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            return await self._guarded(scope, receive, send_audited, headers)
        finally:
            audit.info("request", extra={"client": client, "method": scope.get("method"), "path": path,
                                         "status": status[0] if status else None})

    async def _guarded(self, scope, receive, send, headers):
        if scope.get("path") == "/docs.json" and scope.get("method") == "GET":
            return await self._documented(scope, receive, send)
        if scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        length = headers.get(b"content-length")
        if length is not None:
            try:
                if int(length) > self.max_body:
                    return await self._reply(send, 413, {"error": f"request body over {self.max_body} bytes"})
            except ValueError:
                return await self._reply(send, 400, {"error": "bad Content-Length"})
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return await self._reply(send, 413, {"error": f"request body over {self.max_body} bytes"})
            if not message.get("more_body"):
                break
        ctype = headers.get(b"content-type", b"application/json").split(b";")[0].strip()
        if ctype != b"application/json":
            return await self._reply(send, 415, {"error": "Content-Type must be application/json"})
        try:
            parsed = json.loads(body or b"null")
        except (ValueError, RecursionError):
            return await self._reply(send, 400, {"error": "malformed JSON body"})
        if not isinstance(parsed, dict):
            return await self._reply(send, 400, {"error": "the body must be a JSON object"})
        if _depth_over(parsed, MAX_JSON_DEPTH):
            return await self._reply(send, 400, {"error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"})
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


def _depth_over(value: Any, limit: int) -> bool:
    """True when ``value`` nests containers deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))
    return False


def _unavailable(exc: BaseException) -> bool:
    """A database or Redis that is away (or the journal that is stuck): the client should retry → 503."""
    import sqlalchemy.exc as sa_exc

    from infra.breaker import BreakerOpen
    from infra.event_log.writer import NotDurable

    return isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DisconnectionError,
                            BreakerOpen, NotDurable, ConnectionError, TimeoutError))


def build_pipeline(settings=None):
    """Wire the pipeline to the real components (also used by the CLI in-process mode)."""
    from infra.db import get_engine, make_engine, use_request_deadlines
    from infra.redis_client import get_redis
    from infra.settings import get_settings
    from serving import adapters, coupon_wallet, features, scoring
    from infra.event_log import EventLog
    from serving.pipeline import ChatPipeline

    settings = settings or get_settings()
    engine = get_engine()
    # the event log writer's own engine: it writes off the request path, so it may wait longer
    writer_engine = make_engine(deadline_s=max(5.0, settings.serving_db_timeout_s), pool_size=2, max_overflow=2)
    status: dict[str, str] = {}
    try:
        coupon_wallet.ensure_emergency_coupon(engine)
    except Exception as exc:  # the database may be down at start; issuing retries later
        status["emergency_coupon"] = f"not ensured ({type(exc).__name__})"
    # The NLU keeps one open connection per request thread for its cache lookups: give it its own pool,
    # sized to the threads, so it can never starve the shared pool (retrieval caches, accounts, context).
    from models.nlu.parser import NLUParser
    from models.nlu.train import load_or_train

    nlu_engine = make_engine(pool_size=SERVICE_THREADS + 2, max_overflow=2, pool_timeout_s=settings.serving_db_timeout_s)
    nlu = adapters.ParserNlu(NLUParser(load_or_train(), engine=nlu_engine))
    status["nlu"] = f"models.nlu.parser ({nlu.version})"
    from models.embedding import make_embedder
    from models.retrieval.retriever import Retriever

    embedder = make_embedder(settings.embedder, settings.embedder_model_path, settings.serving_embedder_threads,
                             settings.embedder_batch_runtime, settings.embedder_precision)
    retrieval = adapters.QdrantRetrieval(Retriever(embedder=embedder))
    status["retrieval"] = "models.retrieval.Retriever"
    scorers, score_status = scoring.load_variants()
    try:  # one request scores ~20 candidates: intra-op threads only fight the other requests for 2 cores
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    status.update({f"ranking.{k}": v for k, v in score_status.items()})
    shops = features.ShopFeatureCache(engine, redis_factory=get_redis)
    try:
        n = shops.load()
        status["shop_features"] = f"{n} shops from {shops.source}"
    except Exception as exc:
        status["shop_features"] = f"not loaded ({type(exc).__name__})"
    from serving.online_features import FeastUserFeatures

    users = FeastUserFeatures.open(settings) if settings.serving_user_features == "feast" else None
    if users is not None:
        status["user_features"] = "feast online store (redis)"
    else:
        users = features.UserFeatureCache(engine)
        status["user_features"] = "postgres (feature history; Feast online store not set up)" \
            if settings.serving_user_features == "feast" else "postgres (feature history)"
    contexts = adapters.LayeredContextStore(engine, get_redis)  # L1 checked against Redis: any worker, any host
    events = EventLog(writer_engine, settings.data_dir / "spool" / "events")
    pipeline = ChatPipeline(
        nlu=nlu, retrieval=retrieval, accounts=adapters.PgAccounts(engine), shop_features=shops,
        user_features=users, contexts=contexts, events=events, scorers=scorers, tz=settings.tz, clock=clock.now,
        exploration_share=settings.serving_exploration_share, recommendation_log=adapters.PgRecommendationLog(engine),
        lora_share=settings.serving_lora_share)
    warm_up(pipeline, status)
    # from now on every PostgreSQL round trip of this process is time-limited and feeds one breaker
    # (infra.db): a frozen database degrades a turn instead of stalling it
    use_request_deadlines(settings.serving_db_timeout_s)
    return pipeline, status


def warm_up(pipeline, status: dict[str, str]) -> None:
    """Pay the one-off costs (tokenizer dictionaries, model pages, the shard) before the first child."""
    started = time.perf_counter()
    try:
        pipeline.nlu.parse("배고픈데 5천원밖에 없어")
        pipeline.retrieval.warm_up()
        vec, _ = pipeline.retrieval.embed("떡볶이 먹고 싶어")
        pipeline.retrieval.search("떡볶이 먹고 싶어", {"open_now": True}, 10, query_vector=vec)
        from serving import places

        places.locate("망원동")  # the neighbourhood list (~0.5 s to read)
        status["warm_up"] = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    except Exception as exc:  # readiness reports what is missing
        status["warm_up"] = f"failed ({type(exc).__name__})"


def _workers() -> int:
    from infra.settings import get_settings

    return get_settings().serving_workers


@bentoml.service(
    name="naviyam",
    workers=_workers(),
    threads=SERVICE_THREADS,
    traffic={"timeout": 30, "max_concurrency": 128},
    logging={"access": {"enabled": False}},
    metrics={"enabled": True, "namespace": "bentoml_service"},
)
class Naviyam:
    """Naviyam chat: a child's words in, a meal they can pay for out."""

    def __init__(self) -> None:
        from infra.logs import configure_logging
        from infra.settings import get_settings

        settings = get_settings()
        configure_logging(settings.log_level, settings.log_json)
        import faulthandler
        import signal

        faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 <worker>`: every thread's stack
        # A thread that released the GIL (a torch operation, a socket read) waits for it up to the
        # switch interval whenever another request's thread is running Python: 5 ms by default, per
        # operation, which stretched a model's forward pass tenfold beside a busy thread
        sys.setswitchinterval(settings.serving_gil_switch_interval_ms / 1000)
        self.settings = settings
        _warn_dev_secrets(settings)
        self.pipeline, self.components = build_pipeline(settings)
        from infra.redis_client import get_redis
        from serving.adapters import IdempotencyStore, ProfileNames

        self.profile_names = ProfileNames(self.pipeline.accounts.engine)
        self.idempotency = IdempotencyStore(get_redis)
        self._ready_cache: tuple[float, bool, dict[str, str]] = (0.0, False, {})
        self._ready_lock = threading.Lock()
        from serving import telemetry

        self.metrics = telemetry.metrics()
        self.metrics_exporter = telemetry.EventLogExporter(self.metrics, self.pipeline.events)
        self.monitoring = telemetry.MonitoringGauges(self.pipeline.accounts.engine)
        self.tracer = telemetry.Tracer(settings.otlp_endpoint)
        self.components["tracing"] = f"otlp {settings.otlp_endpoint}" if self.tracer.enabled else "off"
        from concurrent.futures import ThreadPoolExecutor

        self._probe_pool = ThreadPoolExecutor(4, thread_name_prefix="readiness")
        log.info("naviyam service ready to load: %s", self.components)

    # ---- probes ---------------------------------------------------------------------------
    def _check(self) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        with self._ready_lock:
            at, ok, cached = self._ready_cache
            if now - at < 1.0:
                return ok, cached
        detail: dict[str, str] = {}

        def postgres() -> str:
            from sqlalchemy import text

            with self.pipeline.accounts.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return "ok"

        # both probes at once, under one time limit: a frozen dependency makes readiness say so, not hang
        probes = {"postgres": self._probe_pool.submit(postgres),
                  "redis": self._probe_pool.submit(lambda: "ok" if self.pipeline.contexts.ping() else "down")}
        deadline = time.monotonic() + READINESS_BUDGET_S
        for name, fut in probes.items():
            try:
                detail[name] = fut.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                detail[name] = f"down (no answer within {READINESS_BUDGET_S} s)"
            except Exception as exc:
                detail[name] = f"down ({type(exc).__name__})"
        detail["qdrant"] = "ok" if self.pipeline.retrieval.ready() else "down (no menus indexed)"
        champion = self.pipeline.scorers.get(ab.CHAMPION) if self.pipeline.scorers else None
        if self.pipeline.nlu is None or champion is None:
            detail["models"] = "missing"
        elif isinstance(champion, LinearFallbackScorer):
            # still answers, ranked by a hand-set linear score: ready, but say so
            detail["models"] = "degraded (no registered Wide&Deep champion: linear fallback)"
        else:
            detail["models"] = "ok"
        ok = all(v == "ok" or v.startswith("degraded") for v in detail.values())
        with self._ready_lock:
            self._ready_cache = (now, ok, detail)
        return ok, detail

    def __is_ready__(self) -> bool:
        return self._check()[0]

    # ---- API ------------------------------------------------------------------------------
    def __metrics__(self, content: str) -> str:
        """BentoML's /metrics hook: the live metrics plus the 5-minute batch's §13 figures."""
        return content + self.monitoring.text()

    @bentoml.api(route="/chat", input_spec=ChatRequest, output_spec=ChatResponse)
    def chat(self, ctx: bentoml.Context, user_id: str, session_id: str, text: str, location: Location | None = None,
             max_results: int = 3, as_of: datetime | None = None) -> ChatResponse:
        """Answer one child's message: intent, strategy, payable recommendations, Korean answer."""
        from infra.logs import bind, hash_id, log_context
        from infra.pii import redact_text
        from serving.chat_turn import Stopwatch

        # card, phone and resident numbers, birthdays and the child's own name never go further
        # (not into caches, tables, Redis or training data): the turn works on the redacted text
        text = redact_text(text, self.profile_names.get(user_id))
        req = ChatRequest.model_construct(user_id=user_id, session_id=session_id, text=text, location=location,
                                          max_results=max_results, as_of=as_of)
        request_id = _request_id(ctx)
        ctx.response.headers["X-Request-ID"] = request_id
        session_hash = hash_id(session_id)
        sw = Stopwatch()
        with log_context(request_id=request_id, session_hash=session_hash):
            try:
                with self._as_of(as_of):
                    result = self.pipeline.chat(req, sw)
            except Exception as exc:
                self.tracer.record_turn("chat", sw.started_ns, time.time_ns(), sw.marks,
                                        {"request_id": request_id, "session_hash": session_hash}, error=exc,
                                        headers=_headers(ctx))
                if _unavailable(exc):
                    raise bentoml.exceptions.ServiceUnavailable(
                        f"a dependency is unavailable ({type(exc).__name__}); retry") from None
                raise
            bind(event_id=result["event_id"])
            self.metrics.observe_turn(result)
            self.metrics.observe_event_log(self.pipeline.events)
            self.tracer.record_turn(
                "chat", sw.started_ns, time.time_ns(), sw.marks,
                {"request_id": request_id, "event_id": result["event_id"], "session_hash": session_hash,
                 "intent": result["intent"], "strategy": result["strategy"],
                 "model_variant": result["model_variant"], "recommendations": len(result["recommendations"])},
                headers=_headers(ctx))
            log.info("chat turn", extra={"intent": result["intent"], "strategy": result["strategy"],
                                         "recommendations": len(result["recommendations"]),
                                         "total_ms": result["timings_ms"].get("total")})
        return ChatResponse.model_validate(result)

    def _as_of(self, when: datetime | None):
        """The simulated clock for this request (serving/clock.py); 403 unless the setting allows it."""
        if when is not None and not self.settings.simulation_clock:
            raise AsOfForbidden("as_of is accepted only when NAVIYAM_SIMULATION_CLOCK=true (simulations and tests)")
        return clock.as_of(when, enabled=self.settings.simulation_clock)

    @bentoml.api(route="/feedback", input_spec=FeedbackRequest, output_spec=FeedbackResponse)
    def feedback(self, ctx: bentoml.Context, user_id: str, session_id: str, recommendation_id: str, action: str,
                 shop_id: int, menu_id: int | None = None, coupon_id: str | None = None,
                 order_amount: int | None = None, satisfaction: int | None = None,
                 idempotency_key: str | None = None, as_of: datetime | None = None) -> FeedbackResponse:
        """Record what the child did with a recommendation; coupon_use marks the coupon USED (409 if it is not ACTIVE).
        A coupon_use retried with the same idempotency_key gets the first answer again, and uses nothing twice."""
        req = FeedbackRequest.model_construct(
            user_id=user_id, session_id=session_id, recommendation_id=recommendation_id, action=action,
            shop_id=shop_id, menu_id=menu_id, coupon_id=coupon_id, order_amount=order_amount,
            satisfaction=satisfaction, idempotency_key=idempotency_key, as_of=as_of)
        from infra.logs import hash_id, log_context

        request_id = _request_id(ctx)
        ctx.response.headers["X-Request-ID"] = request_id
        with log_context(request_id=request_id, session_hash=hash_id(session_id), event_id=recommendation_id):
            idem = idempotency_key if action == "coupon_use" else None
            if idem:
                earlier = self.idempotency.begin(user_id, idem)
                if earlier is not None:
                    body, code = earlier
                    ctx.response.status_code = code
                    return FeedbackResponse.model_validate(body)
            try:
                with self._as_of(as_of):
                    body, code = self.pipeline.feedback(req)
            except Exception as exc:
                if idem:
                    self.idempotency.abort(user_id, idem)
                if _unavailable(exc):
                    # the client sees only "retry"; the operator needs the cause (a lock wait, a deadline)
                    log.warning("feedback %s: dependency unavailable: %s", action, str(exc).splitlines()[0][:300])
                    raise bentoml.exceptions.ServiceUnavailable(
                        f"a dependency is unavailable ({type(exc).__name__}); retry") from None
                raise
            if idem:
                self.idempotency.finish(user_id, idem, body, code)
            ctx.response.status_code = code
            self.metrics.observe_feedback(action, str(body.get("status", code)))
            log.info("feedback", extra={"action": action, "status": body.get("status"), "http_status": code})
        return FeedbackResponse.model_validate(body)

    @bentoml.api(route="/status", output_spec=StatusResponse)
    def status(self) -> StatusResponse:
        """Readiness of each dependency, the serving components, and the event log's counters (of the
        answering worker process: each worker has its own event log)."""
        ok, detail = self._check()
        ev = self.pipeline.events
        return StatusResponse(ready=ok, worker_pid=os.getpid(), components={**self.components, **detail},
                              event_log={**ev.stats.as_dict(), "pending": ev.pending, "db_up": ev.db_up})

    @bentoml.on_shutdown
    def _close(self) -> None:
        self.metrics_exporter.stop()
        self.pipeline.close()
        self.tracer.shutdown()


def _headers(ctx) -> dict[str, str]:
    return dict(ctx.request.headers) if ctx.request is not None else {}


def _request_id(ctx) -> str:
    """The caller's X-Request-ID when it is a sane token (a gateway's id), else a new one."""
    from serving.telemetry import new_request_id

    given = ctx.request.headers.get("x-request-id", "") if ctx.request is not None else ""
    if 8 <= len(given) <= 64 and all(c.isalnum() or c in "-_" for c in given):
        return given
    return new_request_id()


def _warn_dev_secrets(settings) -> None:
    """Development may run on the built-in secrets, but never silently (production refuses them)."""
    from infra.settings import DEV_API_KEY, DEV_CARD_HASH_KEY

    for name, secret, default in (("NAVIYAM_API_KEY", settings.api_key, DEV_API_KEY),
                                  ("NAVIYAM_CARD_HASH_KEY", settings.card_hash_key, DEV_CARD_HASH_KEY)):
        if secret.get_secret_value() == default:
            log.warning("%s is the built-in development value: fine on a laptop, refused when "
                        "NAVIYAM_ENVIRONMENT=production", name)


def _playground_app():
    """The chat playground: static files (no build step) and the sample users and places to pick."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, RedirectResponse
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    from serving import playground

    async def samples(_request):
        import anyio

        return JSONResponse(await anyio.to_thread.run_sync(playground.samples))

    async def index(_request):
        return RedirectResponse(url=PLAYGROUND_PREFIX + "/index.html")

    return Starlette(routes=[
        Route("/samples.json", samples),
        Route("/", index),
        Mount("/", StaticFiles(directory=playground.STATIC_DIR, html=True)),
    ])


Naviyam.add_asgi_middleware(GuardMiddleware)  # type: ignore[attr-defined]  # the decorator made a Service
Naviyam.mount_asgi_app(_playground_app(), path=PLAYGROUND_PREFIX, name="playground")  # type: ignore[attr-defined]
