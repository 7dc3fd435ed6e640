"""Feature-hashing bag-of-words embedder: no model, no weights, deterministic.

It is a real (weak, purely lexical) embedder, like scikit-learn's ``HashingVectorizer`` with a
signed hash: useful for fast tests of everything downstream of embedding, and as a last-resort
backend on machines with no model at all. Never the default.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from ragtune.embed.base import ProgressCallback, normalise

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.identity = f"hashing-{dimension}"

    def _row(self, text: str) -> np.ndarray:
        row = np.zeros(self.dimension, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            row[value % self.dimension] += 1.0 if (value >> 63) & 1 else -1.0
        if not row.any():
            row[0] = 1.0  # an empty text still gets a valid unit vector
        return row

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> np.ndarray:
        out = np.stack([self._row(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        if progress is not None and texts:
            progress(len(texts))
        return normalise(out)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
