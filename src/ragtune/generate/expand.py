"""Query expansion by the configured language model (``[retrieval] expand``).

``LLMQueryExpander`` implements the retriever's ``QueryExpander`` (``retrieve/expansion.py``):
for ``hyde`` the model writes a short passage answering the question, for ``multi`` it writes
rewordings of the question, one per line. Decoding is greedy (temperature 0), so an expansion
depends only on the model, the prompt and the question: it is cached on exactly those (and the
token limit) and the same question never calls the model twice. The cache lives in memory, in
the process: questions are user data, so they are not written to the user's cache folder.

``attach_expander`` gives a retriever its expander; the assistant, ``ragtune search`` and the
evaluation runs call it, so they all expand as the configuration says. The model is loaded at
the first question that needs it (a retriever with ``expand = "off"`` never loads one), or the
assistant's own model is lent.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from ragtune.config import LLMConfig
from ragtune.errors import GenerationError
from ragtune.generate.base import LLM, GenerationOptions, Message, complete
from ragtune.retrieve.expansion import ExpandMode, Expansion

if TYPE_CHECKING:
    from ragtune.retrieve.retriever import Retriever

HYDE_PROMPT = (
    "Write a short passage, two or three sentences, that answers the question below. "
    "State the facts plainly, like a paragraph from a document.\n\nQuestion: {question}"
)
MULTI_PROMPT = (
    "Write {count} different ways to ask the question below, using other words with the same meaning. "
    "Write one question per line and nothing else.\n\nQuestion: {question}"
)

MAX_LINE_CHARS = 300
"""A rewording longer than this is not one (the model went on writing); it is cut here."""

# A list marker or label a model puts before a line: "1.", "2)", "-", "*", "•", "Q3:", "Question:".
_MARKER = re.compile(r"^\s*(?:(?:\d+|[a-z])[.):]|[-*•·]|(?:q\d*|question|rewording|version|query)\s*\d*\s*[:.)-])\s*",
                     re.IGNORECASE)
_QUOTES = "\"'“”‘’`"


def _normalised(text: str) -> str:
    """For duplicate checks: case, spacing and punctuation ignored."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def parse_reformulations(text: str, question: str, count: int) -> list[str]:
    """The rewordings in a model's reply: one per line, list markers and quotes stripped,
    preambles ("Here are three ways:") and lines without a word dropped, duplicates of the
    question or of each other dropped, at most ``count``."""
    seen = {_normalised(question)}
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        for _ in range(2):  # "1. Question: ..." carries two markers
            line = _MARKER.sub("", line, count=1).strip()
        line = line.strip(_QUOTES).strip()
        if not line or line.endswith(":") or not re.search(r"\w{2}", line):
            continue
        line = line[:MAX_LINE_CHARS].strip()
        key = _normalised(line)
        if not key or key in seen:
            continue
        seen.add(key)
        found.append(line)
        if len(found) == count:
            break
    return found


def parse_passage(text: str) -> str:
    """The hypothetical passage: the reply with a leading label ("Passage:") and spacing removed."""
    text = re.sub(r"^\s*(?:passage|answer)\s*:\s*", "", text.strip(), flags=re.IGNORECASE)
    return " ".join(text.split())


class ExpansionCache:
    """Expansions by (model identity, rendered prompt, token limit), least recently used
    dropped beyond ``max_entries``. Safe to share between threads and expanders."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str, int], tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, int]) -> tuple[str, ...] | None:
        with self._lock:
            texts = self._entries.get(key)
            if texts is not None:
                self._entries.move_to_end(key)
            return texts

    def put(self, key: tuple[str, str, int], texts: tuple[str, ...]) -> None:
        with self._lock:
            self._entries[key] = texts
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class LLMQueryExpander:
    """Expands questions with a language model: ``llm`` is a loaded model (lent: never closed
    here) or a function that loads one when the first expansion needs it (closed by ``close``)."""

    def __init__(self, llm: LLM | Callable[[], LLM], *, repeat_penalty: float = 1.1, seed: int = 0,
                 cache: ExpansionCache | None = None) -> None:
        lent = hasattr(llm, "stream")  # a model, not a function that loads one
        self._llm: LLM | None = llm if lent else None  # type: ignore[assignment]
        self._load: Callable[[], LLM] | None = None if lent else llm  # type: ignore[assignment]
        self._owned = not lent
        self.repeat_penalty = repeat_penalty
        self.seed = seed
        self.cache = cache if cache is not None else ExpansionCache()
        self.calls = 0
        """Model calls made (cache misses), for tests and reports."""
        self._lock = threading.Lock()
        self._generating = threading.Lock()

    @classmethod
    def from_config(cls, config: LLMConfig, *, llm: LLM | None = None,
                    cache: ExpansionCache | None = None) -> LLMQueryExpander:
        """With the ``[llm]`` model: ``llm`` if given (lent), else built from ``config`` when first needed."""
        from ragtune.generate.factory import build_llm

        source: LLM | Callable[[], LLM] = llm if llm is not None else (lambda: build_llm(config))
        return cls(source, repeat_penalty=config.repeat_penalty, seed=config.seed, cache=cache)

    @property
    def llm(self) -> LLM:
        with self._lock:
            if self._llm is None:
                assert self._load is not None
                self._llm = self._load()
            return self._llm

    def prompt(self, question: str, mode: ExpandMode, count: int) -> str:
        if mode == "hyde":
            return HYDE_PROMPT.format(question=question.strip())
        if mode == "multi":
            return MULTI_PROMPT.format(question=question.strip(), count=count)
        raise GenerationError(f"query expansion '{mode}' is not one of: hyde, multi")

    def expand(self, question: str, mode: ExpandMode, *, count: int, max_tokens: int) -> Expansion:
        prompt = self.prompt(question, mode, count)
        if not question.strip():
            return Expansion(mode, (), "", 0.0, False)  # nothing to expand: no model call
        llm = self.llm
        key = (llm.identity, prompt, max_tokens)
        texts = self.cache.get(key)
        if texts is not None:
            return Expansion(mode, texts, llm.identity, 0.0, True)
        options = GenerationOptions(max_tokens=max_tokens, temperature=0.0, repeat_penalty=self.repeat_penalty,
                                    seed=self.seed)
        with self._generating:  # one call at a time (a server's threads share this expander)
            texts = self.cache.get(key)  # another thread may have written it meanwhile
            if texts is not None:
                return Expansion(mode, texts, llm.identity, 0.0, True)
            started = time.perf_counter()
            reply = complete(llm, [Message("user", prompt)], options).text
            seconds = time.perf_counter() - started
            self.calls += 1
            texts = self._parse(reply, question, mode, count)
            self.cache.put(key, texts)
        return Expansion(mode, texts, llm.identity, seconds, False)

    @staticmethod
    def _parse(reply: str, question: str, mode: ExpandMode, count: int) -> tuple[str, ...]:
        if mode == "hyde":
            passage = parse_passage(reply)
            return (passage,) if passage else ()
        return tuple(parse_reformulations(reply, question, count))

    def close(self) -> None:
        """Free the model if this expander loaded it; a lent one stays with its owner."""
        with self._lock:
            if self._owned and self._llm is not None:
                self._llm.close()
                self._llm = None


def attach_expander(retriever: Retriever, config: LLMConfig, *, llm: LLM | None = None,
                    cache: ExpansionCache | None = None) -> Retriever:
    """Give ``retriever`` an expander with the ``[llm]`` model (``llm`` lent if given, else loaded
    at the first question that needs it); returns the retriever. Harmless with expansion off."""
    retriever.expander = LLMQueryExpander.from_config(config, llm=llm, cache=cache)
    return retriever
