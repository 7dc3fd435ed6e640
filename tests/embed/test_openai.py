"""OpenAIEmbedder against a real OpenAI-compatible server: llama-cpp-python's own
``llama_cpp.server`` on 127.0.0.1 serving the bundled GGUF with embeddings on (tests/llm_fixtures.py).

That server embeds one input per request reliably (several inputs in one request abort it in
llama-cpp-python 0.3.36), so the client runs with ``batch_size=1`` here."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from ragtune.embed.openai import OpenAIEmbedder, embeddings_url
from ragtune.errors import EmbedderError
from tests.llm_fixtures import SERVER_KEY

pytestmark = pytest.mark.integration

TEXTS = ["refund policy", "shipping times to Norway", "Ünïcödé 中文", "warranty claims for damaged items", "refund rules"]


@pytest.fixture(scope="module")
def embedder(llama_server):  # type: ignore[no-untyped-def]
    with OpenAIEmbedder(llama_server, "embed", api_key=SERVER_KEY, batch_size=1) as client:
        yield client


def test_vectors_equal_the_same_model_run_in_process(embedder, gguf_path) -> None:  # type: ignore[no-untyped-def]
    from llama_cpp import Llama

    calls: list[int] = []
    remote = embedder.embed(TEXTS, progress=calls.append)
    assert calls == [1, 1, 1, 1, 1] and remote.shape == (5, embedder.dimension)
    local = Llama(model_path=str(gguf_path), embedding=True, n_ctx=512, n_threads=2, verbose=False,
                  kv_overrides={"llama.pooling_type": 1})
    try:
        expected = np.array([local.embed(text, normalize=True) for text in TEXTS], dtype=np.float32)
    finally:
        local.close()
    np.testing.assert_allclose(remote, expected, atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(remote, axis=1), 1.0, atol=1e-5)
    # Similar texts are closer than unrelated ones: the server returns meaningful vectors.
    assert remote[0] @ remote[4] > remote[0] @ remote[2]


def test_dimension_is_learnt_and_a_wrong_declared_one_is_an_error(llama_server) -> None:  # type: ignore[no-untyped-def]
    with OpenAIEmbedder(llama_server, "embed", api_key=SERVER_KEY, batch_size=1) as client:
        assert client.dimension == 576  # SmolLM2-135M's hidden size
        assert client.embed([]).shape == (0, 576)
    with OpenAIEmbedder(llama_server, "embed", api_key=SERVER_KEY, dimension=384, batch_size=1) as client:
        with pytest.raises(EmbedderError, match=r"length \[576\], expected 384"):
            client.embed(["text"])


@pytest.mark.parametrize("suffix", ["", "/", "/embeddings"])
def test_base_url_forms(llama_server, suffix) -> None:  # type: ignore[no-untyped-def]
    root = llama_server.removesuffix("/v1")
    assert embeddings_url(root) == embeddings_url(llama_server + suffix) == llama_server + "/embeddings"
    with OpenAIEmbedder(root + suffix if suffix != "/embeddings" else llama_server + suffix, "embed", api_key=SERVER_KEY) as client:
        assert client.embed_query("hello").shape == (576,)


def test_a_wrong_key_is_refused_without_showing_it(llama_server) -> None:  # type: ignore[no-untyped-def]
    with OpenAIEmbedder(llama_server, "embed", api_key="sk-wrong-key-42") as client:
        with pytest.raises(EmbedderError, match="HTTP 401") as error:
            client.embed(["text"])
    assert "sk-wrong-key-42" not in str(error.value) and llama_server in str(error.value)


def test_a_server_that_does_not_answer_in_time_is_an_error(llama_server) -> None:  # type: ignore[no-untyped-def]
    with OpenAIEmbedder(llama_server, "embed", api_key=SERVER_KEY, timeout=0.001) as client:
        with pytest.raises(EmbedderError, match=r"no answer within 0\.001 s") as error:
            client.embed(["a longer text " * 50])
    assert SERVER_KEY not in str(error.value)


def test_connection_refused_names_the_url() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with OpenAIEmbedder(url, "embed", api_key=SERVER_KEY, timeout=5) as client:
        with pytest.raises(EmbedderError, match="request failed") as error:
            client.embed(["a"])
    assert url in str(error.value) and SERVER_KEY not in str(error.value)
