"""The NLU's blind split: the lines that decide which model serves, never trained on.

Three sets, each with its own job:

* the public dev set (``shared/eval/nlu_dev.jsonl``): a smoke test, measured and logged only;
* the **blind split**, which the promotion gate scores:
  - ``data/nlu_blind_grammar.jsonl`` — grammar lines frozen on 2026-12-07 (before any tuning) from
    a seed no training run uses, restricted to the blind partition of sentence skeletons and with
    every near-duplicate of a training-partition line removed;
  - the collected corrections (``nlu_training_data`` rows with a true intent) whose normalized
    text hashes into the blind partition;
* the **robustness suite** (``data/nlu_robustness.jsonl``, hand-written): typos, spacing, 초성
  (ㄱㄱ, ㅇㅇ), English and number mixes, emoji, long rambling messages, out-of-domain requests,
  reported per category.

A sentence's *skeleton* is its normalized text without spacing, punctuation, digits and food
words, so "치킨 먹고 싶어" and "피자먹고싶어" share one. The partition is a hash of the skeleton:
every line of a blind skeleton, whatever its filler, stays out of training, and the frozen file
further drops lines whose character 2–4-gram cosine to a training-partition line is ≥ 0.9.

    python -m models.nlu.blind --write     # re-freeze the grammar part (only when the grammar changed)
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from models.nlu.preprocess import normalize_text

DATA_DIR = Path(__file__).resolve().parent / "data"
BLIND_GRAMMAR_FILE = DATA_DIR / "nlu_blind_grammar.jsonl"
ROBUSTNESS_FILE = DATA_DIR / "nlu_robustness.jsonl"
BLIND_SEED = 770_017  # no training run uses it
BLIND_PERCENT = 15  # share of skeletons in the blind partition
NEAR_DUPLICATE_COSINE = 0.9


def sentence_key(text: str) -> str:
    """Normalized form for deduplication: the normalizer's text without spacing or punctuation."""
    return re.sub(r"[\s?!.~,·…'\"]", "", normalize_text(text))


@lru_cache(maxsize=1)
def _food_pattern() -> re.Pattern:
    from models.nlu.training_data import FOOD_SHOPS, FOODS  # noqa: PLC0415

    words = sorted({re.sub(r"\s", "", s) for s, _ in FOODS + FOOD_SHOPS}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


def skeleton(text: str) -> str:
    """The sentence with its fillers masked (food words → F, digits → 0)."""
    key = sentence_key(text)
    return re.sub(r"\d+", "0", _food_pattern().sub("F", key))


def _bucket(value: str) -> int:
    return int(hashlib.sha256(value.encode("utf-8")).hexdigest()[:8], 16) % 100


def in_blind_partition(text: str) -> bool:
    """Whether a grammar line belongs to the blind side (decided by its skeleton)."""
    return _bucket(skeleton(text)) < BLIND_PERCENT


def collected_is_blind(text: str) -> bool:
    """Whether a collected correction is held out for the gate (decided by its normalized form,
    so the same correction typed twice lands on one side)."""
    return _bucket("collected:" + sentence_key(text)) < BLIND_PERCENT


@lru_cache(maxsize=1)
def _frozen_keys() -> frozenset[str]:
    return frozenset(sentence_key(r["text"]) for r in read_rows(BLIND_GRAMMAR_FILE))


def training_rows(rows: list[dict]) -> list[dict]:
    """Grammar rows a model may train on: outside the blind partition and not a frozen blind line."""
    frozen = _frozen_keys()
    return [r for r in rows if not in_blind_partition(r["text"]) and sentence_key(r["text"]) not in frozen]


def split_collected(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """(train, blind) parts of the collected corrections."""
    train, blind = [], []
    for r in rows:
        (blind if collected_is_blind(r["text"]) else train).append(r)
    return train, blind


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def blind_rows(collected: list[dict] | None = None) -> list[dict]:
    """The gate's set: the frozen grammar lines plus the blind part of ``collected``, deduplicated
    by normalized form."""
    out, seen = [], set()
    for r in read_rows(BLIND_GRAMMAR_FILE) + (split_collected(collected or [])[1]):
        key = sentence_key(r["text"])
        if key not in seen:
            seen.add(key)
            out.append({"text": r["text"], "intent": r["intent"], "entities": r.get("entities") or {}})
    return out


def robustness_rows() -> list[dict]:
    return read_rows(ROBUSTNESS_FILE)


def freeze_grammar_blind(n: int = 4000, reference_n: int = 12000, seed: int = BLIND_SEED) -> list[dict]:
    """Draw blind-partition grammar lines and drop near-duplicates of the training partition."""
    import numpy as np  # noqa: PLC0415
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

    from models.nlu.training_data import generate  # noqa: PLC0415

    candidates, seen = [], set()
    for r in generate(n, seed):
        key = sentence_key(r["text"])
        if in_blind_partition(r["text"]) and key not in seen:
            seen.add(key)
            candidates.append(r)
    reference = [r["text"] for r in generate(reference_n, 20261125) if not in_blind_partition(r["text"])]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), preprocessor=sentence_key)
    ref = vec.fit_transform(reference)
    cand = vec.transform([r["text"] for r in candidates])
    nearest = np.asarray((cand @ ref.T).max(axis=1).todense()).ravel()
    return [r for r, s in zip(candidates, nearest, strict=True) if s < NEAR_DUPLICATE_COSINE]


def main(argv: list[str] | None = None) -> int:
    import argparse  # noqa: PLC0415

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="re-freeze data/nlu_blind_grammar.jsonl")
    args = parser.parse_args(argv)
    if args.write:
        rows = freeze_grammar_blind()
        DATA_DIR.mkdir(exist_ok=True)
        BLIND_GRAMMAR_FILE.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        print(f"wrote {len(rows)} lines to {BLIND_GRAMMAR_FILE}")
    from collections import Counter  # noqa: PLC0415

    rows = read_rows(BLIND_GRAMMAR_FILE)
    print(json.dumps({"blind_grammar": len(rows), "intents": Counter(r["intent"] for r in rows),
                      "robustness": Counter(r["category"] for r in robustness_rows())}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
