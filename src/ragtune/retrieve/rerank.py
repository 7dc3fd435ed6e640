"""Cross-encoder reranking of the top candidates.

No cross-encoder ships its weights on PyPI (see ../shared/docs/models.md), so none is the
default: point ``[retrieval] rerank_model`` at a reader trained with ``ragtune tune reader``
(``name@v2``, resolved to its folder when the configuration loads) or at any local
sentence-transformers CrossEncoder folder. The same model scores answer candidates
(``[answer] scorer``): ``score(question, texts)`` is the ``AnswerScorer`` protocol too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ragtune.errors import ConfigError


class Reranker(Protocol):
    identity: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray: ...


def _identity(folder: Path) -> str:
    """``name@vN`` for a model folder inside a registry version (its ``model.json`` beside it),
    else the folder's name."""
    try:
        entry = json.loads((folder.parent / "model.json").read_text(encoding="utf-8"))
        return f"{entry['name']}@v{entry['version']}"
    except (OSError, ValueError, KeyError, TypeError):
        return folder.name


class CrossEncoderReranker:
    def __init__(self, path: str | Path, batch_size: int = 16, max_length: int = 256,
                 field: str = "retrieval.rerank_model") -> None:
        path = Path(path).expanduser()
        if not path.is_dir():
            hint = (" (a registry reference is resolved when a workspace loads its configuration)" if "@" in str(path)
                    else ", nor a registry reference (name@v2, name@production)")
            raise ConfigError(f"{field}: '{path}' is not a folder holding a CrossEncoder model{hint}")
        if not (path / "config.json").is_file():
            raise ConfigError(f"{field}: {path} is not a model folder (it has no config.json)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        self.identity = _identity(path.resolve())
        self.batch_size = batch_size
        self._model = CrossEncoder(str(path), device="cpu", max_length=max_length)

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros(0, np.float32)
        pairs = [(query, t) for t in texts]
        return np.asarray(
            self._model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False), dtype=np.float32
        ).reshape(-1)
