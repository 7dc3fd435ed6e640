"""The arms of a comparison: which model answers, and whether it retrieves first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ragtune.errors import ConfigError

ModelRole = Literal["base", "ft", "raft", "none", "classifier"]


@dataclass(frozen=True)
class Arm:
    name: str
    retrieval: bool
    model: ModelRole
    description: str
    grammar: bool = False
    """The output is constrained by the comparison's JSON schema (``--json-schema``): a llama.cpp
    grammar locally, ``response_format`` on a server."""


ARMS: dict[str, Arm] = {a.name: a for a in (
    Arm("prompt", False, "base", "base model, no retrieval (prompt engineering only)"),
    Arm("rag", True, "base", "base model + retrieval"),
    Arm("extract", True, "none", "retrieval + the extractive reader: the answer quoted from the sources, no model"),
    Arm("ft", False, "ft", "fine-tuned on the training questions, no retrieval"),
    Arm("hybrid", True, "ft", "the same fine-tune + retrieval"),
    Arm("raft", True, "raft", "fine-tuned on RAFT examples (golden source among distractors) + retrieval"),
    Arm("classifier", False, "classifier", "a fine-tuned classifier states the label only (routing eval sets)"),
)}
DEFAULT_ARMS = ("prompt", "rag", "extract", "ft", "hybrid", "raft")
"""What ``compare`` runs unless ``--arms`` says otherwise (``classifier`` needs labelled questions)."""


GRAMMAR = "+grammar"
GENERATING = ("prompt", "rag", "ft", "hybrid", "raft")
"""Arms whose model writes the answer, so a grammar can constrain it (``<arm>+grammar``)."""


def _arm(name: str) -> Arm | None:
    if name in ARMS:
        return ARMS[name]
    base = name.removesuffix(GRAMMAR)
    if name.endswith(GRAMMAR) and base in GENERATING:
        arm = ARMS[base]
        return Arm(name, arm.retrieval, arm.model, f"{arm.description}; output constrained by the JSON schema", True)
    return None


def parse_arms(names: Iterable[str]) -> list[Arm]:
    """Arm names: those of ``ARMS``, and ``<arm>+grammar`` for a generating arm (the structured
    arms: base vs base + grammar, LoRA vs LoRA + grammar)."""
    chosen = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in chosen if _arm(n) is None]
    if unknown or not chosen:
        raise ConfigError(f"unknown arm(s) {', '.join(unknown) or '(none given)'}: choose from {', '.join(ARMS)}, "
                          f"or {GRAMMAR} after one of {', '.join(GENERATING)}")
    return [_arm(n) for n in chosen]  # type: ignore[misc]
