"""The conformance suite every ``LLM`` implementation must pass.

The contract (``ragtune.generate.base``): ``stream`` yields pieces of text and always ends with
one delta that carries the ``Usage`` and the finish reason; ``max_tokens`` is a hard limit
(reaching it finishes with ``length``); greedy decoding (temperature 0) is deterministic; a
stream closed early leaves the backend usable; a JSON schema in the options either constrains
the output or is refused with ``GenerationError``; token counts use the model's tokenizer.

A backend subclasses ``LLMConformance`` and provides the ``llm`` fixture (a session fixture is
fine: the suite only generates)::

    class TestMyLLM(LLMConformance):
        @pytest.fixture
        def llm(self, my_session_llm):
            return my_session_llm

Class attributes describe what a backend cannot do: ``exact_prompt_tokens`` (False where the
prompt count in ``Usage`` comes from a server, not from ``count_prompt_tokens``) and
``json_schema_refusal`` (the ``GenerationError`` message pattern of a backend that cannot
constrain output to a schema; None where it can).

Needs ``pytest`` (``pip install 'ragtune[test]'``) and ``jsonschema`` (a ragtune dependency).
"""

from __future__ import annotations

import json

import pytest
from jsonschema import validate

from ragtune.errors import GenerationError
from ragtune.generate.base import LLM, GenerationOptions, Message, complete

__all__ = ["MESSAGES", "SCHEMA", "LLMConformance"]

MESSAGES = [
    Message("system", "You are a helpful assistant."),
    Message("user", "Name three colours of a rainbow."),
]
SCHEMA = {
    "type": "object",
    "properties": {"colour": {"type": "string", "maxLength": 20}, "count": {"type": "integer", "minimum": 0, "maximum": 9}},
    "required": ["colour", "count"],
    "additionalProperties": False,
}


class LLMConformance:
    exact_prompt_tokens: bool = True
    """The prompt count in the final ``Usage`` equals ``count_prompt_tokens`` (the model's own
    tokenizer and chat template). False for a remote server, whose count is only checked positive."""
    json_schema_refusal: str | None = None
    """None: the backend constrains output to a JSON schema. Otherwise the pattern its
    ``GenerationError`` must match when asked to."""

    @pytest.fixture
    def llm(self) -> LLM:  # pragma: no cover - each backend overrides this
        raise NotImplementedError("provide an llm fixture returning the LLM under test")

    def test_has_an_identity_and_a_context_size(self, llm: LLM) -> None:
        assert isinstance(llm.identity, str) and llm.identity
        assert isinstance(llm.context_size, int) and llm.context_size > 0

    def test_token_counts_grow_with_the_text_and_the_template(self, llm: LLM) -> None:
        text = "Northwind Cycles refunds meals up to 40 EUR per day."
        tokens = llm.count_tokens(text)
        assert llm.count_tokens("") == 0
        assert 0 < tokens < len(text)
        assert llm.count_tokens(f"{text} {text} {text}") > 2 * tokens
        # the rendered prompt holds every message's content plus the template's role markers
        assert llm.count_prompt_tokens(MESSAGES) > sum(llm.count_tokens(m.content) for m in MESSAGES)

    def test_stream_ends_with_usage_and_finish_reason(self, llm: LLM) -> None:
        deltas = list(llm.stream(MESSAGES, GenerationOptions(max_tokens=24)))
        *pieces, last = deltas
        assert pieces and all(d.text and d.usage is None for d in pieces)
        assert last.text == "" and last.usage is not None and last.finish_reason in ("stop", "length")
        assert 0 < last.usage.completion_tokens <= 24
        if self.exact_prompt_tokens:
            assert last.usage.prompt_tokens == llm.count_prompt_tokens(MESSAGES)
        else:  # the remote count comes from the server itself
            assert last.usage.prompt_tokens > 0

    def test_greedy_decoding_is_deterministic_and_max_tokens_is_respected(self, llm: LLM) -> None:
        options = GenerationOptions(max_tokens=6, temperature=0.0, seed=7)
        first, second = complete(llm, MESSAGES, options), complete(llm, MESSAGES, options)
        assert first.text == second.text and first.text.strip()
        assert first.finish_reason == "length" and first.usage.completion_tokens == 6
        assert 0 < first.time_to_first_token <= first.seconds

    def test_closing_a_stream_early_leaves_the_backend_usable(self, llm: LLM) -> None:
        stream = llm.stream(MESSAGES, GenerationOptions(max_tokens=64))
        assert next(stream).text
        stream.close()  # type: ignore[attr-defined]
        assert complete(llm, MESSAGES, GenerationOptions(max_tokens=4)).text

    def test_json_schema_output_is_valid_or_refused_clearly(self, llm: LLM) -> None:
        messages = [Message("user", "Give a colour and a small number as JSON.")]
        options = GenerationOptions(max_tokens=60, json_schema=SCHEMA)
        if self.json_schema_refusal is not None:
            with pytest.raises(GenerationError, match=self.json_schema_refusal):
                complete(llm, messages, options)
            return
        result = complete(llm, messages, options)
        validate(json.loads(result.text), SCHEMA)
