"""The extractive reader: an answer taken from the sources, never written by a model.

The principal's visible sources are cut into candidates (sentences, table rows, list items:
``candidates.py``), an ``AnswerScorer`` ranks them against the question, and the answer is the
shortest span of the best one that answers (``answer_span.py``), followed by the supporting
candidate(s) quoted verbatim with their exact character spans in the source document. Because
every quote is a slice of a source the principal may see, the answer is faithful by construction
and can never show a document the search did not return for this principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ragtune.generate.answer_scorer import AnswerScorer, FeatureAnswerScorer
from ragtune.generate.answer_span import shortest_answer
from ragtune.generate.candidates import Candidate, split_candidates
from ragtune.generate.citations import Citation
from ragtune.index.base import Hit

EXTRACTED = "quoted"
"""``Citation.origin`` of a verbatim quote under an extractive answer."""


@dataclass(frozen=True, slots=True)
class Extraction:
    span: str
    """The shortest text that answers (a cell with its unit, a number with what it counts, or the
    whole candidate)."""
    quotes: list[Citation]
    """The supporting candidates, best first, each quoted verbatim with its document span."""
    score: float

    @property
    def text(self) -> str:
        """The answer as shown: the span with the numbers of the sources it is quoted from."""
        numbers = ", ".join(str(n) for n in dict.fromkeys(q.number for q in self.quotes))
        return f"{self.span} [{numbers}]"


class ExtractiveReader:
    def __init__(self, scorer: AnswerScorer, max_evidence: int = 2, evidence_margin: float = 0.1) -> None:
        """``evidence_margin``: a second quote is added only when it scores within this share of
        the best one (a weaker sentence is noise, not support)."""
        self.scorer = scorer
        self.max_evidence = max_evidence
        self.evidence_margin = evidence_margin

    def _ranked(self, question: str, sources: Sequence[Hit]) -> tuple[list[tuple[int, Hit, Candidate]], list[float], list[int]]:
        """(candidates as (source number, hit, candidate), their scores, indices best first)."""
        # A question in a source (an FAQ's title) restates the question; it never answers it.
        found = [(number, hit, c) for number, hit in enumerate(sources, start=1) for c in split_candidates(hit.text)
                 if not hit.text[c.start : c.end].endswith("?")]
        if not found:
            return [], [], []
        texts = [hit.text[c.start : c.end] for _, hit, c in found]
        if isinstance(self.scorer, FeatureAnswerScorer):
            raw = self.scorer.score(question, texts, [hit.scores.get("dense", 0.0) for _, hit, _ in found])
        else:
            raw = self.scorer.score(question, texts)
        scores = [float(s) for s in raw]
        # Ties go to the better-ranked source, then to the earlier candidate: deterministic.
        order = sorted(range(len(found)), key=lambda i: (-scores[i], found[i][0], found[i][2].start))
        return found, scores, order

    def lead_with_best(self, question: str, sources: Sequence[Hit]) -> list[Hit]:
        """Copies of ``sources`` whose text starts with their best answer candidate, the rest of
        the text following in order: what a small model reads first is what it repeats."""
        found, _, order = self._ranked(question, sources)
        best: dict[int, Candidate] = {}
        for i in order:
            best.setdefault(found[i][0], found[i][2])
        led = []
        for number, hit in enumerate(sources, start=1):
            c = best.get(number)
            if c is None or c.start == 0:
                led.append(hit)
                continue
            rest = f"{hit.text[: c.start].rstrip()} {hit.text[c.end :].lstrip()}".strip()
            led.append(replace(hit, text=f"{hit.text[c.start : c.end]}\n\n{rest}"))
        return led

    def read(self, question: str, sources: Sequence[Hit]) -> Extraction | None:
        """None when the sources hold no candidate at all (empty or heading-only chunks)."""
        found, scores, order = self._ranked(question, sources)
        if not found:
            return None
        texts = [hit.text[c.start : c.end] for _, hit, c in found]
        best = order[0]
        number, hit, candidate = found[best]
        span = shortest_answer(question, texts[best], candidate.kind)
        quotes = [_quote(number, hit, candidate.start, candidate.end, span, scores[best])]
        floor = scores[best] - self.evidence_margin * abs(scores[best])
        for i in order[1 : self.max_evidence]:
            if scores[i] < floor:
                break
            n, h, c = found[i]
            quotes.append(_quote(n, h, c.start, c.end, span, scores[i]))
        return Extraction(span, quotes, scores[best])


def _quote(number: int, hit: Hit, start: int, end: int, span: str, score: float) -> Citation:
    return Citation(
        number=number, chunk_id=hit.chunk_id, document_id=hit.document_id, source=hit.source,
        start=hit.start, end=hit.end, page=hit.page, quote=hit.text[start:end],
        quote_start=hit.start + start, quote_end=hit.start + end, sentence=span, support=score,
        origin=EXTRACTED,  # type: ignore[arg-type]
    )
