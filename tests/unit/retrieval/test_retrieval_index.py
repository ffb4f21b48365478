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
