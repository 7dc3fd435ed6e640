"""Settings of an embedder fine-tune (``ragtune tune embedder``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ragtune.bundled import DEFAULT_EMBEDDER


class EmbedderTuneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = DEFAULT_EMBEDDER
    """A bundled embedder name or a local sentence-transformers folder."""
    epochs: float = Field(default=1.0, gt=0)
    learning_rate: float = Field(default=2e-5, gt=0)
    batch_size: int = Field(default=32, ge=2)
    """In-batch negatives: every other pair's passage is a negative for a query, so larger
    batches give a harder task (memory permitting)."""
    max_length: int = Field(default=256, ge=8)
    warmup_ratio: float = Field(default=0.1, ge=0, lt=1)
    held_out: float = Field(default=0.1, ge=0, lt=1)
    """Share of the pairs (by query) kept out of training to score before/after."""
    seed: int = 0
