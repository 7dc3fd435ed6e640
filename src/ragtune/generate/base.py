"""The ``LLM`` protocol every generation backend implements, and the plain data it speaks.

A backend streams: ``stream()`` yields ``Delta`` pieces of text and always ends with one delta that
carries the ``Usage`` and the finish reason, so the caller gets token counts the same way from a
local model and from a server. ``complete()`` collects a stream for callers that want one string.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    repeat_penalty: float = 1.0
    """1.0 is off; local backends only."""
    seed: int = 0
    stop: tuple[str, ...] = ()
    json_schema: Mapping[str, Any] | None = None
    """Constrain the output to JSON valid against this schema (grammar locally, response_format
    remotely); backends that cannot constrain raise ``GenerationError``."""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    def to_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass(frozen=True, slots=True)
class Delta:
    text: str = ""
    usage: Usage | None = None
    """Set on the last delta of a stream only."""
    finish_reason: str | None = None
    """``stop`` (the model ended), ``length`` (max_tokens reached); set on the last delta only."""


class LLM(Protocol):
    identity: str
    """What produced an answer: backend and model, recorded with every answer and evaluation."""
    context_size: int

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in the model's own tokenizer (an estimate only where said so)."""
        ...

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the rendered chat prompt takes, template included."""
        ...

    def stream(self, messages: Sequence[Message], options: GenerationOptions) -> Iterator[Delta]: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class Completion:
    text: str
    usage: Usage
    finish_reason: str
    time_to_first_token: float
    seconds: float
    extras: dict[str, Any] = field(default_factory=dict)


def complete(llm: LLM, messages: Sequence[Message], options: GenerationOptions) -> Completion:
    """Run a whole generation and return it as one string with its usage and timings."""
    started = time.perf_counter()
    first: float | None = None
    parts: list[str] = []
    usage, finish = Usage(0, 0), "stop"
    for delta in llm.stream(messages, options):
        if delta.text:
            if first is None:
                first = time.perf_counter() - started
            parts.append(delta.text)
        if delta.usage is not None:
            usage = delta.usage
        if delta.finish_reason is not None:
            finish = delta.finish_reason
    seconds = time.perf_counter() - started
    return Completion("".join(parts), usage, finish, first if first is not None else seconds, seconds)


TEMPLATE_OVERHEAD_TOKENS = 8
"""Per-message allowance for role markers where a backend cannot render its template."""
