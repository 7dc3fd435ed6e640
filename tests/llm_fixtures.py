"""Real models shared by the generation and embedding tests (tests/conftest.py imports them):
the bundled SmolLM2 GGUF through llama.cpp, and a real ``python -m llama_cpp.server`` on loopback
for the OpenAI-compatible backends."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ragtune.generate.models import resolve_gguf

THREADS = 2


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    return resolve_gguf("smollm2-135m")[0]


@pytest.fixture(scope="session")
def llama_llm(gguf_path: Path):  # type: ignore[no-untyped-def]
    from ragtune.generate.llama_cpp import LlamaCppLLM

    llm = LlamaCppLLM(gguf_path, context_size=2048, threads=THREADS, name="smollm2-135m")
    yield llm
    llm.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVER_KEY = "test-key-not-secret"
EMBED_POOLING = "llama.pooling_type=int:1"
"""The GGUF declares no pooling, so llama.cpp would answer one vector per token: mean-pool."""


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server with two models: ``chat`` and ``embed``
    (the same GGUF with embeddings on). Started on 127.0.0.1, stopped by PID."""
    port = free_port()
    config = tmp_path_factory.mktemp("server") / "server.json"
    model = {"model": str(gguf_path), "n_ctx": 2048, "n_threads": THREADS, "n_threads_batch": THREADS, "verbose": False}
    config.write_text(json.dumps({
        "host": "127.0.0.1", "port": port, "api_key": SERVER_KEY,
        "models": [
            {**model, "model_alias": "chat"},
            {**model, "model_alias": "embed", "embedding": True, "kv_overrides": [EMBED_POOLING]},
        ],
    }))
    with running_server([sys.executable, "-m", "llama_cpp.server", "--config_file", str(config)],
                        f"http://127.0.0.1:{port}/v1/models", config.with_name("server.log"),
                        headers={"Authorization": f"Bearer {SERVER_KEY}"}):
        yield f"http://127.0.0.1:{port}/v1"


@contextmanager
def running_server(command: list[str], ready_url: str, log: Path, *, headers: dict[str, str] | None = None,
                   timeout: float = 120) -> Iterator[subprocess.Popen]:
    """Start ``command`` (a server) in its own process group, wait until ``ready_url`` answers
    200, and stop the group by PID on exit; the log's tail is shown when it fails to start."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    name = Path(command[0]).name if command[0] != sys.executable else command[2]
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(ready_url, headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not start in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
