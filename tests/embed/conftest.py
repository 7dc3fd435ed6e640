"""Embedders shared by the tests in this folder: each real model loads (or exports) once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.config import EmbedderConfig
from ragtune.embed.factory import build_embedder

STUB_SERVER = Path(__file__).with_name("openai_stub_server.py")
API_KEY = "sk-test-0123456789abcdef"
"""The stub server demands this key; tests check it never shows up in an error message."""


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


@pytest.fixture(scope="session")
def stub_server() -> Iterator[str]:
    """Base URL of a real HTTP server speaking the OpenAI embeddings wire format."""
    process = subprocess.Popen(
        [sys.executable, str(STUB_SERVER), "--dimension", "256", "--api-key", API_KEY],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("PORT "):
            pytest.fail(f"stub server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def openai_embedder(stub_server: str):
    from ragtune.embed.openai import OpenAIEmbedder

    with OpenAIEmbedder(stub_server, "hashing", api_key=API_KEY, batch_size=4) as embedder:
        yield embedder
