"""Incremental index builds on the edge shard (no PostgreSQL: every text is re-embedded, but
only changed points are written)."""

from __future__ import annotations

import copy

from models.retrieval import demo_data
from models.retrieval import sparse as sparse_mod
from models.retrieval.index import build_index
from models.retrieval.store import EdgeStore


def test_incremental_build_writes_only_changes(tmp_path, embedder, monkeypatch):
    store = EdgeStore(tmp_path, reload_interval_s=0)
    shops, menus = demo_data.shop_rows(), demo_data.menu_rows()
    first = build_index(None, store=store, embedder=embedder, shops=shops, menus=menus)
    assert first.shops.upserted == 16 and first.menus.upserted == len(menus)
    gen1 = store.generation

    analysed = []
    real_terms_many = sparse_mod.terms_many
    monkeypatch.setattr(sparse_mod, "terms_many", lambda texts: analysed.extend(texts) or real_terms_many(texts))
    again = build_index(None, store=store, embedder=embedder, shops=shops, menus=menus)
    assert analysed == []  # nothing changed: Kiwi analyses no document
    assert again.shops.upserted == again.menus.upserted == 0
    assert again.shops.payload_updated == again.menus.payload_updated == 0
    assert store.generation == gen1  # nothing changed: nothing published

    shops2, menus2 = copy.deepcopy(shops), copy.deepcopy(menus)
    menus2[0]["description"] = "국물이 자작한 옛날 떡볶이"  # text change of menu 1
    shops2[5]["current_status"] = "CLOSED"  # payload-only change of shop 6 (and its menus)
    removed = menus2.pop()  # a deleted menu
    analysed.clear()
    third = build_index(None, store=store, embedder=embedder, shops=shops2, menus=menus2)
    assert len(analysed) < len(menus2) // 2  # only the changed documents
    assert third.menus.upserted == 1
    assert third.menus.deleted == 1
    assert third.menus.payload_updated == 3  # the three menus of shop 6
    assert third.shops.payload_updated >= 1
    # a shop point holds its menus' summary: the shops whose menus changed or went are rewritten
    assert third.shops.upserted == len({int(menus2[0]["shop_id"]), int(removed["shop_id"])})
    assert store.generation != gen1
    assert store.count("menus") == len(menus2)
    assert removed["id"] not in store.fingerprints("menus")

    menus3 = menus2[:-1]  # a full rebuild starts a fresh collection: a removed menu is simply not there
    full = build_index(None, store=store, embedder=embedder, shops=shops2, menus=menus3, full=True)
    assert full.menus.upserted == len(menus3) and full.menus.deleted == 1
    assert store.count("menus") == len(menus3) and menus2[-1]["id"] not in store.fingerprints("menus")
    store.close()


def test_a_second_process_style_reader_sees_published_generations(tmp_path, embedder):
    writer = EdgeStore(tmp_path, reload_interval_s=0)
    reader = EdgeStore(tmp_path, reload_interval_s=0)
    shops, menus = demo_data.shop_rows()[:3], [m for m in demo_data.menu_rows() if m["shop_id"] <= 3]
    build_index(None, store=writer, embedder=embedder, shops=shops, menus=menus)
    assert reader.count("menus") == len(menus)
    build_index(None, store=writer, embedder=embedder, shops=shops, menus=menus[:-2])
    assert reader.count("menus") == len(menus) - 2
    writer.close()
    reader.close()


def test_a_shop_point_is_its_description_and_its_menus():
    import numpy as np

    from models.retrieval.index import shop_point_vector

    description, summary = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    assert np.allclose(shop_point_vector(description, summary), [2 ** -0.5, 2 ** -0.5])
    assert np.allclose(shop_point_vector(description, None), description)  # a shop without menus


def test_shop_texts_embed_beside_the_menu_writes_then_hand_over():
    """``BatchEmbedding``: a side thread embeds batches on one core until the caller takes over;
    every text is embedded exactly once, whichever thread got it."""
    import contextlib
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from infra.progress import Progress
    from models.embedding import TextEmbedder
    from models.retrieval.index import BatchEmbedding

    side_started, release = threading.Event(), threading.Event()

    class Recording(TextEmbedder):
        name, dim, can_limit_threads = "recording", 2, True

        def __init__(self):
            self.calls: list[tuple[str, bool, list[str]]] = []
            self._local = threading.local()

        @contextlib.contextmanager
        def one_thread(self):
            self._local.limited = True
            try:
                yield
            finally:
                self._local.limited = False

        def embed_queries(self, texts):
            raise AssertionError("passages only")

        def embed_passages(self, texts):
            limited = getattr(self._local, "limited", False)
            self.calls.append((threading.current_thread().name, limited, list(texts)))
            if limited:
                side_started.set()
                release.wait(5)  # the side thread is mid-batch when the caller takes over
            return np.ones((len(texts), 2), np.float32)

    embedder = Recording()
    texts = {f"h{i}": ("menu_description", "가" * (i + 1)) for i in range(10)}
    with Progress("test", total=10, mode="off") as bar, ThreadPoolExecutor(1, thread_name_prefix="side") as pool:
        job = BatchEmbedding(None, embedder, texts, list(texts), 3, bar)
        beside = pool.submit(job.run_beside)
        assert side_started.wait(5)
        release.set()
        vectors = job.finish(beside)
    assert set(vectors) == set(texts) and bar.count == 10
    embedded = [t for _, _, batch in embedder.calls for t in batch]
    assert sorted(embedded) == sorted(t for _, t in texts.values())  # each once
    assert embedded[:3] == ["가", "가가", "가가가"]  # shortest first
    side = [c for c in embedder.calls if c[0].startswith("side")]
    assert side and all(limited for _, limited, _ in side)  # one core beside the caller
    assert all(not limited for name, limited, _ in embedder.calls if not name.startswith("side"))


def test_thread_limit_holds_only_the_calling_thread():
    import threading

    import torch

    from models.embedding.e5_torch import E5TorchRuntime, thread_limit

    runtime = E5TorchRuntime(precision="fp32")
    seen = {}
    before = torch.get_num_threads()

    def side():
        with thread_limit(1):
            original = runtime._run
            runtime._run = lambda *a: seen.setdefault("side", torch.get_num_threads()) and original(*a)
            runtime.embed(["떡볶이"])
            runtime._run = original

    t = threading.Thread(target=side)
    t.start()
    t.join()
    assert seen["side"] == 1
    assert torch.get_num_threads() == before  # the caller's own count is untouched


def test_a_failed_menu_write_stops_the_shop_embedding(tmp_path, embedder, monkeypatch):
    """The menus' writes fail while the shops' texts embed beside them: the build raises without
    embedding the rest of the shops first (Ctrl-C must not wait for a whole embedding)."""
    import time

    import pytest

    from models.retrieval import index as index_mod

    shops, menus = demo_data.shop_rows(), demo_data.menu_rows()
    embedded: list[str] = []
    real = embedder.embed_passages

    def slow_embed(texts):  # a batch takes a while, as a real one does
        embedded.extend(texts)
        time.sleep(0.2)
        return real(texts)

    monkeypatch.setattr(embedder, "embed_passages", slow_embed)
    real_sync = index_mod._sync_collection

    def failing_sync(store, name, *args, **kwargs):
        if name == "menus":
            raise RuntimeError("disk full")
        return real_sync(store, name, *args, **kwargs)

    monkeypatch.setattr(index_mod, "_sync_collection", failing_sync)
    store = EdgeStore(tmp_path, reload_interval_s=0)
    with pytest.raises(RuntimeError, match="disk full"):
        build_index(None, store=store, embedder=embedder, shops=shops, menus=menus, batch_size=4)
    shop_texts = {d.text for d in index_mod.build_documents(shops, menus)[0]}
    assert len(shop_texts & set(embedded)) < len(shop_texts)  # not every shop text was embedded
    store.close()
