"""What ``Assistant.ask`` returns: the answer with its verified citations, the sources, timings and
token counts. Plain data, serialisable with ``to_dict()`` for the CLI, the server and evaluations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ragtune.generate.base import Usage
from ragtune.generate.citations import Citation, RejectedCitation
from ragtune.index.base import Hit


@dataclass(slots=True)
class Answer:
    question: str
    text: str
    found: bool
    """False when no retrieved chunk was relevant enough: ``text`` is then the configured
    not-found reply and the model was not called."""
    model: str
    user: str
    citations: list[Citation] = field(default_factory=list)
    rejected: list[RejectedCitation] = field(default_factory=list)
    """Citations the model wrote that failed verification (out of range or unsupported)."""
    unsupported_sentences: list[str] = field(default_factory=list)
    faithfulness: float | None = None
    """Share of the answer's sentences that a given source supports."""
    sources: list[Hit] = field(default_factory=list)
    """The chunks the model was given; citation ``[n]`` refers to ``sources[n - 1]``."""
    hits: list[Hit] = field(default_factory=list)
    """Everything retrieval returned, in rank order."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds: ``retrieve``, ``rerank``, ``prompt``, ``time_to_first_token``, ``generate``,
    ``verify``, ``total``."""
    usage: Usage = field(default_factory=lambda: Usage(0, 0))
    finish_reason: str | None = None
    data: Any = None
    """The parsed JSON when a JSON schema was requested."""
    flags: list[str] = field(default_factory=list)
    """Notes a reader must see: a cut-off answer, withheld text, sources left out for space."""
    mode: str = "generate"
    """How ``text`` was made: ``generate`` (the model wrote it), ``extract`` (quoted from the
    sources, no model) or ``quoted`` (the model's answer was not supported by the sources, so the
    extractive answer replaced it: the model's text is ``rejected_text``)."""
    rejected_text: str | None = None
    supported: bool | None = None
    """False when a generated answer is not supported by its sources (shown only with
    ``on_unsupported = "flag"`` or ``"show"``); None when it was not checked (JSON output)."""

    @property
    def evidence(self) -> list[Citation]:
        """The verbatim quotes an extractive (or quoted) answer rests on."""
        return [c for c in self.citations if c.origin == "quoted"]

    @property
    def cited_sources(self) -> list[Hit]:
        numbers = sorted({c.number for c in self.citations})
        return [self.sources[n - 1] for n in numbers]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "found": self.found,
            "model": self.model,
            "user": self.user,
            "citations": [c.to_dict() for c in self.citations],
            "rejected_citations": [r.to_dict() for r in self.rejected],
            "unsupported_sentences": self.unsupported_sentences,
            "faithfulness": None if self.faithfulness is None else round(self.faithfulness, 4),
            "sources": [{"number": n, **hit.to_dict()} for n, hit in enumerate(self.sources, start=1)],
            "hits": [hit.to_dict() for hit in self.hits],
            "timings_ms": {k: round(v * 1000, 3) for k, v in self.timings.items()},
            "usage": self.usage.to_dict(),
            "finish_reason": self.finish_reason,
            "data": self.data,
            "flags": self.flags,
            "answer_mode": self.mode,
            "evidence": [c.to_dict() for c in self.evidence],
            "rejected_text": self.rejected_text,
            "supported": self.supported,
        }
