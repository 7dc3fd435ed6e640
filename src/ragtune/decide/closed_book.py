"""Answering without retrieval: the ``prompt`` and ``ft`` arms of a comparison.

The model gets instructions and the question, nothing else, so whatever it answers comes from
its weights: the base model's general knowledge, or what a fine-tune put there. It has the
same ``ask`` as ``Assistant`` so one evaluation loop scores every arm.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ragtune.config import AnswerConfig, LLMConfig
from ragtune.errors import GenerationError
from ragtune.generate.answer import Answer
from ragtune.generate.assistant import generation_options
from ragtune.generate.base import LLM, Message, complete
from ragtune.types import Principal

CLOSED_BOOK_PROMPT = """\
You are a careful assistant. Answer the question briefly, in one or two sentences, from what you \
know. If you do not know the answer, reply exactly: {not_found}"""


def closed_book_messages(question: str, not_found_text: str) -> list[Message]:
    """The prompt of the closed-book arms; fine-tuning data for them uses the same one."""
    return [Message("system", CLOSED_BOOK_PROMPT.format(not_found=not_found_text)), Message("user", question.strip())]


class ClosedBookAssistant:
    def __init__(self, llm: LLM, llm_config: LLMConfig | None = None, config: AnswerConfig | None = None) -> None:
        self.llm = llm
        self.llm_config = llm_config or LLMConfig()
        self.config = config or AnswerConfig()

    def ask(self, question: str, principal: Principal, *, json_schema: Mapping[str, Any] | None = None,
            **_: Any) -> Answer:
        """``json_schema``: constrain the output to it (a grammar locally), as ``Assistant`` does."""
        if not question.strip():
            raise GenerationError("the question is empty")
        options = generation_options(self.llm_config, json_schema)
        started = time.perf_counter()
        done = complete(self.llm, closed_book_messages(question, self.config.not_found_text), options)
        text = done.text.strip()
        refused = not text or self.config.not_found_text.lower() in text.lower()
        answer = Answer(question, text or self.config.not_found_text, not refused, self.llm.identity, principal.user_id)
        answer.usage, answer.finish_reason = done.usage, done.finish_reason
        answer.timings.update(time_to_first_token=done.time_to_first_token, generate=done.seconds,
                              total=time.perf_counter() - started)
        if done.finish_reason == "length":
            answer.flags.append(f"the answer reached llm.max_tokens ({options.max_tokens}) and may be cut off")
        return answer
