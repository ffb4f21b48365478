"""Schemathesis against the service's own OpenAPI document: generated valid and invalid requests to
every operation get no server error, and every answer's status, content type, headers and body are
the documented ones (the API key is the document's security scheme)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "response_headers_conformance")


def test_every_documented_operation_conforms_and_never_fails_on_the_server(service, tmp_path):
    doc = httpx.get(service.url + "/docs.json", headers=service.headers(), timeout=30)
    assert doc.status_code == 200
    spec = doc.json()
    assert spec["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": spec["components"]["securitySchemes"]["ApiKeyAuth"]["description"]}
    feedback = spec["paths"]["/feedback"]["post"]["responses"]
    assert {"400", "401", "409", "429", "503"} <= set(map(str, feedback))
    assert spec["components"]["schemas"]["BadRequest"]["properties"]["detail"]["type"] == "array"
    # /metrics is disabled in this service; the probes have nothing to fuzz
    spec["paths"] = {p: v for p, v in spec["paths"].items() if p in ("/chat", "/feedback", "/status")}
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(spec, ensure_ascii=False))
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "run", str(path), "--url", service.url,
           "-H", f"X-API-Key: {service.api_key}", "--checks", CHECKS, "--max-examples", "15", "--workers", "1",
           "--phases", "examples,coverage,fuzzing", "--request-timeout", "30", "--seed", "20261207",
           "--suppress-health-check", "all"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    print("schemathesis:", " ".join(line.strip() for line in done.stdout.splitlines()[-12:] if line.strip()))
