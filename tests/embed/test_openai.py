"""OpenAIEmbedder against a real HTTP server (tests/embed/openai_stub_server.py) on 127.0.0.1."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from ragtune.embed.hashing import HashingEmbedder
from ragtune.embed.openai import OpenAIEmbedder, embeddings_url
from ragtune.errors import EmbedderError
from tests.embed.conftest import API_KEY

TEXTS = ["refund policy", "shipping times to Norway", "", "Ünïcödé 中文", "warranty claims for damaged items"]


def test_vectors_equal_the_local_embedder_behind_the_server(openai_embedder):
    # The server lists answers in reverse order: equality also proves they are put back by index.
    np.testing.assert_allclose(openai_embedder.embed(TEXTS), HashingEmbedder(256).embed(TEXTS), atol=1e-6)
    assert openai_embedder.identity == "openai:hashing"


def test_batches_become_requests_with_progress(stub_server):
    calls: list[int] = []
    with OpenAIEmbedder(stub_server, "hashing", api_key=API_KEY, batch_size=2) as embedder:
        vectors = embedder.embed(TEXTS, progress=calls.append)
    assert calls == [2, 2, 1]
    np.testing.assert_allclose(vectors, HashingEmbedder(256).embed(TEXTS), atol=1e-6)


def test_dimension_is_learnt_from_the_server(stub_server):
    with OpenAIEmbedder(stub_server, "hashing", api_key=API_KEY) as embedder:
        assert embedder.dimension == 256
        assert embedder.embed([]).shape == (0, 256)


def test_a_wrong_declared_dimension_is_an_error(stub_server):
    with OpenAIEmbedder(stub_server, "hashing", api_key=API_KEY, dimension=384) as embedder:
        with pytest.raises(EmbedderError, match=r"length \[256\], expected 384"):
            embedder.embed(["text"])


@pytest.mark.parametrize("suffix", ["", "/", "/embeddings"])
def test_base_url_forms(stub_server, suffix):
    root = stub_server.removesuffix("/v1")
    assert embeddings_url(root) == embeddings_url(stub_server + suffix) == stub_server + "/embeddings"
    with OpenAIEmbedder(root, "hashing", api_key=API_KEY) as embedder:
        assert embedder.embed_query("hello").shape == (256,)


def assert_names_url_not_key(error: pytest.ExceptionInfo[EmbedderError], url: str) -> None:
    message = str(error.value)
    assert url in message
    assert API_KEY not in message
    assert API_KEY not in repr(error.value)


def test_http_500_names_the_url_and_hides_the_echoed_key(stub_server):
    with OpenAIEmbedder(stub_server, "fail-500", api_key=API_KEY) as embedder:
        with pytest.raises(EmbedderError, match="HTTP 500") as error:
            embedder.embed(["text"])
    assert_names_url_not_key(error, stub_server + "/embeddings")
    # The server echoed the header it received: the key went as a Bearer token, and was scrubbed.
    assert "Authorization: Bearer ***" in str(error.value)


def test_a_wrong_key_is_refused_without_showing_it(stub_server):
    with OpenAIEmbedder(stub_server, "hashing", api_key="sk-wrong-key-42") as embedder:
        with pytest.raises(EmbedderError, match="HTTP 401") as error:
            embedder.embed(["text"])
    assert "sk-wrong-key-42" not in str(error.value)
    assert_names_url_not_key(error, stub_server)


def test_too_few_embeddings_is_an_error(stub_server):
    with OpenAIEmbedder(stub_server, "short", api_key=API_KEY) as embedder:
        with pytest.raises(EmbedderError, match="answered 2 embeddings .* for 3 inputs") as error:
            embedder.embed(["a", "b", "c"])
    assert_names_url_not_key(error, stub_server)


def test_a_non_json_answer_is_an_error(stub_server):
    with OpenAIEmbedder(stub_server, "not-json", api_key=API_KEY) as embedder:
        with pytest.raises(EmbedderError, match="not an embeddings response") as error:
            embedder.embed(["a"])
    assert_names_url_not_key(error, stub_server)


def test_a_slow_server_times_out(stub_server):
    with OpenAIEmbedder(stub_server, "slow", api_key=API_KEY, timeout=0.3) as embedder:
        with pytest.raises(EmbedderError, match=r"no answer within 0\.3 s") as error:
            embedder.embed(["a"])
    assert_names_url_not_key(error, stub_server)


def test_connection_refused_names_the_url():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    with OpenAIEmbedder(url, "hashing", api_key=API_KEY, timeout=5) as embedder:
        with pytest.raises(EmbedderError, match="request failed") as error:
            embedder.embed(["a"])
    assert_names_url_not_key(error, url)
