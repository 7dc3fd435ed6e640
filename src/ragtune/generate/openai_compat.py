"""Any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, OpenAI) through the
official ``openai`` client.

JSON schemas travel as ``response_format``. Servers disagree on its shape: OpenAI and vLLM take
``{"type": "json_schema", "json_schema": {...}}``, llama.cpp's Python server takes
``{"type": "json_object", "schema": {...}}``. The standard shape is sent first; if the server
rejects it, the other is tried and remembered for the rest of the session.

The key is read from the environment variable named in the configuration and never appears in an
error message.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ragtune.errors import ConfigError, GenerationError
from ragtune.generate.base import TEMPLATE_OVERHEAD_TOKENS, Delta, GenerationOptions, Message, Usage

CHARS_PER_TOKEN_ESTIMATE = 3.0
"""Without a local tokenizer, budgets assume 3 characters per token: below the 4 typical of
English, so a prompt estimated to fit does fit."""


def _load_tokenizer(spec: str) -> Any:
    """Something with ``count(text) -> int`` from a tokenizer.json, a model folder, or a GGUF."""
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".gguf" and path.is_file():
        from llama_cpp import Llama

        vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
        return lambda text: len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(f"llm.tokenizer: no tokenizer.json, model folder or .gguf at '{spec}'")
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


class OpenAICompatibleLLM:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str | None = None,
        context_size: int = 2048,
        timeout: float = 120.0,
        tokenizer: str | None = None,
    ) -> None:
        try:
            from openai import OpenAI
        except ImportError as exc:
            raise GenerationError("backend 'openai' needs the openai package: pip install 'ragtune[llm]'") from exc
        key = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"llm.api_key_env: the environment variable {api_key_env} is not set")
        # Local servers (llama.cpp, Ollama, vLLM without --api-key) accept any key; the client needs one.
        self._client = OpenAI(base_url=base_url, api_key=key or "no-key", timeout=timeout, max_retries=1)
        self.base_url = base_url
        self.model = model
        self.identity = f"openai:{model}@{base_url}"
        self.context_size = context_size
        self._count = _load_tokenizer(tokenizer) if tokenizer else None
        self.exact_counts = tokenizer is not None
        self._json_shape = "json_schema"

    def count_tokens(self, text: str) -> int:
        if self._count is not None:
            return self._count(text)
        return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m.content) + TEMPLATE_OVERHEAD_TOKENS for m in messages) + 2

    def _response_format(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        if self._json_shape == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "answer", "schema": dict(schema), "strict": True}}
        return {"type": "json_object", "schema": dict(schema)}

    def _open(self, messages: Sequence[Message], options: GenerationOptions) -> Any:
        import openai

        request: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "seed": options.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if options.stop:
            request["stop"] = list(options.stop)
        if options.json_schema is not None:
            request["response_format"] = self._response_format(options.json_schema)
        try:
            try:
                return self._client.chat.completions.create(**request)
            except openai.APIStatusError as exc:
                # llama_cpp.server rejects the standard shape with a 500 naming response_format.
                rejected_shape = exc.status_code in (400, 422) or "response_format" in _detail(exc)
                if options.json_schema is None or self._json_shape != "json_schema" or not rejected_shape:
                    raise
                self._json_shape = "json_object"
                request["response_format"] = self._response_format(options.json_schema)
                return self._client.chat.completions.create(**request)
        except openai.APIConnectionError as exc:
            raise GenerationError(f"cannot reach the LLM server at {self.base_url}: {exc.__cause__ or exc}") from None
        except openai.APIStatusError as exc:
            raise GenerationError(f"the LLM server at {self.base_url} answered {exc.status_code}: {_detail(exc)}") from None

    def stream(self, messages: Sequence[Message], options: GenerationOptions) -> Iterator[Delta]:
        import openai

        response = self._open(messages, options)
        parts: list[str] = []
        usage: Usage | None = None
        finish = "stop"
        try:
            for chunk in response:
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens or 0, chunk.usage.completion_tokens or 0)
                for choice in chunk.choices:
                    if choice.finish_reason:
                        finish = choice.finish_reason
                    text = choice.delta.content if choice.delta else None
                    if text:
                        parts.append(text)
                        yield Delta(text)
        except openai.APIError as exc:
            raise GenerationError(f"the LLM server at {self.base_url} failed mid-answer: {exc}") from None
        finally:
            response.close()
        if usage is None:
            # A server that ignores stream_options (llama_cpp.server does): servers stream one
            # token per event, so the events count the completion; the prompt is estimated.
            usage = Usage(self.count_prompt_tokens(messages), len(parts))
        yield Delta(usage=usage, finish_reason=finish)

    def close(self) -> None:
        self._client.close()


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])[:500]
        return str(error)[:500]
    return str(exc)[:500]
