"""Settings of RAFT training data (``ragtune data raft``): retrieval-augmented fine-tuning
examples after Zhang et al. 2024 (arXiv 2403.10131)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RaftConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    distractors: int = Field(default=4, ge=0)
    """Distractor chunks beside the golden one: hard negatives, the retriever's best chunks from
    other documents. The paper's recipe is 1 golden + 4 distractors."""
    no_golden_share: float = Field(default=0.2, ge=0.0, le=1.0)
    """Share of examples whose sources lack the golden chunk (they get one more distractor
    instead), so the model learns that the right source is not always there."""
    without_golden: Literal["refuse", "answer"] = "refuse"
    """What those examples teach: ``refuse`` (the configured not-found reply, as ragtune's
    grounded prompt asks) or ``answer`` (the gold answer from memory, the paper's variant)."""
    style: Literal["quote", "cot", "reply"] = "quote"
    """``quote``: the answer as the source words it, cited ([n]). ``cot``: first the sentence of
    the source that holds it, quoted and cited, then ``Answer: ...`` (the paper's chain of
    thought; evaluation scores the text after ``Answer:``). ``reply``: the gold answer exactly as
    written, nothing added — for eval sets whose answers are whole replies in a house format (the
    format and tone are what the model is to learn, in the prompt it serves with); the golden
    chunk is then the best-ranked chunk of a relevant document when no chunk holds the reply's
    words, so those questions need ``relevant_doc_ids``."""
    candidates: int = Field(default=30, ge=1)
    """How deep to search for the golden chunk and the distractors."""
    seed: int = 0
