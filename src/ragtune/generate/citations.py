"""Checking an answer's citations against the sources the model was given.

The model is told to cite ``[n]``. After generation every marker is checked:

* it must name a source that was in the prompt (``[7]`` with five sources is *out of range*);
* the sentence carrying it must be *supported* by that source: at least ``support_threshold`` of
  the sentence's content words occur in the source, and every number it states occurs there too
  (a wrong price or date is the costliest hallucination). Optionally a paraphrase is accepted when
  the embedding cosine of sentence and source reaches ``semantic_threshold``.

Markers that fail are removed from the text (or kept, in ``flag`` mode) and always listed in
``rejected`` with the reason; nothing unverified is presented as a citation. A sentence the model
did not cite can be *attributed* to the source that supports it best (``origin="attributed"``).
The check is deterministic: the same answer and sources always give the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ragtune.generate.terms import content_terms, coverage, is_number
from ragtune.index.base import Hit

_LABEL = r"(?:source|src|doc(?:ument)?)?\s*#?\s*"
MARKER = re.compile(rf"\[\s*{_LABEL}(\d+(?:\s*[,;]\s*{_LABEL}\d+)*)\s*\]", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
_TRAILING_PUNCT = re.compile(r"[\s.!?:;,]*$")

Similarity = Callable[[str, str], float]
"""Cosine similarity of two texts (for the optional semantic check)."""


@dataclass(slots=True)
class Citation:
    number: int
    """The ``[n]`` in the answer: the n-th source given to the model."""
    chunk_id: str
    document_id: str
    source: str
    start: int
    end: int
    """The cited chunk's character span in its document's extracted text."""
    page: int | None
    quote: str
    """The sentence of the source that best supports the answer sentence."""
    quote_start: int
    quote_end: int
    """The quote's character span in the document's extracted text."""
    sentence: str
    """The answer sentence this citation supports (markers removed)."""
    support: float
    origin: Literal["model", "attributed", "quoted"] = "model"
    """``model``: written by the model; ``attributed``: added to an uncited sentence its source
    supports; ``quoted``: the verbatim evidence under an extractive answer."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["support"] = round(self.support, 4)
        return data


@dataclass(frozen=True, slots=True)
class RejectedCitation:
    number: int
    sentence: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Verification:
    text: str
    """The answer with rejected markers removed (or kept in ``flag`` mode) and attributed ones added."""
    citations: list[Citation] = field(default_factory=list)
    rejected: list[RejectedCitation] = field(default_factory=list)
    checked_sentences: int = 0
    """Answer sentences with content words (a bare "Yes." is not checked)."""
    supported_sentences: int = 0
    unsupported_sentences: list[str] = field(default_factory=list)

    @property
    def faithfulness(self) -> float | None:
        """Share of checked sentences that a given source supports; None when nothing was checked."""
        return self.supported_sentences / self.checked_sentences if self.checked_sentences else None


@dataclass(frozen=True, slots=True)
class _MarkerGroup:
    start: int
    end: int
    numbers: tuple[int, ...]


@dataclass(slots=True)
class _Sentence:
    start: int
    end: int
    markers: list[_MarkerGroup]


@dataclass(frozen=True, slots=True)
class VerifierSettings:
    support_threshold: float = 0.7
    semantic_threshold: float | None = None
    unsupported: Literal["remove", "flag"] = "remove"
    attribute_uncited: bool = True


def _sentences(text: str) -> list[_Sentence]:
    """Sentence spans of ``text``; markers written after the full stop ("... fast. [2]") belong to
    the sentence before them."""
    spans: list[tuple[int, int]] = []
    position = 0
    for brk in _SENTENCE_BREAK.finditer(text):
        spans.append((position, brk.start()))
        position = brk.end()
    spans.append((position, len(text)))
    sentences: list[_Sentence] = []
    for start, end in spans:
        if start >= end:
            continue
        groups = [
            _MarkerGroup(start + m.start(), start + m.end(), tuple(int(n) for n in _NUMBER.findall(m.group(1))))
            for m in MARKER.finditer(text[start:end])
        ]
        leading: list[_MarkerGroup] = []
        cursor = start
        for group in groups:
            if text[cursor : group.start].strip():
                break
            leading.append(group)
            cursor = group.end
        if leading and sentences:
            sentences[-1].markers.extend(leading)
            groups = groups[len(leading) :]
            start = cursor
            if not text[start:end].strip():
                continue
        sentences.append(_Sentence(start, end, groups))
    return sentences


def _plain(text: str) -> str:
    """The sentence as a reader sees it without its markers."""
    return re.sub(r" ([.!?,;:])", r"\1", " ".join(MARKER.sub(" ", text).split()))


def _best_quote(sentence_terms: set[str], hit: Hit) -> tuple[str, int, int]:
    """The source sentence sharing most content words with the answer sentence, with its span in
    the document (chunk offsets plus the chunk's start)."""
    best, best_score = (0, len(hit.text)), -1
    for piece in _sentences(hit.text):
        score = len(sentence_terms & set(content_terms(hit.text[piece.start : piece.end])))
        if score > best_score:
            best, best_score = (piece.start, piece.end), score
    start, end = best
    raw = hit.text[start:end]
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    return hit.text[start:end], hit.start + start, hit.start + end


class CitationVerifier:
    def __init__(self, settings: VerifierSettings | None = None, similarity: Similarity | None = None) -> None:
        self.settings = settings or VerifierSettings()
        if self.settings.semantic_threshold is not None and similarity is None:
            raise ValueError("semantic_threshold needs a similarity function (an embedder)")
        self.similarity = similarity

    def support(self, sentence: str, hit: Hit) -> tuple[float, str | None]:
        """(score, reason it fails or None) for ``sentence`` against one source."""
        return self._support(sentence, content_terms(sentence), hit, set(content_terms(hit.text)))

    def _support(self, sentence: str, terms: list[str], hit: Hit, source_terms: set[str]) -> tuple[float, str | None]:
        missing = sorted({t for t in terms if is_number(t)} - source_terms)
        score = coverage(terms, source_terms)
        threshold = self.settings.support_threshold
        if missing:
            return score, f"states {', '.join(missing)}, which the source does not"
        if score >= threshold:
            return score, None
        if self.similarity is not None and self.settings.semantic_threshold is not None:
            similarity = self.similarity(sentence, hit.text)
            if similarity >= self.settings.semantic_threshold:
                return max(score, similarity), None
            return score, f"support {score:.2f} < {threshold} and similarity {similarity:.2f} < {self.settings.semantic_threshold}"
        return score, f"support {score:.2f} < {threshold}"

    def verify(self, answer: str, sources: Sequence[Hit]) -> Verification:
        settings = self.settings
        result = Verification(text=answer)
        edits: list[tuple[int, int, str]] = []
        # Each source is tokenised once per answer, not once per sentence and marker.
        source_terms = [set(content_terms(hit.text)) for hit in sources]
        for sentence in _sentences(answer):
            plain = _plain(answer[sentence.start : sentence.end])
            terms = content_terms(plain)
            supported = False
            for group in sentence.markers:
                kept: list[int] = []
                for number in dict.fromkeys(group.numbers):
                    if not 1 <= number <= len(sources):
                        result.rejected.append(
                            RejectedCitation(number, plain, f"out of range: {len(sources)} sources were given")
                        )
                        continue
                    if not terms:
                        result.rejected.append(RejectedCitation(number, plain, "the sentence has nothing to check"))
                        continue
                    score, reason = self._support(plain, terms, sources[number - 1], source_terms[number - 1])
                    if reason is not None:
                        result.rejected.append(RejectedCitation(number, plain, reason))
                        continue
                    kept.append(number)
                    result.citations.append(self._citation(number, sources[number - 1], plain, terms, score, "model"))
                    supported = True
                if settings.unsupported == "remove" and len(kept) != len(group.numbers):
                    edits.append((group.start, group.end, f"[{', '.join(map(str, kept))}]" if kept else ""))
            if not terms:
                continue
            result.checked_sentences += 1
            if not supported and settings.attribute_uncited and not sentence.markers:
                supported = self._attribute(answer, sentence, plain, terms, sources, source_terms, result, edits)
            if supported:
                result.supported_sentences += 1
            else:
                result.unsupported_sentences.append(plain)
        result.text = _apply(answer, edits)
        return result

    def _attribute(
        self,
        answer: str,
        sentence: _Sentence,
        plain: str,
        terms: list[str],
        sources: Sequence[Hit],
        source_terms: list[set[str]],
        result: Verification,
        edits: list[tuple[int, int, str]],
    ) -> bool:
        best: tuple[float, int] | None = None
        for number, (hit, terms_of_hit) in enumerate(zip(sources, source_terms), start=1):
            score, reason = self._support(plain, terms, hit, terms_of_hit)
            if reason is None and (best is None or score > best[0]):
                best = (score, number)
        if best is None:
            return False
        score, number = best
        result.citations.append(self._citation(number, sources[number - 1], plain, terms, score, "attributed"))
        # The marker goes before the sentence's closing punctuation: "... two years [1]."
        body = answer[sentence.start : sentence.end]
        tail = _TRAILING_PUNCT.search(body)
        at = sentence.start + (tail.start() if tail else len(body))
        edits.append((at, at, f" [{number}]"))
        return True

    @staticmethod
    def _citation(number: int, hit: Hit, sentence: str, terms: list[str], score: float, origin: str) -> Citation:
        quote, quote_start, quote_end = _best_quote(set(terms), hit)
        return Citation(
            number=number,
            chunk_id=hit.chunk_id,
            document_id=hit.document_id,
            source=hit.source,
            start=hit.start,
            end=hit.end,
            page=hit.page,
            quote=quote,
            quote_start=quote_start,
            quote_end=quote_end,
            sentence=sentence,
            support=score,
            origin=origin,  # type: ignore[arg-type]
        )


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    if not edits:
        return text
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    # Removing a marker can leave "fast ." or a double space behind.
    text = re.sub(r"[ \t]+([.!?,;:])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
