import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving.telemetry import Tracer


def test_turn_and_stage_spans_reach_an_otlp_http_collector():
    bodies = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from opentelemetry import context, trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

        tracer = Tracer(f"http://127.0.0.1:{server.server_address[1]}/v1/traces", processor="simple")
        t0 = 1_700_000_000_000_000_000
        # inside a request BentoML's own span is current, unsampled: ours must not inherit that
        unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("bentoml").start_span("bentoml")
        token = context.attach(trace.set_span_in_context(unsampled))
        try:
            tracer.record_turn("chat", t0, t0 + 9_000_000, [("nlu", t0 + 1_000_000, t0 + 2_000_000),
                                                            ("retrieval", t0 + 2_000_000, t0 + 6_000_000)],
                               {"request_id": "r1", "event_id": "e1", "recommendations": 3, "missing": None})
            # a caller's traceparent is continued
            tracer.record_turn("chat-continued", t0, t0 + 1, [], {}, headers={
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
        finally:
            context.detach(token)
        tracer.shutdown()
    finally:
        server.shutdown()
    spans = [s for b in bodies for rs in b["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    by_name = {s["name"]: s for s in spans}
    assert set(by_name) == {"chat", "stage.nlu", "stage.retrieval", "chat-continued"}
    continued = by_name["chat-continued"]
    assert continued["traceId"] == "0af7651916cd43dd8448eb211c80319c" and continued["parentSpanId"] == "b7ad6b7169203331"
    root = by_name["chat"]
    assert root["kind"] == 2 and "parentSpanId" not in root  # SPAN_KIND_SERVER
    assert {a["key"]: a["value"] for a in root["attributes"]} == {
        "request_id": {"stringValue": "r1"}, "event_id": {"stringValue": "e1"}, "recommendations": {"intValue": "3"}}
    for stage in ("stage.nlu", "stage.retrieval"):
        assert by_name[stage]["parentSpanId"] == root["spanId"] and by_name[stage]["traceId"] == root["traceId"]
    assert by_name["stage.retrieval"]["startTimeUnixNano"] == str(t0 + 2_000_000)
    assert root["endTimeUnixNano"] == str(t0 + 9_000_000)


def test_no_endpoint_no_tracing():
    tracer = Tracer(None)
    assert not tracer.enabled
    tracer.record_turn("chat", 0, 1, [("nlu", 0, 1)], {})  # a no-op, never an error
