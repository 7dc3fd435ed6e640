"""Settings of a text classifier fine-tune (``ragtune tune classifier``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Measured (docs/fine-tuning.md, bench/RESULTS.md): with many examples per label, fine-tuning the
# whole encoder with a classification head wins; with a handful, SetFit's contrastive pairs do.
SETFIT_MAX_PER_LABEL = 16


class ClassifierTuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = "all-MiniLM-L6-v2"
    """A bundled embedder name or a local sentence-transformers/HF encoder folder."""
    method: Literal["auto", "finetune", "setfit"] = "auto"
    """``auto``: SetFit when the training split has at most 16 examples per label, else a full
    fine-tune (AutoModelForSequenceClassification)."""
    shots: int | None = Field(default=None, ge=1)
    """Train on this many examples per label, sampled (seeded) from the training split."""
    epochs: float = Field(default=4.0, gt=0)
    learning_rate: float = Field(default=1e-4, gt=0)
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
