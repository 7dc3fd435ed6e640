"""The conformance suite every ``Chunker`` implementation must pass, and the invariants it checks
(also usable on their own: ``assert_spans_round_trip``, ``assert_no_text_lost``,
``assert_sizes_and_overlap``).

The contract (``ragtune.chunk.base`` and ``ragtune.types``): every chunk is an exact, trimmed,
non-empty slice ``document.text[start:end]`` with a deterministic id made from that span, it
carries its document's page and heading path, and no visible character of the document is left
out of every chunk. A chunker with a token budget also keeps each chunk within it and shares at
most its overlap with a neighbour.

A chunker subclasses ``ChunkerConformance`` and provides the ``chunker`` fixture, and the
``budget`` fixture when it has a token budget::

    class TestMyChunker(ChunkerConformance):
        @pytest.fixture
        def chunker(self):
            return MyChunker(max_tokens=40)

        @pytest.fixture
        def budget(self):
            return Budget(my_tokenizer, chunk_tokens=40, overlap_tokens=8)

Needs ``pytest`` and ``hypothesis`` (``pip install 'ragtune[test]'``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragtune.chunk.base import Chunker
from ragtune.chunk.tokenizer import Tokenizer
from ragtune.types import Chunk, Document, Heading

__all__ = [
    "DOCUMENTS",
    "Budget",
    "ChunkerConformance",
    "assert_no_text_lost",
    "assert_sizes_and_overlap",
    "assert_spans_round_trip",
]


# -- the invariants ---------------------------------------------------------------------------


def assert_spans_round_trip(document: Document, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and chunk.text
        assert chunk.document_id == document.id and chunk.source == document.source
        assert chunk.id == Chunk.make_id(document.id, chunk.start, chunk.end)


def assert_no_text_lost(document: Document, chunks: list[Chunk]) -> None:
    covered = bytearray(len(document.text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    lost = [i for i, ch in enumerate(document.text) if not ch.isspace() and not covered[i]]
    assert not lost, f"characters not in any chunk at {lost[:10]}: {document.text[lost[0]:lost[0]+40]!r}"


def assert_sizes_and_overlap(
    chunks: list[Chunk], tokenizer: Tokenizer, chunk_tokens: int, overlap_tokens: int
) -> None:
    for chunk in chunks:
        # Counted on its own, exactly as the embedder will see it.
        assert tokenizer.count(chunk.text) <= chunk_tokens, (chunk.token_count, chunk.text[:80])
    ordered = sorted(chunks, key=lambda c: (c.start, c.end))
    for a, b in zip(ordered, ordered[1:]):
        assert a.start < b.start, "two chunks start at the same place"
        assert a.end < b.end, "a chunk lies inside its predecessor"
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.start >= a.end:
                break
            shared = a.text[b.start - a.start :]
            assert tokenizer.count(shared) <= overlap_tokens, (
                f"chunks share {tokenizer.count(shared)} tokens > overlap {overlap_tokens}"
            )


# -- documents of every shape a loader produces -----------------------------------------------


def _outline(text: str, headings: list[tuple[int, str]]) -> list[Heading]:
    out, cursor = [], 0
    for level, line in headings:
        start = text.index(line, cursor)
        out.append(Heading(level, line.lstrip("# "), start))
        cursor = start + len(line)
    return out


def _prose() -> Document:
    paragraphs = [" ".join(f"Sentence {p}.{i} explains one more detail of the leave policy." for i in range(6))
                  for p in range(8)]
    return Document("prose", "mem://prose.txt", "\n\n".join(paragraphs) + "\n", "text")


def _markdown() -> Document:
    body = " ".join(f"Rule {i}: employees must file form {i} before travel." for i in range(25))
    text = (f"Intro line before any heading.\n\n# Handbook\n\nWelcome text.\n\n## Leave\n\n{body}\n\n"
            "### Carry over\n\nUp to five days carry over.\n\n## Expenses\n\nMeals are refunded up to 40 EUR.\n")
    headings = [(1, "# Handbook"), (2, "## Leave"), (3, "### Carry over"), (2, "## Expenses")]
    return Document("markdown", "mem://handbook.md", text, "markdown", outline=_outline(text, headings))


def _table() -> Document:
    spans: list[tuple[int, int]] = []
    outline: list[Heading] = []
    text = ""
    for sheet in range(2):
        if sheet:
            text += "\n\n"
        outline.append(Heading(1, f"Sheet{sheet}", len(text)))
        for i in range(30):
            line = f"sku: S{sheet}-{i} | name: Item {i} | price: {i}.99 | currency: EUR"
            spans.append((len(text), len(text) + len(line)))
            text += line + "\n"
        text = text[:-1]
    return Document("table", "mem://prices.xlsx", text, "table", outline=outline, row_spans=spans)


def _paged() -> Document:
    pages = [" ".join(f"Page {p} line {i} describes the audit procedure." for i in range(12)) for p in range(1, 5)]
    text, starts = "", []
    for page in pages:
        if text:
            text += "\n\n"
        starts.append(len(text))
        text += page
    return Document("paged", "mem://audit.pdf", text, "pdf", page_starts=starts)


def _unbroken() -> Document:
    # No separator at all but many tokens, and text beyond the Basic Multilingual Plane.
    text = "-".join(f"segment{i}" for i in range(150)) + " Ünïcödé 日本語 😀 " + "x" * 30
    return Document("unbroken", "mem://unbroken.txt", text, "text")


DOCUMENTS: dict[str, Document] = {
    "prose": _prose(),
    "markdown": _markdown(),
    "table": _table(),
    "paged": _paged(),
    "unbroken": _unbroken(),
}


@dataclass(frozen=True, slots=True)
class Budget:
    """A chunker's size limits: no chunk over ``chunk_tokens`` tokens of ``tokenizer``, and no two
    chunks sharing more than ``overlap_tokens``."""

    tokenizer: Tokenizer
    chunk_tokens: int
    overlap_tokens: int


_texts = st.lists(
    st.sampled_from(list("abcdefghij klmnop.,;!?\n") + ["\n\n", ". ", "Ünïcode", "日本語", "😀", "-", "\t", "# "]),
    min_size=0,
    max_size=300,
).map("".join)


# The fixtures are factories or stateless, so sharing them across examples is safe; and one
# method runs in several subclasses (one per chunker), which only shares their example database.
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.differing_executors],
)


class ChunkerConformance:
    @pytest.fixture
    def chunker(self) -> Chunker:  # pragma: no cover - each chunker overrides this
        raise NotImplementedError("provide a chunker fixture returning the Chunker under test")

    @pytest.fixture
    def budget(self) -> Budget | None:
        """Override for a chunker with a token budget; None skips the size checks."""
        return None

    def _chunks(self, chunker: Chunker, name: str) -> tuple[Document, list[Chunk]]:
        document = DOCUMENTS[name]
        return document, chunker.chunk(document)

    def test_is_a_named_chunker(self, chunker: Chunker) -> None:
        assert isinstance(chunker.name, str) and chunker.name
        assert callable(chunker.chunk)

    @pytest.mark.parametrize("name", sorted(DOCUMENTS))
    def test_chunks_are_exact_slices_of_the_source(self, chunker: Chunker, name: str) -> None:
        document, chunks = self._chunks(chunker, name)
        assert chunks
        assert_spans_round_trip(document, chunks)
        assert len({c.id for c in chunks}) == len(chunks), "two chunks with the same span"

    @pytest.mark.parametrize("name", sorted(DOCUMENTS))
    def test_no_text_is_lost(self, chunker: Chunker, name: str) -> None:
        assert_no_text_lost(*self._chunks(chunker, name))

    @pytest.mark.parametrize("name", sorted(DOCUMENTS))
    def test_chunks_keep_their_page_and_heading_path(self, chunker: Chunker, name: str) -> None:
        document, chunks = self._chunks(chunker, name)
        for chunk in chunks:
            assert chunk.page == document.page_at(chunk.start)
            assert chunk.page_end == document.page_at(chunk.end - 1)
            assert chunk.heading_path == document.heading_path_at(chunk.start)
        if name == "paged":  # the document spans four pages: so must its chunks
            assert {c.page for c in chunks} == {1, 2, 3, 4}

    @pytest.mark.parametrize("name", sorted(DOCUMENTS))
    def test_chunks_fit_the_budget(self, chunker: Chunker, budget: Budget | None, name: str) -> None:
        if budget is None:
            pytest.skip("this chunker declares no token budget")
        _, chunks = self._chunks(chunker, name)
        assert_sizes_and_overlap(chunks, budget.tokenizer, budget.chunk_tokens, budget.overlap_tokens)

    def test_same_document_same_chunks(self, chunker: Chunker) -> None:
        for document in DOCUMENTS.values():
            first, second = chunker.chunk(document), chunker.chunk(document)
            assert [(c.id, c.start, c.end) for c in first] == [(c.id, c.start, c.end) for c in second]

    @pytest.mark.parametrize("text", ["", "   \n\n\t  \n"])
    def test_a_blank_document_gives_no_chunks(self, chunker: Chunker, text: str) -> None:
        assert chunker.chunk(Document("blank", "mem://blank.txt", text, "text")) == []

    @SETTINGS
    @given(text=_texts)
    def test_invariants_hold_for_any_text(self, chunker: Chunker, budget: Budget | None, text: str) -> None:
        # The fixtures are reused across examples: a chunker keeps no state between documents.
        document = Document("any", "mem://any.txt", text, "text")
        chunks = chunker.chunk(document)
        assert_spans_round_trip(document, chunks)
        assert_no_text_lost(document, chunks)
        if budget is not None:
            assert_sizes_and_overlap(chunks, budget.tokenizer, budget.chunk_tokens, budget.overlap_tokens)
