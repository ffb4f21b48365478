"""The OpenAPI document as clients need it: BentoML generates the operations and bodies; this adds
what the guard in front of them does (``serving.service.GuardMiddleware``): the API key as a
security scheme, and every error a client can get, with the shape it really has.

* 400 ``{"error": str, "detail": [...]}``: ``detail`` (a list of pydantic errors) when the body did
  not validate; the guard's own refusals (malformed or deeply nested JSON) carry ``error`` only.
* 401 / 403 / 413 / 415 / 429 / 503 ``{"error": str}`` (403: ``as_of`` while the simulated clock is off); 429 with ``Retry-After`` (seconds).
* 404 / 409 on /feedback: the FeedbackResponse (404 ``recommendation_not_found``: no such
  recommendation for this user and session; 409 ``shop_not_recommended``, ``coupon_unavailable``,
  ``in_progress``).
"""

from __future__ import annotations

import copy
from typing import Any

SCHEME = "ApiKeyAuth"
PUBLIC = ("/healthz", "/livez", "/readyz")

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
BAD_REQUEST = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string"},
    "detail": {"type": "array", "items": {"type": "object"}, "description": "The fields that did not validate."}}}


def _error(description: str, schema: str = "Error", headers: dict | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description,
                           "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}
    if headers:
        out["headers"] = headers
    return out


def _nullable_optionals(schemas: dict[str, Any]) -> None:
    """Pydantic writes ``X | None`` as ``anyOf: [X, {"type": "null"}]``, which OpenAPI 3.0 (what BentoML
    declares) cannot say: rewrite it as X marked ``nullable`` (through allOf when X is a ``$ref``,
    since 3.0 ignores a bare ``$ref``'s siblings), so validators accept the null the API answers."""
    for schema in schemas.values():
        props = schema.get("properties") or {}
        for name, prop in list(props.items()):
            branches = prop.get("anyOf") if isinstance(prop, dict) else None
            if not branches or {"type": "null"} not in branches:
                continue
            rest = [b for b in branches if b != {"type": "null"}]
            out = {k: v for k, v in prop.items() if k != "anyOf"}
            if len(rest) == 1 and "$ref" in rest[0]:
                out["allOf"] = rest
            elif len(rest) == 1:
                out = {**rest[0], **out}
            else:
                out["anyOf"] = rest
            out["nullable"] = True
            props[name] = out


def _component_refs(op: dict[str, Any], schemas: dict[str, Any]) -> None:
    """BentoML inlines each body's schema in the operation, and its inline copy drops ``X | None``
    to a bare ``X`` (a null ``why_nothing`` then "violates" the document); the same schema under
    components keeps the null branch. Point the operation at the component instead of the copy."""
    bodies = [op.get("requestBody") or {}, *[r for r in op.get("responses", {}).values() if isinstance(r, dict)]]
    for body in bodies:
        for media in (body.get("content") or {}).values():
            title = (media.get("schema") or {}).get("title")
            if title in schemas:
                media["schema"] = {"$ref": f"#/components/schemas/{title}"}


def document(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "The client's API key (settings api_key / api_clients)."}
    schemas = components.setdefault("schemas", {})
    _nullable_optionals(schemas)
    schemas["Error"] = ERROR
    schemas["BadRequest"] = BAD_REQUEST
    spec["security"] = [{SCHEME: []}]
    retry_after = {"Retry-After": {"description": "Seconds until the next request may succeed.",
                                   "schema": {"type": "integer", "minimum": 1}}}
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            if not isinstance(op, dict):
                continue
            # BentoML writes some status codes as integers: one spelling, or a code is listed twice
            responses = op["responses"] = {str(k): v for k, v in op.setdefault("responses", {}).items()}
            _component_refs(op, schemas)
            if path in PUBLIC:
                op["security"] = []
                if path == "/readyz":
                    responses["503"] = {"description": "Not ready: a dependency or the models are missing."}
                continue
            responses["400"] = _error("Bad request: the body did not validate (detail lists the fields), "
                                      "or it is not a JSON object, or it nests too deep.", "BadRequest")
            responses["401"] = _error("Missing or wrong X-API-Key.")
            responses["429"] = _error("Too many requests from this client (or wrong keys from this address).",
                                      headers=retry_after)
            responses["503"] = _error("A dependency (PostgreSQL, Redis) is unavailable: retry later.")
            if method == "post":
                responses["413"] = _error("Body over 16 KiB.")
                responses["415"] = _error("Content-Type is not application/json.")
                responses["403"] = _error("as_of was sent but the simulated clock is off "
                                          "(NAVIYAM_SIMULATION_CLOCK; serving/clock.py).")
            if path == "/feedback":
                ok = responses.get("200") or {}
                responses["404"] = {"description": "No such recommendation shown to this user in this session "
                                                   "(within 7 days): nothing is recorded.",
                                    "content": copy.deepcopy(ok.get("content", {}))}
                responses["409"] = {"description": "The shop was not in that recommendation (nothing is recorded); "
                                                   "or coupon_use refused: the coupon is not ACTIVE, does not apply, "
                                                   "or the same idempotency key is still being processed.",
                                    "content": copy.deepcopy(ok.get("content", {}))}
    return spec
