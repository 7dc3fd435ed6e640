"""The Embedder suite of ragtune.testing.embedder, run against every backend that can run on this
machine.

The OpenAI-compatible client is tested against a real llama_cpp.server in test_openai.py, not
here: that server cannot embed the empty text this suite requires (llama_decode fails) nor a
batch of several inputs (llama-cpp-python 0.3.36 aborts with a double free).
"""

from __future__ import annotations

import pytest

from ragtune.embed.hashing import HashingEmbedder
from ragtune.testing.embedder import EmbedderConformance


class TestHashingEmbedder(EmbedderConformance):
    lexical = True

    @pytest.fixture
    def embedder(self):  # type: ignore[no-untyped-def]
        return HashingEmbedder(256)


@pytest.mark.integration
class TestSentenceTransformersEmbedder(EmbedderConformance):
    @pytest.fixture
    def embedder(self, st_embedder):  # type: ignore[no-untyped-def]
        return st_embedder


@pytest.mark.integration
class TestOnnxEmbedder(EmbedderConformance):
    @pytest.fixture
    def embedder(self, onnx_embedder):  # type: ignore[no-untyped-def]
        return onnx_embedder


@pytest.mark.integration
class TestOnnxInt8Embedder(EmbedderConformance):
    # Dynamic int8 quantisation scales activations by the range of the whole batch, so its
    # vectors move with the batch: measured down to 0.967 for the empty text and 0.978 for "hi",
    # above 0.99 for sentences.
    same_text_other_batch = 0.95

    @pytest.fixture
    def embedder(self, onnx_int8_embedder):  # type: ignore[no-untyped-def]
        return onnx_int8_embedder
