"""The index: a ``Store`` keeps documents, chunks, vectors, access lists and sync state."""

from ragtune.index.base import (
    DocumentState,
    DocumentWrite,
    Hit,
    SearchRequest,
    SearchResults,
    Store,
    StoreStatus,
)

__all__ = [
    "DocumentState",
    "DocumentWrite",
    "Hit",
    "SearchRequest",
    "SearchResults",
    "Store",
    "StoreStatus",
]
