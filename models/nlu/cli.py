"""``naviyam nlu ...``: parse, predict, eval, train, train-lora, bench.

Mount with ``app.add_typer(models.nlu.cli.app, name="nlu")``. Errors in the user's input (a file
that is missing, not UTF-8, not JSONL) exit with status 2 and a one-line message, not a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Korean NLU: intent + entities to the label contract.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _parser(use_cache: bool = True, persist: bool = True):
    from models.nlu.parser import NLUParser  # noqa: PLC0415
    from models.nlu.train import load_or_train  # noqa: PLC0415

    return NLUParser(load_or_train(), use_cache=use_cache, persist=persist)


@app.command()
def parse(
    text: Annotated[str, typer.Argument(help="The utterance; '-' reads it from stdin.")],
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Skip L1/Redis/DB cache lookups.")] = False,
    no_persist: Annotated[bool, typer.Option("--no-persist", help="Do not save the result to nlu_training_data.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Also print keywords, emotion, patterns, source, latency.")] = False,
) -> None:
    """Parse one utterance and print its frame as JSON."""
    if text == "-":
        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            _fail(f"stdin is not valid UTF-8 (byte {exc.start})")
        text = text.rstrip("\n")
    parser = _parser(use_cache=not no_cache, persist=not no_persist)
    result = parser.parse(text)
    parser.flush()
    typer.echo(json.dumps(result.as_dict() if full else result.frame(), ensure_ascii=False))


@app.command()
def predict(
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL with a 'text' per line.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="JSONL to write, one line per input line.")],
) -> None:
    """Predict {"text","intent","confidence","entities"} for every line, in the same order."""
    from models.nlu.evaluate import InputError, read_jsonl  # noqa: PLC0415

    try:
        rows = read_jsonl(input, require=("text",))
    except InputError as exc:
        _fail(str(exc))
    results = _parser(use_cache=False, persist=False).parse_many([r["text"] for r in rows])
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(r.frame(), ensure_ascii=False) + "\n")
    typer.echo(f"wrote {len(results)} predictions to {output}", err=True)


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="Gold JSONL: text, intent, entities per line.")],
    misses: Annotated[bool, typer.Option("--misses/--no-misses", help="List the misses.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the four scores as one JSON line only.")] = False,
) -> None:
    """Intent accuracy, macro-F1, slot micro-F1, frame exact match; confusion matrix and misses."""
    from models.nlu.evaluate import InputError, format_confusion, read_jsonl, score  # noqa: PLC0415

    try:
        gold = read_jsonl(file, require=("text", "intent"))
    except InputError as exc:
        _fail(str(exc))
    if not gold:
        _fail(f"{file} has no lines to score")
    parser = _parser(use_cache=False, persist=False)
    results = parser.parse_many([g["text"] for g in gold])
    report = score(gold, [{"intent": r.intent, "entities": r.entities} for r in results])
    if as_json:
        typer.echo(json.dumps(report.scores()))
        return
    typer.echo(f"model: {parser.model_version}  lines: {report.n}")
    for k in ("intent_accuracy", "intent_macro_f1", "slot_micro_f1", "frame_exact_match"):
        typer.echo(f"{k:<20} {getattr(report, k):.4f}")
    typer.echo("\nper-intent F1: " + ", ".join(f"{k}={v:.2f}" for k, v in report.per_intent_f1.items()))
    typer.echo("\nconfusion (rows gold, columns predicted):\n" + format_confusion(report.confusion))
    if misses and report.misses:
        typer.echo(f"\nmisses ({len(report.misses)}):")
        for m in report.misses:
            typer.echo("MISS " + json.dumps({"text": m.text, "gold": m.gold_intent, "pred": m.pred_intent,
                                             "missing": m.missing, "extra": m.extra}, ensure_ascii=False))
    typer.echo(json.dumps(report.scores()))


@app.command()
def train(
    n_synthetic: Annotated[int, typer.Option(help="Grammar examples to generate.")] = 9000,
    seed: Annotated[int, typer.Option(help="Grammar and model seed.")] = 20261125,
    c: Annotated[float, typer.Option("--c", help="Inverse regularization of the logistic regression.")] = 8.0,
    no_register: Annotated[bool, typer.Option("--no-register", help="Log to MLflow but do not register.")] = False,
    dev: Annotated[Path | None, typer.Option(help="Dev JSONL to measure (never trained on).")] = None,
    e5_head: Annotated[bool, typer.Option("--e5-head", help="Also fit a head on e5 embeddings (slow).")] = False,
) -> None:
    """Train the char n-gram intent classifier; log to MLflow and model_training_logs; register it."""
    from models.nlu.train import train_intent_classifier  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _, summary = train_intent_classifier(n_synthetic=n_synthetic, seed=seed, c=c, register=not no_register,
                                         dev_path=dev, e5_head=e5_head)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command("train-lora")
def train_lora(
    max_steps: Annotated[int, typer.Option("--max-steps", help="Optimizer steps (a few hundred at most).")] = 300,
    rank: Annotated[int, typer.Option(help="LoRA rank r.")] = 8,
    alpha: Annotated[int, typer.Option(help="LoRA alpha.")] = 16,
    dropout: Annotated[float, typer.Option(help="LoRA dropout.")] = 0.05,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 5e-4,
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = 16,
    n_synthetic: Annotated[int, typer.Option(help="Grammar examples to generate.")] = 4000,
    no_register: Annotated[bool, typer.Option("--no-register", help="Log to MLflow but do not register.")] = False,
    dev: Annotated[Path | None, typer.Option(help="Dev JSONL to compare on (never trained on).")] = None,
) -> None:
    """Fine-tune a LoRA adapter on multilingual-e5-small for intent; compare with the classifier; register the better."""
    from models.nlu.lora import LoraConfigArgs, train_lora_adapter  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    summary = train_lora_adapter(LoraConfigArgs(max_steps=max_steps, rank=rank, alpha=alpha, dropout=dropout, lr=lr,
                                                batch_size=batch_size, n_synthetic=n_synthetic),
                                 register=not no_register, dev_path=dev)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command()
def bench(
    dev: Annotated[Path | None, typer.Option(help="Gold JSONL to score (default: the public dev set).")] = None,
    repeats: Annotated[int, typer.Option(help="Timed parses per utterance.")] = 5,
) -> None:
    """Dev metrics and parse latency (p50/p99) for the model path, the rule path and the full miss path."""
    from models.nlu.bench import run_bench  # noqa: PLC0415

    typer.echo(json.dumps(run_bench(dev, repeats=repeats), ensure_ascii=False, indent=2))


@app.command()
def sets(
    dev: Annotated[Path | None, typer.Option(help="Public dev JSONL (smoke test; default: shared/eval).")] = None,
    model: Annotated[Path | None, typer.Option(help="A saved model (default: the registry's champion).")] = None,
    kind: Annotated[str, typer.Option(help="char_ngram_lr or lora_adapter (with --model).")] = "char_ngram_lr",
) -> None:
    """Scores on the dev set (smoke test), the blind split (what the promotion gate uses) and the
    robustness suite per category (typos, spacing, 초성, English/number mixes, emoji, rambling, out-of-domain)."""
    from models.nlu.bench import run_sets  # noqa: PLC0415

    typer.echo(json.dumps(run_sets(dev, model, kind), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    app()
