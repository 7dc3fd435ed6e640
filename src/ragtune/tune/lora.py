"""LoRA supervised fine-tuning of a causal LM with PEFT and TRL's ``SFTTrainer``.

Examples are handed to TRL as conversational prompt/completion pairs, so the base model's own
chat template frames them and the loss covers the completion (the assistant's answer) only.
Checkpoints go to a folder that outlives the run: an interrupted tune resumes from its last
checkpoint when started again with the same data and settings. Validation loss drives early
stopping and picks the best checkpoint; the held-out test split is scored once, with and without
the adapter, so the registry records what the tune bought.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.errors import TrainingError
from ragtune.generate.base_model import BaseLM, offline, resolve_base
from ragtune.tune.lora_config import LoraTuneConfig
from ragtune.tune.prepare import PreparedData

logger = logging.getLogger(__name__)


@dataclass
class LoraResult:
    base: BaseLM
    metrics: dict[str, float]
    artifacts: dict[str, str]
    """Role -> path relative to the output folder."""
    train_seconds: float
    losses: list[tuple[int, float]] = field(default_factory=list)
    """(step, training loss) as logged."""
    eval_losses: list[tuple[int, float]] = field(default_factory=list)
    device: str = "cpu"
    precision: str = "fp32"
    steps: int = 0


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: where bf16 autocast is faster than fp32 on a CPU (bench/RESULTS.md)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def choose_precision(requested: str, cuda: bool) -> str:
    if requested != "auto":
        return requested
    if cuda:
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


def _rows(data: PreparedData, split: str) -> list[dict[str, Any]]:
    rows = []
    for example in data.splits[split]:
        prompt, completion = example.conversation()
        rows.append({"prompt": prompt, "completion": completion})
    return rows


def run_fingerprint(data: PreparedData, config: LoraTuneConfig) -> str:
    """Checkpoints belong to one (data, settings) pair; a resume with anything else starts over."""
    text = json.dumps({"data": data.content_hash, "config": config.hyperparameters()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def train_lora(
    data: PreparedData,
    config: LoraTuneConfig,
    output: Path,
    checkpoints: Path,
    *,
    resume: bool = True,
    progress: bool = True,
    callbacks: list[Any] | None = None,
) -> LoraResult:
    """Train, save the adapter (and the merged model / GGUF adapter when asked) into ``output``."""
    if data.kind == "classification":
        raise TrainingError("tune lora trains on chat or instruction data, not labelled text (use tune classifier)")
    if not data.splits["train"]:
        raise TrainingError("the training split is empty")
    offline()
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, EarlyStoppingCallback
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    base = resolve_base(config.base)
    cuda = torch.cuda.is_available()
    precision = choose_precision(config.precision, cuda)
    tokenizer = AutoTokenizer.from_pretrained(str(base.folder))
    if tokenizer.chat_template is None:
        raise TrainingError(f"--base {config.base}: the tokenizer has no chat template")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(base.folder), dtype=torch.float32)

    fingerprint = run_fingerprint(data, config)
    run_dir = checkpoints / fingerprint
    if not resume and run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    validation = data.splits["validation"]
    targets: str | list[str] = config.target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    args = SFTConfig(
        output_dir=str(run_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # transformers 5: a float below 1 is a share of the steps
        max_length=config.max_length,
        completion_only_loss=True,
        logging_steps=1,
        eval_strategy="steps" if validation else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=bool(validation),
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=not cuda,
        bf16=precision == "bf16",
        gradient_checkpointing=False,  # costs ~30 % on CPU; the models it targets fit without it
        report_to=[],
        disable_tqdm=not progress,
        dataloader_num_workers=0,
    )
    callbacks = list(callbacks or [])
    if validation and config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(config.early_stopping_patience))
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(_rows(data, "train")),
        eval_dataset=Dataset.from_list(_rows(data, "validation")) if validation else None,
        processing_class=tokenizer,
        peft_config=LoraConfig(
            r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout, target_modules=targets,
            task_type="CAUSAL_LM",
        ),
        callbacks=callbacks,
    )
    checkpoint = get_last_checkpoint(str(run_dir)) if resume else None
    if checkpoint is not None:
        logger.warning("resuming from %s", checkpoint)
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.perf_counter() - started

    for callback in callbacks:  # scoring the test split is not training: nothing to stop early
        trainer.remove_callback(callback)
    metrics = _score(trainer, data)
    artifacts = _save(trainer, tokenizer, base, config, output)
    history = trainer.state.log_history
    shutil.rmtree(run_dir, ignore_errors=True)  # saved for good: the checkpoints have served
    return LoraResult(
        base=base, metrics=metrics, artifacts=artifacts, train_seconds=train_seconds,
        losses=[(h["step"], h["loss"]) for h in history if "loss" in h],
        eval_losses=[(h["step"], h["eval_loss"]) for h in history if "eval_loss" in h],
        device="cuda" if cuda else "cpu", precision=precision, steps=trainer.state.global_step,
    )


def _score(trainer: Any, data: PreparedData) -> dict[str, float]:
    """Test-split loss with and without the adapter; validation loss of the kept model."""
    from datasets import Dataset

    held_out = "test" if data.splits["test"] else "validation"
    if not data.splits[held_out]:
        return {}
    dataset = Dataset.from_list(_rows(data, held_out))
    tuned = trainer.evaluate(dataset, metric_key_prefix=held_out)
    with trainer.model.disable_adapter():
        before = trainer.evaluate(dataset, metric_key_prefix=held_out)
    loss, base_loss = tuned[f"{held_out}_loss"], before[f"{held_out}_loss"]
    metrics = {
        f"{held_out}_loss": round(loss, 4), f"{held_out}_loss_base": round(base_loss, 4),
        f"{held_out}_perplexity": round(math.exp(min(loss, 50)), 3),
        f"{held_out}_perplexity_base": round(math.exp(min(base_loss, 50)), 3),
    }
    # TRL logs its token accuracy under "eval_" whatever the prefix
    accuracy = next((k for k in (f"{held_out}_mean_token_accuracy", "eval_mean_token_accuracy") if k in tuned), None)
    if accuracy is not None:
        metrics[f"{held_out}_token_accuracy"] = round(tuned[accuracy], 4)
        metrics[f"{held_out}_token_accuracy_base"] = round(before[accuracy], 4)
    return metrics


def _save(trainer: Any, tokenizer: Any, base: BaseLM, config: LoraTuneConfig, output: Path) -> dict[str, str]:
    artifacts = {"adapter": "adapter"}
    model = trainer.model
    model.save_pretrained(str(output / "adapter"))
    tokenizer.save_pretrained(str(output / "adapter"))
    if config.gguf and base.gguf is not None:
        from ragtune.tune.gguf_adapter import write_gguf_adapter

        write_gguf_adapter(output / "adapter", base.gguf, output / "adapter.gguf")
        artifacts["gguf_adapter"] = "adapter.gguf"
    if config.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(str(output / "merged"))
        tokenizer.save_pretrained(str(output / "merged"))
        artifacts["merged"] = "merged"
    return artifacts
