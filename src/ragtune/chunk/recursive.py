"""Recursive token-aware splitter: paragraphs, then lines, sentences, clauses, words, tokens.

A span that fits the budget is kept whole; a larger one is cut at the coarsest separator it
contains and each piece is handled the same way. Neighbouring pieces are then packed greedily
into chunks of at most ``chunk_tokens`` tokens, and each chunk after the first repeats the
previous chunk's trailing pieces up to ``overlap_tokens`` tokens.
"""

from __future__ import annotations

from ragtune.chunk.base import Span, TokenIndex, make_chunks
from ragtune.chunk.tokenizer import Tokenizer
from ragtune.types import Chunk, Document

SEPARATORS = ("\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ")


class RecursiveTokenSplitter:
    name = "recursive"

    def __init__(self, tokenizer: Tokenizer, chunk_tokens: int = 200, overlap_tokens: int = 20):
        if chunk_tokens < 1:
            raise ValueError("chunk_tokens must be at least 1")
        if not 0 <= overlap_tokens < chunk_tokens:
            raise ValueError("overlap_tokens must be >= 0 and smaller than chunk_tokens")
        self.tokenizer = tokenizer
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens

    def chunk(self, document: Document) -> list[Chunk]:
        index = TokenIndex(document.text, self.tokenizer)
        return make_chunks(document, self.split(index, 0, len(document.text)), index)

    def split(self, index: TokenIndex, start: int, end: int) -> list[Span]:
        """Chunk spans covering ``[start, end)`` of ``index.text``."""
        if start >= end:
            return []
        return self.pack(index, self._pieces(index, start, end, 0))

    # -- cutting -----------------------------------------------------------------------------
    def _pieces(self, index: TokenIndex, start: int, end: int, level: int) -> list[Span]:
        if index.count(start, end) <= self.chunk_tokens:
            return [(start, end)]
        if level == len(SEPARATORS):
            return self._token_pieces(index, start, end)
        cuts = _cut_points(index.text, start, end, SEPARATORS[level])
        if not cuts:
            return self._pieces(index, start, end, level + 1)
        pieces: list[Span] = []
        bounds = [start, *cuts, end]
        for s, e in zip(bounds, bounds[1:]):
            if s < e:
                pieces.extend(self._pieces(index, s, e, level + 1))
        return pieces

    def _token_pieces(self, index: TokenIndex, start: int, end: int) -> list[Span]:
        """Last resort for text with no separator: cut between tokens, at word starts if possible.

        A cut inside a word can make the second half tokenize differently on its own, so each
        piece is re-counted in isolation and shrunk until it truly fits.
        """
        first, last = index.token_range(start, end)
        pieces: list[Span] = []
        cursor = start
        i = first
        while i < last:
            j = min(i + self.chunk_tokens, last)
            if j < last:
                j = _back_to_word_start(index, i, j)
            while True:
                piece_end = index.starts[j] if j < last else end
                if j == i + 1 or self.tokenizer.count(index.text[cursor:piece_end]) <= self.chunk_tokens:
                    break
                j -= 1
            pieces.append((cursor, piece_end))
            cursor, i = piece_end, j
        if cursor < end:
            pieces.append((cursor, end))
        return pieces

    # -- packing -----------------------------------------------------------------------------
    def pack(self, index: TokenIndex, pieces: list[Span]) -> list[Span]:
        chunks: list[Span] = []
        n = len(pieces)
        i = 0
        while i < n:
            j = i
            while j + 1 < n and index.count(pieces[i][0], pieces[j + 1][1]) <= self.chunk_tokens:
                j += 1
            chunks.append((pieces[i][0], pieces[j][1]))
            if j == n - 1:
                break
            # Step back over trailing pieces for the overlap, but only as far as still leaves
            # room for the next new piece: every chunk must add something new.
            k = j + 1
            while (
                k - 1 > i
                and index.count(pieces[k - 1][0], pieces[j][1]) <= self.overlap_tokens
                and index.count(pieces[k - 1][0], pieces[j + 1][1]) <= self.chunk_tokens
            ):
                k -= 1
            i = k
        return chunks


def _cut_points(text: str, start: int, end: int, separator: str) -> list[int]:
    """Positions just after each occurrence of ``separator`` strictly inside the span."""
    cuts = []
    pos = text.find(separator, start, end)
    while pos != -1:
        cut = pos + len(separator)
        if start < cut < end:
            cuts.append(cut)
        pos = text.find(separator, cut, end)
    return cuts


def _back_to_word_start(index: TokenIndex, lo: int, j: int) -> int:
    """Move a cut at token ``j`` back to the start of its word, unless that empties the piece."""
    k = j
    while k > lo + 1 and index.starts[k] == index.ends[k - 1]:
        k -= 1
    return k if k > lo + 1 or index.starts[k] != index.ends[k - 1] else j
