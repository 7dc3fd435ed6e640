"""Query expansion as the retriever sees it (``[retrieval] expand``): something that turns a
question into more text to search with. The retriever only needs this protocol; the expander
that asks the configured language model lives above it, in ``ragtune.generate.expand``, because
retrieval must not depend on generation.

* ``hyde`` (Gao et al. 2022, "Precise Zero-Shot Dense Retrieval without Relevance Labels"): one
  short passage written to answer the question. Its embedding, averaged with the question's,
  is the dense query; BM25 still reads the question alone.
* ``multi``: rewordings of the question, each searched like the question, every list fused by RRF.

Expansion changes the query only: every search still runs as the asking principal, with the
same filters, so the access lists apply exactly as without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ragtune.errors import RagtuneError

ExpandMode = Literal["off", "hyde", "multi"]


@dataclass(frozen=True, slots=True)
class Expansion:
    mode: str
    """``hyde`` or ``multi``."""
    texts: tuple[str, ...]
    """hyde: the hypothetical passage (none when the model wrote nothing usable); multi: the
    rewordings, deduplicated, the question itself excluded."""
    model: str
    """The identity of the model that wrote them."""
    seconds: float
    """Time spent in the model for this question: 0 when the expansion came from the cache."""
    cached: bool

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "texts": list(self.texts), "model": self.model,
                "ms": round(self.seconds * 1000, 3), "cached": self.cached}


class QueryExpander(Protocol):
    def expand(self, question: str, mode: ExpandMode, *, count: int, max_tokens: int) -> Expansion:
        """``mode`` is ``hyde`` or ``multi``; ``count``: most rewordings (multi); ``max_tokens``:
        most tokens the model may write. The same arguments give the same expansion."""
        ...

    def close(self) -> None:
        """Free what the expander loaded itself (never a model it was lent)."""
        ...


def changes_nothing(expand: str, mode: str) -> bool:
    """HyDE only moves the dense query, so with BM25 alone it is expansion off (no model call)."""
    return expand == "hyde" and mode == "bm25"


class ExpansionUnavailable(RagtuneError):
    """``[retrieval] expand`` is set on a retriever that was opened without an expander."""


def missing_expander(mode: str) -> ExpansionUnavailable:
    return ExpansionUnavailable(
        f"retrieval.expand = \"{mode}\" needs the [llm] model to expand questions, and this retriever was opened "
        "without one: open it with ragtune.generate.expand.attach_expander (open_assistant and "
        "'ragtune ask|search|eval' do), or set retrieval.expand = \"off\""
    )
