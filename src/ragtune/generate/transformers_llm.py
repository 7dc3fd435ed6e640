"""Hugging Face-format causal LMs through transformers: fine-tuned checkpoints and merged LoRA
models before they are converted to GGUF.

Decoding runs in a background thread and streams through ``TextIteratorStreamer``. The chat
template is the tokenizer's own. transformers has no grammar-constrained decoding, so a JSON
schema is refused with a pointer to the backends that enforce one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ragtune.errors import GenerationError
from ragtune.generate.base import Delta, GenerationOptions, Message, Usage


class TransformersLLM:
    def __init__(
        self,
        folder: str | Path,
        *,
        gguf_file: str | None = None,
        context_size: int = 2048,
        threads: int | None = None,
        name: str | None = None,
        dtype: str = "float32",
        adapter: str | Path | None = None,
    ) -> None:
        """``adapter``: a PEFT LoRA folder, merged into the weights at load (no per-token cost)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        folder = Path(folder)
        extra: dict[str, Any] = {"local_files_only": True}
        if gguf_file:
            extra["gguf_file"] = gguf_file
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(folder), **extra)
            self._model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=getattr(torch, dtype), **extra)
        except (OSError, ValueError, ImportError) as exc:
            raise GenerationError(f"llm.model: transformers cannot load '{folder / (gguf_file or '')}': {exc}") from None
        if adapter is not None:
            try:
                from peft import PeftModel

                self._model = PeftModel.from_pretrained(self._model, str(adapter)).merge_and_unload()
            except (OSError, ValueError, ImportError) as exc:
                raise GenerationError(f"llm.adapter: cannot apply the LoRA adapter '{adapter}': {exc}") from None
        self._model.eval()
        if self._tokenizer.chat_template is None:
            raise GenerationError(f"llm.model: the tokenizer of '{folder}' has no chat template")
        self._torch = torch
        self.identity = f"transformers:{name or (gguf_file or folder.name)}"
        self.context_size = context_size
        self.parameters = int(sum(p.numel() for p in self._model.parameters()))

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _inputs(self, messages: Sequence[Message]) -> Any:
        return self._tokenizer.apply_chat_template(
            [m.to_dict() for m in messages], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return int(self._inputs(messages)["input_ids"].shape[-1])

    def stream(self, messages: Sequence[Message], options: GenerationOptions) -> Iterator[Delta]:
        if options.json_schema is not None:
            raise GenerationError(
                "backend 'transformers' cannot constrain output to a JSON schema; serve the model as "
                "GGUF with backend 'llama-cpp' or through an OpenAI-compatible server"
            )
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        torch = self._torch
        cancelled = threading.Event()

        class _Cancelled(StoppingCriteria):
            # Lets a consumer that stops reading (a closed stream) stop the decode as well.
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool)

        inputs = self._inputs(messages)
        prompt_tokens = int(inputs["input_ids"].shape[-1])
        if prompt_tokens + options.max_tokens > self.context_size:
            raise GenerationError(
                f"the prompt ({prompt_tokens} tokens) and max_tokens ({options.max_tokens}) exceed "
                f"the context size ({self.context_size})"
            )
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        sampling: dict[str, Any] = {"do_sample": options.temperature > 0, "repetition_penalty": options.repeat_penalty}
        if options.temperature > 0:
            sampling.update(temperature=options.temperature, top_p=options.top_p)
        else:  # greedy: drop sampling defaults a model's generation_config may carry
            sampling.update(temperature=None, top_p=None, top_k=None)
        if options.stop:
            sampling.update(stop_strings=list(options.stop), tokenizer=self._tokenizer)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                torch.manual_seed(options.seed)
                with torch.inference_mode():
                    outcome["ids"] = self._model.generate(
                        **inputs, max_new_tokens=options.max_tokens, streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Cancelled()]),
                        pad_token_id=self._tokenizer.pad_token_id or self._tokenizer.eos_token_id, **sampling,
                    )
            except Exception as exc:  # surfaced in the caller's thread below
                outcome["error"] = exc
                streamer.end()

        worker = threading.Thread(target=run, name="ragtune-generate", daemon=True)
        worker.start()
        try:
            for text in streamer:
                if text:
                    yield Delta(text)
        finally:
            cancelled.set()
            worker.join()
        if "error" in outcome:
            raise GenerationError(f"generation failed: {outcome['error']}") from outcome["error"]
        completion = int(outcome["ids"].shape[-1]) - prompt_tokens
        finish = "length" if completion >= options.max_tokens else "stop"
        yield Delta(usage=Usage(prompt_tokens, completion), finish_reason=finish)

    def close(self) -> None:
        self._model = None
