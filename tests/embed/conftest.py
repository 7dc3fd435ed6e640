"""Embedders shared by the tests in this folder: each real model loads (or exports) once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.config import EmbedderConfig
from ragtune.embed.factory import build_embedder


@pytest.fixture(scope="session", autouse=True)
def _offline() -> Iterator[None]:
    # No machine here can reach a model hub; a lookup must fail fast instead of hanging.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace-like cache folder; the ONNX export lands in ``cache_root / "onnx"``."""
    return tmp_path_factory.mktemp("cache")


# One thread each: the tests share a 2-core machine with other work, where torch with two
# threads under contention ran slower than with one.


@pytest.fixture(scope="session")
def st_embedder():
    return build_embedder(EmbedderConfig(backend="sentence-transformers", batch_size=4, threads=1))


@pytest.fixture(scope="session")
def onnx_embedder(cache_root: Path):
    return build_embedder(EmbedderConfig(backend="onnx", batch_size=4, threads=1), cache_dir=cache_root)


@pytest.fixture(scope="session")
def onnx_int8_embedder(cache_root: Path, onnx_embedder):
    # Depends on onnx_embedder so the fp32 export exists and is reused, not redone.
    return build_embedder(EmbedderConfig(backend="onnx", quantize=True, batch_size=4, threads=1), cache_dir=cache_root)

