"""The conformance suite every ``Embedder`` implementation must pass.

A backend subclasses ``EmbedderConformance`` and provides the ``embedder`` fixture (any scope:
a model that is slow to load can come from a session fixture)::

    class TestMyEmbedder(EmbedderConformance):
        @pytest.fixture
        def embedder(self):
            return MyEmbedder("my-model")

Class attributes tune the two checks that depend on the kind of model: ``same_text_other_batch``
(how close a text's vector must stay when its batch companions change) and ``lexical`` (the
embedder only matches shared words, so the semantic check is skipped).

Needs ``pytest`` (``pip install 'ragtune[test]'``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ragtune.embed.base import Embedder

__all__ = ["TEXTS", "EmbedderConformance"]

# Lengths vary a lot and are not sorted, so length-sorted batching really reorders them.
TEXTS = [
    "Aspirin lowers the risk of a second heart attack in patients with coronary disease. " * 6,
    "hi",
    "",
    "Vitamin D supplementation and bone density in older women.",
    "Ünïcödé text, emoji 🙂 and 中文 characters must embed too.",
    "The mitochondrion is the powerhouse of the cell; it makes ATP by oxidative phosphorylation. " * 3,
    "refund policy for damaged items",
    "x " * 40,
    "Quarterly revenue grew 12% while operating costs fell.",
]


class EmbedderConformance:
    same_text_other_batch: float = 0.9999
    """The least cosine between a text's vector in a batch and alone. Exact backends stay at
    float rounding; a dynamically quantised model (which scales by the batch's range) is lower."""
    lexical: bool = False
    """True for embedders that match words, not meaning (hashing): skips the semantic check."""

    @pytest.fixture
    def embedder(self) -> Embedder:  # pragma: no cover - each backend overrides this
        raise NotImplementedError("provide an embedder fixture returning the Embedder under test")

    def test_is_an_embedder_with_an_identity(self, embedder: Embedder) -> None:
        assert isinstance(embedder, Embedder)
        assert isinstance(embedder.identity, str) and embedder.identity
        assert isinstance(embedder.dimension, int) and embedder.dimension > 0

    def test_rows_are_unit_float32_of_the_declared_dimension(self, embedder: Embedder) -> None:
        vectors = embedder.embed(TEXTS)
        assert vectors.shape == (len(TEXTS), embedder.dimension)
        assert vectors.dtype == np.float32
        assert np.all(np.isfinite(vectors))
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_rows_come_back_in_input_order(self, embedder: Embedder) -> None:
        batched = embedder.embed(TEXTS)
        alone = np.stack([embedder.embed_query(t) for t in TEXTS])
        similarity = batched @ alone.T
        # Each row is its own text's vector (not a neighbour's, as a sorting bug would give)...
        assert list(similarity.argmax(axis=1)) == list(range(len(TEXTS)))
        # ...and batching with other texts barely moves it.
        assert similarity.diagonal().min() >= self.same_text_other_batch

    def test_embed_query_is_one_unit_vector(self, embedder: Embedder) -> None:
        vector = embedder.embed_query("What lowers the risk of heart attack?")
        assert vector.shape == (embedder.dimension,)
        assert vector.dtype == np.float32
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5

    def test_empty_input_gives_an_empty_matrix(self, embedder: Embedder) -> None:
        calls: list[int] = []
        vectors = embedder.embed([], progress=calls.append)
        assert vectors.shape == (0, embedder.dimension)
        assert vectors.dtype == np.float32
        assert sum(calls) == 0

    def test_progress_counts_every_text_once(self, embedder: Embedder) -> None:
        calls: list[int] = []
        embedder.embed(TEXTS, progress=calls.append)
        assert sum(calls) == len(TEXTS)
        assert all(n > 0 for n in calls)
        batch_size = getattr(embedder, "batch_size", None)
        if batch_size is not None:  # one call per batch
            assert len(calls) == -(-len(TEXTS) // batch_size)

    def test_same_input_same_output(self, embedder: Embedder) -> None:
        np.testing.assert_allclose(embedder.embed(TEXTS), embedder.embed(TEXTS), atol=1e-6)

    def test_related_texts_are_closer_than_unrelated(self, embedder: Embedder) -> None:
        if self.lexical:
            pytest.skip("a lexical embedder (hashing) only matches shared words")
        query, related, unrelated = embedder.embed(
            ["How do I get my money back for a broken product?", "refund policy for damaged items",
             "Vitamin D and bone density"]
        )
        assert query @ related > query @ unrelated + 0.1
