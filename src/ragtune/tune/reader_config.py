"""Settings of a reader fine-tune (``ragtune tune reader``): a cross-encoder that scores
(question, candidate) pairs, used to rerank chunks and to choose the sentence that answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ragtune.bundled import DEFAULT_EMBEDDER


class ReaderTuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = DEFAULT_EMBEDDER
    """A bundled encoder name or a local sentence-transformers / Hugging Face encoder folder; the
    cross-encoder is built on it with a fresh (untrained) one-logit head."""
    negatives: int = Field(default=4, ge=1)
    """Hard negatives per question: other sentences of the gold document (SQuAD, eval set), or
    BM25 hits that are not relevant (BEIR), sampled with the seed."""
    negative_depth: int = Field(default=30, ge=1)
    """BEIR: negatives are drawn from the top ``negative_depth`` non-relevant BM25 hits."""
    epochs: float = Field(default=1.0, gt=0)
    max_steps: int = Field(default=-1, ge=-1)
    """Stop after this many optimisation steps (-1: all epochs)."""
    learning_rate: float = Field(default=1e-4, gt=0)
    """Higher than the usual 2e-5: the head starts untrained and CPU budgets allow few steps (on
    SciFact, 3e-5 for 90 steps stayed at a constant predictor; 1e-4 for one epoch did not)."""
    batch_size: int = Field(default=16, ge=1)
    max_length: int = Field(default=256, ge=16)
    """Tokens of question + candidate; longer pairs are truncated."""
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    validation: float = Field(default=0.1, ge=0, lt=1)
    """Share of the questions (whole questions, never single pairs) scored before/after training."""
    seed: int = 0
