"""Embedders: texts → unit float32 vectors. See ``base.Embedder`` for the protocol.

Names are imported on first use, so ``import ragtune.embed`` costs no torch, onnxruntime or httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Embedder": "ragtune.embed.base",
    "ProgressCallback": "ragtune.embed.base",
    "normalise": "ragtune.embed.base",
    "HashingEmbedder": "ragtune.embed.hashing",
    "SentenceTransformerEmbedder": "ragtune.embed.sentence_transformers",
    "OnnxEmbedder": "ragtune.embed.onnx",
    "OpenAIEmbedder": "ragtune.embed.openai",
    "build_embedder": "ragtune.embed.factory",
    "choose_backend": "ragtune.embed.factory",
}

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "OnnxEmbedder",
    "OpenAIEmbedder",
    "ProgressCallback",
    "SentenceTransformerEmbedder",
    "build_embedder",
    "choose_backend",
    "normalise",
]

if TYPE_CHECKING:
    from ragtune.embed.base import Embedder, ProgressCallback, normalise
    from ragtune.embed.factory import build_embedder, choose_backend
    from ragtune.embed.hashing import HashingEmbedder
    from ragtune.embed.onnx import OnnxEmbedder
    from ragtune.embed.openai import OpenAIEmbedder
    from ragtune.embed.sentence_transformers import SentenceTransformerEmbedder


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ragtune.embed' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
