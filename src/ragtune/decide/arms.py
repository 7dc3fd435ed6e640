"""The arms of a comparison: which model answers, and whether it retrieves first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ragtune.errors import ConfigError

ModelRole = Literal["base", "ft", "raft", "none"]


@dataclass(frozen=True)
class Arm:
    name: str
    retrieval: bool
    model: ModelRole
    description: str


ARMS: dict[str, Arm] = {a.name: a for a in (
    Arm("prompt", False, "base", "base model, no retrieval (prompt engineering only)"),
    Arm("rag", True, "base", "base model + retrieval"),
    Arm("extract", True, "none", "retrieval + the extractive reader: the answer quoted from the sources, no model"),
    Arm("ft", False, "ft", "fine-tuned on the training questions, no retrieval"),
    Arm("hybrid", True, "ft", "the same fine-tune + retrieval"),
    Arm("raft", True, "raft", "fine-tuned on RAFT examples (golden source among distractors) + retrieval"),
)}


def parse_arms(names: Iterable[str]) -> list[Arm]:
    chosen = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in chosen if n not in ARMS]
    if unknown or not chosen:
        raise ConfigError(f"unknown arm(s) {', '.join(unknown) or '(none given)'}: choose from {', '.join(ARMS)}")
    return [ARMS[n] for n in chosen]
