"""Retrieval: Korean hybrid search over shops and menus with three-level caches.

Public API:

* ``Retriever.search(query_text, filters=None, limit=10, query_vector=None, *, target="menus",
  mode="hybrid", use_cache=True) -> list[Hit]`` and ``get_retriever()`` (chat service);
* ``Retriever.embed_query(text) -> np.ndarray`` (one cached query embedding per request);
* ``build_index(engine, *, store=None, embedder=None, full=False) -> IndexSummary`` (Dagster asset);
* ``purge_expired_caches(engine) -> PurgeSummary`` (5-minute batch and retention job);
* ``SearchFilters``, ``EmptyQueryError``, ``MAX_QUERY_CHARS``.

Imports are lazy so ``import models.retrieval`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from models.retrieval.cache import PurgeSummary, purge_expired_caches
    from models.retrieval.filters import SearchFilters
    from models.retrieval.index import IndexSummary, build_index
    from models.retrieval.retriever import Hit, Retriever, get_retriever
    from models.retrieval.text import MAX_QUERY_CHARS, EmptyQueryError

_EXPORTS = {
    "Retriever": "models.retrieval.retriever",
    "Hit": "models.retrieval.retriever",
    "get_retriever": "models.retrieval.retriever",
    "build_index": "models.retrieval.index",
    "IndexSummary": "models.retrieval.index",
    "purge_expired_caches": "models.retrieval.cache",
    "PurgeSummary": "models.retrieval.cache",
    "SearchFilters": "models.retrieval.filters",
    "EmptyQueryError": "models.retrieval.text",
    "MAX_QUERY_CHARS": "models.retrieval.text",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
