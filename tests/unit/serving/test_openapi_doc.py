"""The OpenAPI document the service serves: BentoML's, completed (serving/openapi_doc.py). The
schemathesis contract test (tests/e2e/test_openapi_contract.py) checks the live answers against it;
these check the rewriting itself on BentoML's real output, without a server."""

from __future__ import annotations

import pytest

from serving.openapi_doc import document


@pytest.fixture(scope="module")
def doc():
    from serving.service import Naviyam

    spec = Naviyam.openapi_spec
    return document(spec.asdict() if hasattr(spec, "asdict") else spec)


def test_status_codes_are_spelled_once(doc):
    for path, ops in doc["paths"].items():
        for op in ops.values():
            codes = list(op["responses"])
            assert all(isinstance(c, str) for c in codes), (path, codes)
            assert len(codes) == len(set(codes)), (path, codes)


def test_bodies_point_at_components_that_keep_their_null_branches(doc):
    schemas = doc["components"]["schemas"]
    feedback = doc["paths"]["/feedback"]["post"]
    for status in ("200", "404", "409"):
        ref = feedback["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/FeedbackResponseIODescriptor"
    assert schemas["FeedbackResponseIODescriptor"]["properties"]["event_id"]["nullable"] is True
    chat = doc["paths"]["/chat"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    why = schemas[chat.rsplit("/", 1)[1]]["properties"]["why_nothing"]
    assert why["nullable"] is True and why["allOf"] == [{"$ref": "#/components/schemas/WhyNothingOut"}]


def test_every_guarded_operation_documents_the_guards_errors(doc):
    for path in ("/chat", "/feedback", "/status"):
        op = doc["paths"][path]["post"]
        assert {"400", "401", "403", "413", "415", "429", "503"} <= set(op["responses"]), path
        assert op["responses"]["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert doc["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "X-API-Key"
