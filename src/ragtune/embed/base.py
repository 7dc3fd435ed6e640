"""The ``Embedder`` protocol: texts in, L2-normalised float32 vectors out.

An embedder's ``identity`` names the vector space it produces. The index stores it (with the
dimension) and refuses to open with an embedder whose identity differs, because vectors from two
spaces compared by cosine give silent garbage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

ProgressCallback = Callable[[int], None]
"""Called with the number of texts just embedded (for progress bars)."""


@runtime_checkable
class Embedder(Protocol):
    identity: str
    """The vector space, e.g. ``all-MiniLM-L6-v2``; two embedders with the same identity produce
    interchangeable vectors."""
    dimension: int

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> np.ndarray:
        """Shape ``(len(texts), dimension)``, float32, each row of unit length."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Shape ``(dimension,)``, float32, unit length."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
