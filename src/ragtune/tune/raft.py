"""RAFT training examples: each question with its golden chunk among distractor chunks, in the
exact prompt ``Assistant`` serves with, and an answer that quotes and cites the golden source.

The golden chunk is the chunk of a relevant document that holds a gold answer (found by the
question, else by the answer's own words); distractors are the retriever's best chunks from
other documents, so they are hard negatives. A question without gold answers is answered by the
configured LLM from its golden chunk alone (the top chunk of a relevant document). The examples
are chat JSONL that ``ragtune tune lora`` trains on.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.atomic_files import write_text_atomic
from ragtune.evaluate.answer_metrics import answer_in_context, normalize_answer
from ragtune.evaluate.data import Track, no_track
from ragtune.evaluate.items import EvalItem, document_key
from ragtune.generate.base import LLM, GenerationOptions, Message, complete
from ragtune.generate.citations import MARKER
from ragtune.generate.prompt import format_source, system_prompt, user_message
from ragtune.index.base import Hit
from ragtune.retrieve.retriever import Retriever
from ragtune.tune.raft_config import RaftConfig
from ragtune.types import Principal

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class RaftData:
    examples: list[dict[str, Any]] = field(default_factory=list)
    """Chat records: ``{"messages": [system, user, assistant], "raft": {...}}``."""
    skipped: list[str] = field(default_factory=list)
    """``<question id>: why`` for every question that gave no example."""

    @property
    def with_golden(self) -> int:
        return sum(1 for e in self.examples if e["raft"]["golden"] is not None)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.examples))
        return path


def quoted_sentence(text: str, answer: str) -> str:
    """The sentence(s) of ``text`` holding ``answer``: the quote of a chain-of-thought answer."""
    target = normalize_answer(answer)
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    for width in (1, 2, 3):
        for i in range(len(sentences) - width + 1):
            window = " ".join(sentences[i : i + width])
            if target in normalize_answer(window):
                return window
    return answer


class RaftBuilder:
    def __init__(self, retriever: Retriever, config: RaftConfig, *, not_found_text: str,
                 principal: Principal, llm: LLM | None = None) -> None:
        self.retriever = retriever
        self.config = config
        self.not_found_text = not_found_text
        self.system = system_prompt(not_found_text)
        self.principal = principal
        self.llm = llm
        self.rng = random.Random(config.seed)

    def build(self, items: Iterable[EvalItem], total: int, track: Track = no_track) -> RaftData:
        data = RaftData()
        for item in track(items, "RAFT examples", total):
            try:
                data.examples.append(self.example(item))
            except _Skip as skip:
                data.skipped.append(f"{item.id}: {skip}")
        return data

    def _search(self, text: str, mode: str | None = None) -> list[Hit]:
        return self.retriever.search(text, self.principal, k=self.config.candidates, mode=mode).hits  # type: ignore[arg-type]

    def _golden(self, item: EvalItem, hits: list[Hit]) -> Hit:
        relevant = {d for d, g in item.relevant.items() if g > 0}
        from_relevant = [h for h in hits if document_key(h, item.relevant) in relevant] if relevant else hits[:1]
        if not item.answers:
            if not from_relevant:
                raise _Skip("no chunk of a relevant document was retrieved")
            return from_relevant[0]
        for hit in from_relevant:
            if answer_in_context(item.answers, [hit.text]):
                return hit
        for answer in item.answers:  # the question's words may miss it: look for the answer's own
            for hit in self._search(answer, "bm25"):
                if (not relevant or document_key(hit, item.relevant) in relevant) and answer_in_context(item.answers, [hit.text]):
                    return hit
        if self.config.style == "reply" and relevant and from_relevant:  # a reply is not a span of a source
            return from_relevant[0]
        raise _Skip("no chunk holds a gold answer (it may span two chunks)")

    @staticmethod
    def _other_documents(hits: list[Hit], item: EvalItem, golden: Hit) -> list[Hit]:
        """The best chunk of each document that is neither relevant nor the golden one, in rank order."""
        relevant = {d for d, g in item.relevant.items() if g > 0}
        seen = {golden.document_id}
        chosen = []
        for hit in hits:
            if hit.document_id not in seen and document_key(hit, item.relevant) not in relevant:
                chosen.append(hit)
                seen.add(hit.document_id)
        return chosen

    def _distractors(self, item: EvalItem, hits: list[Hit], golden: Hit, needed: int) -> list[Hit]:
        """Hard negatives from other documents; searched deeper when the first hits come from too
        few documents (a long golden document can fill them)."""
        distractors = self._other_documents(hits, item, golden)
        if len(distractors) < needed:
            deeper = self.retriever.search(item.question, self.principal, k=self.config.candidates * 5).hits
            distractors = self._other_documents(deeper, item, golden)
        return distractors

    def example(self, item: EvalItem) -> dict[str, Any]:
        cfg = self.config
        hits = self._search(item.question)
        golden = self._golden(item, hits)
        distractors = self._distractors(item, hits, golden, cfg.distractors + 1)
        keep_golden = self.rng.random() >= cfg.no_golden_share
        sources = distractors[: cfg.distractors] if keep_golden else distractors[: cfg.distractors + 1]
        if keep_golden:
            sources.append(golden)
        self.rng.shuffle(sources)
        number = sources.index(golden) + 1 if keep_golden else None
        answer = item.answers[0] if item.answers else self._generated(item, golden)
        completion = self._completion(answer, golden, number)
        user = user_message(item.question, [format_source(n, h) for n, h in enumerate(sources, start=1)])
        return {
            "messages": [
                {"role": "system", "content": self.system},
                {"role": "user", "content": user},
                {"role": "assistant", "content": completion},
            ],
            "raft": {"id": item.id, "golden": number, "golden_chunk": golden.chunk_id,
                     "distractors": [h.chunk_id for h in sources if h is not golden]},
        }

    def _completion(self, answer: str, golden: Hit, number: int | None) -> str:
        if number is None:
            return self.not_found_text if self.config.without_golden == "refuse" else answer
        if self.config.style == "cot":
            quote = quoted_sentence(golden.text, answer)
            return f'Source [{number}] says: "{quote}" [{number}]\nAnswer: {answer} [{number}]'
        if self.config.style == "reply":
            return answer  # the verifier attributes its supported sentences to their sources
        return f"{answer} [{number}]"

    def _generated(self, item: EvalItem, golden: Hit) -> str:
        """The configured LLM answers from the golden chunk alone; its [1] citations are removed
        here (the example numbers the source itself)."""
        if self.llm is None:
            raise _Skip("no gold answer and no LLM to write one")
        messages = [Message("system", self.system), Message("user", user_message(item.question, [format_source(1, golden)]))]
        text = complete(self.llm, messages, GenerationOptions(max_tokens=160)).text.strip()
        text = MARKER.sub("", text).strip()
        if not text or self.not_found_text.lower() in text.lower():
            raise _Skip("the LLM found no answer in the golden chunk")
        return text


class _Skip(Exception):
    pass
