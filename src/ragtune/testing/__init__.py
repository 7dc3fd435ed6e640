"""Conformance suites for ragtune's protocols, for backends written outside ragtune (after
Haystack's ``haystack.testing``).

One module per protocol, each holding a base class of pytest test methods that an implementation
runs by subclassing it in its own test file and providing one fixture:

- ``ragtune.testing.store``: ``StoreConformance`` and ``StoreAccessProperties``; provide
  ``make_store`` (an empty folder in, a new empty store out).
- ``ragtune.testing.embedder``: ``EmbedderConformance``; provide ``embedder``.
- ``ragtune.testing.llm``: ``LLMConformance``; provide ``llm``.
- ``ragtune.testing.loader``: ``LoaderConformance``; provide ``loader`` and the sample files.
- ``ragtune.testing.chunker``: ``ChunkerConformance``; provide ``chunker`` (and ``budget``).

The suites need ``pytest`` and ``hypothesis`` (``pip install 'ragtune[test]'``); nothing in
ragtune itself imports this package. See "Conformance suites" in docs/architecture.md.
"""

from __future__ import annotations

try:  # plain asserts in the suites report their operands when pytest runs them
    import pytest as _pytest
except ImportError:  # pragma: no cover - the suites themselves need pytest
    pass
else:
    _pytest.register_assert_rewrite(
        "ragtune.testing.store",
        "ragtune.testing.embedder",
        "ragtune.testing.llm",
        "ragtune.testing.loader",
        "ragtune.testing.chunker",
    )
