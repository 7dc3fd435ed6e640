"""Settings of a text classifier fine-tune (``ragtune tune classifier``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ragtune.bundled import DEFAULT_EMBEDDER

# Measured (docs/fine-tuning.md, bench/RESULTS.md): with a handful of examples per label SetFit's
# contrastive pairs beat a classification head; with many, the fine-tuned head catches up. On
# Banking77 (77 intents) neither beat logistic regression on the frozen embeddings, which every
# run reports beside its own score.
SETFIT_MAX_PER_LABEL = 16


class ClassifierTuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = DEFAULT_EMBEDDER
    """A bundled embedder name or a local sentence-transformers/HF encoder folder."""
    method: Literal["auto", "finetune", "setfit"] = "auto"
    """``auto``: SetFit when the training split has at most 16 examples per label, else a full
    fine-tune (AutoModelForSequenceClassification)."""
    shots: int | None = Field(default=None, ge=1)
    """Train on this many examples per label, sampled (seeded) from the training split."""
    epochs: float = Field(default=4.0, gt=0)
    learning_rate: float = Field(default=3e-4, gt=0)
    """Banking77 full data, 4 epochs: 1e-4 was still climbing (test .883); 3e-4 reached .919."""
    batch_size: int = Field(default=32, ge=1)
    max_length: int = Field(default=128, ge=8)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    weight_decay: float = Field(default=0.01, ge=0)
    setfit_iterations: int = Field(default=5, ge=1)
    """SetFit: contrastive pairs generated per training example (each a positive and a negative)."""
    seed: int = 0
    baseline: bool = True
    """Also score logistic regression on frozen embeddings of the same examples: what tuning bought."""

    def resolved_method(self, per_label: float) -> str:
        if self.method != "auto":
            return self.method
        return "setfit" if per_label <= SETFIT_MAX_PER_LABEL else "finetune"
