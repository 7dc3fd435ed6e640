"""Turn ``[embedder]`` configuration into an Embedder, choosing the runtime for ``auto``."""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

from ragtune.config import EmbedderConfig
from ragtune.embed.base import Embedder
from ragtune.errors import ConfigError, EmbedderError

logger = logging.getLogger(__name__)

# What ``auto`` runs a local model with, decided by bench/embed_speed.py and embed_quality.py
# (bench/RESULTS.md): ONNX Runtime fp32 gives torch's vectors (cosine 1.00000, same nDCG@10) at
# 1.1-1.5x the throughput, and a search process starts in 0.6 s instead of 8 s because torch is
# never imported. int8 is faster still but changes the vectors, so it stays opt-in (quantize).
AUTO_PREFERS_ONNX = True


def choose_backend(config: EmbedderConfig) -> str:
    """The concrete backend: ``config.backend`` unless it is ``auto``."""
    if config.backend != "auto":
        return config.backend
    if config.quantize:
        return "onnx"  # int8 exists only on the ONNX path
    if AUTO_PREFERS_ONNX and _onnx_can_run(config.model):
        return "onnx"
    return "sentence-transformers"


def _onnx_can_run(model_name: str) -> bool:
    from ragtune.embed.models import resolve_local_model
    from ragtune.embed.onnx_export import onnx_spec

    if importlib.util.find_spec("onnxruntime") is None:
        return False
    model = resolve_local_model(model_name)  # an unknown model is an error under every backend
    try:
        onnx_spec(model)
    except ConfigError:
        return False  # not a shape the export is verified for: torch runs it as it is
    return True


def build_embedder(config: EmbedderConfig, cache_dir: Path | None = None) -> Embedder:
    """``cache_dir`` holds derived files (the ONNX export goes to ``cache_dir/onnx``); None means
    the user cache, ``~/.cache/ragtune``."""
    backend = choose_backend(config)
    if backend == "hashing":
        from ragtune.embed.hashing import HashingEmbedder

        return HashingEmbedder(config.dimension or 256)
    if backend == "openai":
        from ragtune.embed.openai import OpenAIEmbedder

        assert config.base_url is not None  # EmbedderConfig refuses openai without it
        return OpenAIEmbedder(
            config.base_url, config.model, api_key=_api_key(config), dimension=config.dimension, batch_size=config.batch_size
        )
    if backend == "onnx":
        from ragtune.embed.onnx import OnnxEmbedder

        try:
            return OnnxEmbedder(
                config.model,
                config.max_tokens,
                config.batch_size,
                config.threads,
                quantize=config.quantize,
                cache_dir=cache_dir / "onnx" if cache_dir is not None else None,
            )
        except EmbedderError as exc:
            # auto chose ONNX as a speed-up; fp32 shares torch's identity, so a failed export
            # costs speed, not the index. A backend the user named fails loudly instead.
            if config.backend != "auto" or config.quantize:
                raise
            logger.warning("%s; embedding with sentence-transformers instead", exc)
    from ragtune.embed.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(config.model, config.max_tokens, config.batch_size, config.threads)


def _api_key(config: EmbedderConfig) -> str | None:
    if config.api_key_env is None:
        return None
    key = os.environ.get(config.api_key_env)
    if not key:
        raise ConfigError(f"embedder.api_key_env: the environment variable {config.api_key_env} is not set")
    return key
