"""Chunking: split documents into embeddable pieces that keep their exact source spans."""

from ragtune.chunk.base import Chunker, TokenIndex
from ragtune.chunk.factory import AutoChunker, build_chunker
from ragtune.chunk.headings import HeadingSplitter
from ragtune.chunk.recursive import RecursiveTokenSplitter
from ragtune.chunk.table import TableRowSplitter
from ragtune.chunk.tokenizer import HFTokenizer, Tokenizer, load_tokenizer

__all__ = [
    "AutoChunker",
    "Chunker",
    "HFTokenizer",
    "HeadingSplitter",
    "RecursiveTokenSplitter",
    "TableRowSplitter",
    "TokenIndex",
    "Tokenizer",
    "build_chunker",
    "load_tokenizer",
]
