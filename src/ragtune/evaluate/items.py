"""One evaluation question, whatever layout it was read from, and how retrieved chunks are matched
to the documents it names as relevant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ragtune.config import FormatConfig
from ragtune.index.base import Hit
from ragtune.types import Principal


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    question: str
    answers: tuple[str, ...] = ()
    relevant: Mapping[str, int] = field(default_factory=dict)
    """Document id -> relevance grade (> 0 relevant). Ids name a record id (BEIR ``_id``, JSON
    ``id_field``), a source path, or the end of one (``hr/leave.md``)."""
    principal: Principal | None = None
    """Who asks; ``None`` means the run's default principal."""
    expect_refusal: bool = False
    """The right answer is a refusal (``expect_refusal: true`` in an eval set). Evaluations also
    expect one when none of the relevant documents is visible to the principal."""
    label: str | None = None
    """The routing/classification label the answer should state (``label`` metrics)."""
    format: FormatConfig | None = None
    """This item's own format requirements, replacing ``[eval.behaviour.format]``."""


def document_key(hit: Hit, relevant: Mapping[str, int]) -> str:
    """The id under which a hit's document is judged: the relevant id it matches, else its source
    (see :func:`source_key`)."""
    return source_key(hit.source, relevant)


def source_key(source: str, relevant: Mapping[str, int]) -> str:
    """The id under which the document at ``source`` is judged: the relevant id it matches, else
    ``source`` itself.

    A relevant id matches a record's own id (``corpus.jsonl#_id=42`` matches ``42``), the whole
    source, or the source's file by its trailing path segments (``/data/hr/leave.md`` and the rows of
    ``/data/prices.csv#row=3`` match ``hr/leave.md`` and ``prices.csv``).
    """
    container, _, fragment = source.rpartition("#") if "#" in source else (source, "", "")
    record = fragment.split("=", 1)[-1] if fragment else None
    if record is not None and record in relevant:
        return record
    for candidate in (source, container):
        if candidate in relevant:
            return candidate
    path = container.replace("\\", "/")
    for key in relevant:
        if path.endswith("/" + key.lstrip("/")):
            return key
    return source  # unique per document, so unjudged documents never merge


def ranked_documents(hits: Sequence[Hit], relevant: Mapping[str, int]) -> list[str]:
    """Judged document ids in rank order, each where its best chunk ranks."""
    return list(dict.fromkeys(document_key(h, relevant) for h in hits))


def hit_summaries(hits: Sequence[Hit], relevant: Mapping[str, int], n: int = 3) -> list[dict[str, object]]:
    """The first ``n`` hits as saved with a run, for the report's worst-queries table."""
    summaries: list[dict[str, object]] = []
    for hit in hits[:n]:
        doc = document_key(hit, relevant)
        summaries.append({
            "document": doc, "source": hit.source, "score": round(hit.score, 4),
            "relevant": relevant.get(doc, 0) > 0, "text": hit.text[:300],
        })
    return summaries
