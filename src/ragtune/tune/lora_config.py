"""Settings of a LoRA supervised fine-tune (``ragtune tune lora``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ragtune.bundled import DEFAULT_LLM


class LoraTuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = DEFAULT_LLM
    """A bundled LLM name, a .gguf file (dequantised once, cached) or a local HF model folder."""
    rank: int = Field(default=16, ge=1)
    alpha: float = Field(default=32.0, gt=0)
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: str = "all-linear"
    """PEFT's name for every linear layer of the blocks (not the output head); or a comma list."""
    learning_rate: float = Field(default=5e-4, gt=0)
    """TRL's default (2e-5) barely moves a small LoRA in a few hundred steps; 5e-4 does."""
    epochs: float = Field(default=3.0, gt=0)
    max_steps: int = -1
    """Stop after this many optimiser steps (-1: run ``epochs``)."""
    batch_size: int = Field(default=4, ge=1)
    """Per device. fp32 batch 8 x 512 tokens peaked at 19.6 GB here: keep it small, accumulate."""
    gradient_accumulation: int = Field(default=1, ge=1)
    max_length: int = Field(default=512, ge=16)
    """Tokens per example (chat template included); longer examples are truncated."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """``auto``: bf16 autocast on a GPU that supports it and on CPUs with native bf16
    (AVX512-BF16/AMX), fp32 otherwise; see bench/RESULTS.md for the CPU measurement."""
    eval_steps: int = Field(default=20, ge=1)
    """Validation loss (and a checkpoint) every this many steps."""
    early_stopping_patience: int = Field(default=3, ge=0)
    """Stop when validation loss has not improved for this many evaluations (0: never)."""
    warmup_ratio: float = Field(default=0.03, ge=0, lt=1)
    seed: int = 0
    merge: bool = False
    """Also save the base with the adapter merged in, as safetensors (a full copy of the model)."""
    gguf: bool = True
    """Also write the adapter as a GGUF llama.cpp can apply to the base GGUF (when the base is one)."""

    def hyperparameters(self) -> dict[str, object]:
        return self.model_dump(exclude={"merge", "gguf"})
