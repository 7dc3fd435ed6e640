"""Answer evaluation: every question through ``Assistant.ask`` as its principal, scored against
its gold answers and relevant documents."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from ragtune.config import RagtuneConfig
from ragtune.evaluate.answer_metrics import (
    answer_in_context,
    citation_precision,
    citation_recall,
    exact_match,
    token_f1,
)
from ragtune.evaluate.cost import local_cores, query_cost
from ragtune.evaluate.data import Track, no_track
from ragtune.evaluate.items import EvalItem, document_key, hit_summaries
from ragtune.evaluate.judge import LLMJudge
from ragtune.generate.answer import Answer
from ragtune.generate.citations import MARKER
from ragtune.types import Principal

_MARKER = re.compile(r"\s*" + MARKER.pattern, re.IGNORECASE)  # the verifier's markers, with the space before


class Answerer(Protocol):
    """``Assistant`` or any other way of answering a question as a principal."""

    def ask(self, question: str, principal: Principal) -> Answer: ...


_FINAL = re.compile(r"^\s*answer\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def strip_markers(text: str) -> str:
    """The answer as compared with gold answers: without its ``[n]`` citation markers, and when it
    reasons first (a chain of thought ending in an ``Answer: ...`` line) only that last line."""
    finals = _FINAL.findall(text)
    return _MARKER.sub("", finals[-1] if finals else text).strip()


def evaluate_answers(
    assistant: Answerer,
    items: Sequence[EvalItem],
    variant: str,
    config: RagtuneConfig,
    principal: Principal,
    *,
    judge: LLMJudge | None = None,
    track: Track = no_track,
    retrieval: bool = True,
) -> list[dict[str, Any]]:
    """``assistant`` is anything with ``Assistant.ask``; with ``retrieval=False`` (a closed-book
    model) the metrics of sources and citations are left undefined rather than scored 0."""
    cores = local_cores(config.cost, config.llm.threads)
    rows = []
    for item in track(items, f"answers {variant}", len(items)):
        answer = assistant.ask(item.question, item.principal or principal)
        relevant = {d for d, g in item.relevant.items() if g > 0}
        text = strip_markers(answer.text) if answer.found else ""
        given = [document_key(h, item.relevant) for h in answer.sources]
        cited = [document_key(h, item.relevant) for h in answer.cited_sources]
        metrics: dict[str, float | None] = {
            "exact_match": exact_match(text, item.answers) if item.answers else None,
            "f1": token_f1(text, item.answers) if item.answers else None,
            "answer_in_context": (answer_in_context(item.answers, [h.text for h in answer.sources])
                                  if item.answers and retrieval else None),
            "context_hit": float(bool(relevant.intersection(given))) if relevant and retrieval else None,
            "refused": float(not answer.found),
            "faithfulness": answer.faithfulness,
            "citation_precision": citation_precision(cited, relevant) if relevant and retrieval else None,
            "citation_recall": citation_recall(cited, relevant) if relevant and answer.found and retrieval else None,
            "cited": float(bool(answer.citations)) if answer.found and retrieval else None,
        }
        judged = None
        if judge is not None and item.answers and answer.found:
            judged = judge.judge(item.question, item.answers[0], text)
            metrics["judge"] = judged.mean
        total = answer.timings.get("total", 0.0)
        rows.append({
            "variant": variant,
            "query_id": item.id,
            "question": item.question,
            "answer": answer.text,
            "gold": list(item.answers),
            "metrics": metrics,
            "judge_scores": list(judged.scores) if judged else None,
            "timings_ms": {k: round(v * 1000, 3) for k, v in answer.timings.items()},
            "prompt_tokens": answer.usage.prompt_tokens,
            "completion_tokens": answer.usage.completion_tokens,
            "cost_usd": query_cost(
                config.cost, seconds=total, cores=cores, model=config.llm.model,
                prompt_tokens=answer.usage.prompt_tokens, completion_tokens=answer.usage.completion_tokens,
            ),
            "relevant": sorted(relevant),
            "top": hit_summaries(answer.sources, item.relevant),
        })
    return rows
