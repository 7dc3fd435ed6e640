"""Local GGUF models through llama-cpp-python (the default backend).

The chat prompt is rendered with the model's own template (llama-cpp-python's ``Jinja2ChatFormatter``
over the GGUF's ``tokenizer.chat_template``, exactly as its chat handler does), then tokenised
once: the same token list is counted for the context budget and fed to the model, so the count is
exact. JSON schemas become a llama.cpp grammar; a schema the converter cannot handle is an error
here, never a silent fallback to unconstrained JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ragtune.errors import GenerationError
from ragtune.generate.base import Delta, GenerationOptions, Message, Usage


class LlamaCppLLM:
    def __init__(
        self,
        model_path: str | Path,
        *,
        context_size: int = 2048,
        threads: int | None = None,
        seed: int = 0,
        name: str | None = None,
        adapter: str | Path | None = None,
    ) -> None:
        """``adapter``: a LoRA adapter in GGUF form, applied on top of the model at load."""
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise GenerationError(f"llm.model: no GGUF file at '{path}'")
        if adapter is not None and not Path(adapter).is_file():
            raise GenerationError(f"llm.adapter: no GGUF adapter at '{adapter}'")
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:
            raise GenerationError(
                "backend 'llama-cpp' needs llama-cpp-python: pip install 'ragtune[llm]'"
            ) from exc
        threads = threads or os.cpu_count() or 1
        try:
            self._llama = Llama(
                model_path=str(path), n_ctx=context_size, n_threads=threads, n_threads_batch=threads,
                seed=seed, verbose=False, lora_path=str(adapter) if adapter is not None else None,
            )
        except (ValueError, RuntimeError) as exc:
            raise GenerationError(f"llm.model: llama.cpp cannot load '{path}': {exc}") from None
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise GenerationError(f"llm.model: '{path}' has no chat template (tokenizer.chat_template) in its metadata")
        eos, bos = self._llama.token_eos(), self._llama.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self._token_text(eos),
            bos_token=self._token_text(bos),
            stop_token_ids=[eos],
        )
        self.identity = f"llama-cpp:{name or path.name}"
        self.context_size = context_size
        self.path = path
        self.parameters = int(self._llama._model.n_params())
        """The model's parameter count (the Assistant gives models under 1B fewer, better sources)."""

    def _token_text(self, token: int) -> str:
        return "" if token < 0 else self._llama.detokenize([token], special=True).decode("utf-8", "replace")

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def _render(self, messages: Sequence[Message]) -> tuple[list[int], Any]:
        formatted = self._formatter(messages=[m.to_dict() for m in messages])
        tokens = self._llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
        return tokens, formatted

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._render(messages)[0])

    def stream(self, messages: Sequence[Message], options: GenerationOptions) -> Iterator[Delta]:
        tokens, formatted = self._render(messages)
        if len(tokens) + options.max_tokens > self.context_size:
            raise GenerationError(
                f"the prompt ({len(tokens)} tokens) and max_tokens ({options.max_tokens}) exceed "
                f"the context size ({self.context_size})"
            )
        stop = list(options.stop) + ([formatted.stop] if isinstance(formatted.stop, str) else list(formatted.stop or []))
        chunks = self._llama.create_completion(
            prompt=tokens,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
            top_p=options.top_p,
            repeat_penalty=options.repeat_penalty,
            seed=options.seed,
            stop=stop,
            stopping_criteria=formatted.stopping_criteria,
            grammar=self._grammar(options.json_schema),
            stream=True,
        )
        finish = "stop"
        for chunk in chunks:
            choice = chunk["choices"][0]
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
            if choice.get("text"):
                yield Delta(choice["text"])
        # The context now holds the prompt and every generated token that was fed back; the last
        # token of a "length" finish is sampled but never fed back. (An end-of-turn token is not
        # part of the completion, as in llama-cpp-python's own usage.)
        completion = max(0, self._llama.n_tokens - len(tokens)) + (1 if finish == "length" else 0)
        yield Delta(usage=Usage(len(tokens), completion), finish_reason=finish)

    def _grammar(self, schema: Any) -> Any:
        if schema is None:
            return None
        from llama_cpp.llama_grammar import LlamaGrammar

        try:
            return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        except Exception as exc:  # the converter raises bare Exceptions / ValueErrors
            raise GenerationError(f"llama.cpp cannot turn this JSON schema into a grammar: {exc}") from None

    def reset_cache(self) -> None:
        """Forget the evaluated prompt. llama.cpp reuses the longest common prefix of the previous
        prompt (the instructions, for RAG), which is right in service but makes a benchmark's
        second run of the same prompt look faster than it is."""
        self._llama.reset()

    def close(self) -> None:
        self._llama.close()
