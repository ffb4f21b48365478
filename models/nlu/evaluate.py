"""Scores of the label contract: intent accuracy, intent macro-F1 (nine intents), slot micro-F1 over
(slot, value) pairs and frame exact match — computed exactly as shared/eval/score_nlu.py does,
plus a confusion matrix and the list of misses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from models.nlu.labels import DEFAULT_NORMAL_SLOTS, INTENT_VALUES, Slot


def slot_pairs(entities: dict | None) -> set[tuple[str, str]]:
    """(slot, value) pairs of a frame; list slots give one pair per item; urgency/portion 'normal'
    and empty values count as absent; budgets compare as integers."""
    out: set[tuple[str, str]] = set()
    for slot, value in (entities or {}).items():
        if value is None or value == [] or value == "":
            continue
        if slot in DEFAULT_NORMAL_SLOTS and value == "normal":
            continue
        if isinstance(value, list):
            out.update((slot, str(v)) for v in value)
        else:
            if slot == Slot.BUDGET.value:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    pass
            out.add((slot, str(value)))
    return out


@dataclass
class Miss:
    text: str
    gold_intent: str
    pred_intent: str | None
    missing: list[tuple[str, str]]
    extra: list[tuple[str, str]]


@dataclass
class Report:
    n: int
    intent_accuracy: float
    intent_macro_f1: float
    slot_micro_f1: float
    frame_exact_match: float
    per_intent_f1: dict[str, float] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    def scores(self) -> dict:
        return {"n": self.n, "intent_accuracy": self.intent_accuracy, "intent_macro_f1": self.intent_macro_f1,
                "slot_micro_f1": self.slot_micro_f1, "frame_exact_match": self.frame_exact_match}

    def confusion_matrix(self) -> tuple[list[str], list[list[int]]]:
        """(labels, counts) of the intents that occur, gold or predicted, in the contract's order
        (anything else predicted, e.g. ``None``, last); rows gold, columns predicted."""
        seen = {g for g, row in self.confusion.items() if any(row.values())}
        seen |= {p for row in self.confusion.values() for p, count in row.items() if count}
        labels = [i for i in INTENT_VALUES if i in seen] + sorted(seen - set(INTENT_VALUES))
        return labels, [[self.confusion.get(g, {}).get(p, 0) for p in labels] for g in labels]


def score(gold: list[dict], pred: list[dict]) -> Report:
    n = len(gold)
    if len(pred) != n:
        raise ValueError(f"prediction count {len(pred)} != gold count {n}")
    if n == 0:
        raise ValueError("nothing to score: the gold file has no lines")
    correct = exact = tp = fp = fn = 0
    per = {i: [0, 0, 0] for i in INTENT_VALUES}
    confusion: dict[str, dict[str, int]] = {i: {} for i in INTENT_VALUES}
    misses: list[Miss] = []
    for g, p in zip(gold, pred, strict=True):
        gi, pi = g["intent"], p.get("intent")
        confusion.setdefault(gi, {})
        confusion[gi][str(pi)] = confusion[gi].get(str(pi), 0) + 1
        if gi == pi:
            correct += 1
            per[gi][0] += 1
        else:
            per.setdefault(pi, [0, 0, 0])[1] += 1
            per.setdefault(gi, [0, 0, 0])[2] += 1
        gp, pp = slot_pairs(g.get("entities")), slot_pairs(p.get("entities"))
        tp += len(gp & pp)
        fp += len(pp - gp)
        fn += len(gp - pp)
        if gi == pi and gp == pp:
            exact += 1
        else:
            misses.append(Miss(g["text"], gi, pi, sorted(gp - pp), sorted(pp - gp)))
    f1s: dict[str, float] = {}
    for i in INTENT_VALUES:
        t, f_p, f_n = per[i]
        prec = t / (t + f_p) if t + f_p else 0.0
        rec = t / (t + f_n) if t + f_n else 0.0
        f1s[i] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    sp = tp / (tp + fp) if tp + fp else 0.0
    sr = tp / (tp + fn) if tp + fn else 0.0
    return Report(
        n=n,
        intent_accuracy=round(correct / n, 4),
        intent_macro_f1=round(sum(f1s.values()) / len(f1s), 4),
        slot_micro_f1=round(2 * sp * sr / (sp + sr) if sp + sr else 0.0, 4),
        frame_exact_match=round(exact / n, 4),
        per_intent_f1={k: round(v, 4) for k, v in f1s.items()},
        confusion=confusion,
        misses=misses,
    )


class InputError(ValueError):
    """A JSONL input file that cannot be read (clear message, no traceback for users)."""


def read_jsonl(path: Path, *, require: tuple[str, ...] = ("text",)) -> list[dict]:
    """Lines of a JSONL file; bad UTF-8, bad JSON or a missing key raise InputError with the line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows: list[dict] = []
    for lineno, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            decoded = line.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}:{lineno}: invalid UTF-8 at byte {exc.start}") from exc
        try:
            obj = json.loads(decoded)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object")
        for key in require:
            if key not in obj:
                raise InputError(f"{path}:{lineno}: missing key {key!r}")
        if "text" in require and not isinstance(obj["text"], str):
            raise InputError(f"{path}:{lineno}: 'text' must be a string")
        rows.append(obj)
    return rows


def format_confusion(confusion: dict[str, dict[str, int]]) -> str:
    """A fixed-width confusion matrix, gold rows × predicted columns (short names)."""
    labels = list(INTENT_VALUES)
    extra = sorted({p for row in confusion.values() for p in row} - set(labels))
    cols = labels + extra
    short = {c: c.split("_")[0][:6] for c in cols}
    head = "gold\\pred".ljust(18) + " ".join(short[c].rjust(6) for c in cols)
    lines = [head]
    for g in labels:
        row = confusion.get(g, {})
        if not row:
            continue
        lines.append(g.ljust(18) + " ".join(str(row.get(c, 0) or ".").rjust(6) for c in cols))
    return "\n".join(lines)
