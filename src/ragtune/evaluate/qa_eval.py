"""Answer evaluation: every question through ``Assistant.ask`` as its principal, scored against
its gold answers and relevant documents, and against the refusal it should give when it expects
one (``expect_refusal``, or no relevant document visible to its principal)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from ragtune.config import RagtuneConfig
from ragtune.evaluate.answer_metrics import (
    answer_hit,
    answer_in_context,
    citation_precision,
    citation_recall,
    exact_match,
    numeric_answer,
    numeric_match,
    token_f1,
)
from ragtune.evaluate.behaviour.suite import BehaviourSuite
from ragtune.evaluate.cost import local_cores, query_cost
from ragtune.evaluate.data import Track, no_track
from ragtune.evaluate.items import EvalItem, document_key, hit_summaries
from ragtune.evaluate.judge import LLMJudge
from ragtune.evaluate.visibility import RelevantVisibility
from ragtune.generate.answer import Answer
from ragtune.generate.citations import MARKER
from ragtune.index.base import Store
from ragtune.types import Principal

_MARKER = re.compile(r"\s*" + MARKER.pattern, re.IGNORECASE)  # the verifier's markers, with the space before


class Answerer(Protocol):
    """``Assistant`` or any other way of answering a question as a principal."""

    def ask(self, question: str, principal: Principal) -> Answer: ...


_FINAL = re.compile(r"^\s*answer\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


def without_markers(text: str) -> str:
    """The answer as its reader sees it, without the ``[n]`` citation markers."""
    return _MARKER.sub("", text).strip()


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
    store: Store | None = None,
    behaviour: BehaviourSuite | None = None,
    labels_only: bool = False,
) -> list[dict[str, Any]]:
    """``assistant`` is anything with ``Assistant.ask``; with ``retrieval=False`` (a closed-book
    model) the metrics of sources and citations are left undefined rather than scored 0.

    ``store`` (by default the answerer's ``retriever.store``, as ``Assistant`` has) decides which
    items expect a refusal because none of their relevant documents is visible to their
    principal; without one only items marked ``expect_refusal`` do. ``answer_hit`` scores a
    refusal 1 where one is expected and 0 elsewhere.

    ``behaviour`` adds the format, style and label metrics of every answer that should not be a
    refusal, scored on the text as shown (a refusal where an answer was due fails its format).
    """
    if store is None and retrieval:
        store = getattr(getattr(assistant, "retriever", None), "store", None)
    visibility = RelevantVisibility(store) if store is not None else None
    cores = local_cores(config.cost, config.llm.threads)
    rows = []
    for item in track(items, f"answers {variant}", len(items)):
        who = item.principal or principal
        answer = assistant.ask(item.question, who)
        relevant = {d for d, g in item.relevant.items() if g > 0}
        text = strip_markers(answer.text) if answer.found else ""
        expects_refusal = item.expect_refusal or (
            visibility is not None and visibility.hidden(item.relevant, who, (h.source for h in answer.sources)))
        if expects_refusal:
            hit: float | None = float(not answer.found)
        elif item.answers:
            hit = answer_hit(text, item.answers) if answer.found else 0.0
        else:
            hit = None
        given = [document_key(h, item.relevant) for h in answer.sources]
        cited = [document_key(h, item.relevant) for h in answer.cited_sources]
        # Gold spans say nothing about an answer that should be a refusal: EM and F1 stay undefined.
        scored = bool(item.answers) and not expects_refusal and not labels_only
        # Numbers (``$1577.00``, ``65.4%``) are scored with their formatting, scale and rounding
        # forgiven, on the rows whose gold answer is one amount only.
        numeric = scored and any(numeric_answer(g) is not None for g in item.answers)
        metrics: dict[str, float | None] = {
            "exact_match": exact_match(text, item.answers) if scored else None,
            "f1": token_f1(text, item.answers) if scored else None,
            "answer_hit": None if labels_only else hit,
            "numeric_match": (numeric_match(text, item.answers) if answer.found else 0.0) if numeric else None,
            "answer_in_context": (answer_in_context(item.answers, [h.text for h in answer.sources])
                                  if item.answers and retrieval else None),
            "context_hit": float(bool(relevant.intersection(given))) if relevant and retrieval else None,
            "refused": float(not answer.found),
            "faithfulness": answer.faithfulness,
            "citation_precision": citation_precision(cited, relevant) if relevant and retrieval else None,
            "citation_recall": citation_recall(cited, relevant) if relevant and answer.found and retrieval else None,
            "cited": float(bool(answer.citations)) if answer.found and retrieval else None,
        }
        extras: dict[str, Any] = {}
        if behaviour is not None and not expects_refusal:
            scores, extras = behaviour.score(item, without_markers(answer.text), labels_only=labels_only)
            metrics.update(scores)
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
            "answer_mode": answer.mode,
            "rejected_text": answer.rejected_text,
            "gold": list(item.answers),
            "expects_refusal": expects_refusal,
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
            **extras,
        })
    return rows
