"""What every answering endpoint does around the model: audit the answer (with its cost and
tokens in the metrics) and, when streaming, free the model however the stream ends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from ragtune.generate.answer import Answer
from ragtune.serve.deps import Caller, ServerState
from ragtune.serve.service import LoadedModel, LockedAnswer

Event = TypeVar("Event")


def audit_answer(st: ServerState, who: Caller, endpoint: str, loaded: LoadedModel, answer: Answer,
                 seconds: float) -> float:
    """Write the audit line of an answer; returns its cost, also counted in the metrics."""
    cost = st.service.cost(answer, loaded)
    st.metrics.tokens.labels("prompt").inc(answer.usage.prompt_tokens)
    st.metrics.tokens.labels("completion").inc(answer.usage.completion_tokens)
    st.metrics.cost.inc(cost)
    st.audit.write(
        endpoint, **who.audit_fields(), model=loaded.id, question=answer.question, found=answer.found,
        retrieved=list(dict.fromkeys(h.document_id for h in answer.hits)),
        cited=list(dict.fromkeys(h.document_id for h in answer.cited_sources)),
        latency_ms=round(seconds * 1000, 1), prompt_tokens=answer.usage.prompt_tokens,
        completion_tokens=answer.usage.completion_tokens, cost_usd=round(cost, 8),
    )
    return cost


def answer_events(
    st: ServerState, who: Caller, endpoint: str, loaded: LoadedModel, running: LockedAnswer, started: float,
    *,
    delta: Callable[[str], Event],
    final: Callable[[Answer, float], Iterable[Event]],
    error: Callable[[str], Event],
) -> Iterator[Event]:
    """A streamed answer as events in an endpoint's own format: ``delta(piece)`` per text piece,
    then the events of ``final(answer, cost)``; or one ``error(message)`` when generation fails
    after the response has started (its status line is gone). The model is freed when the client
    leaves mid-stream; a finished answer is audited."""
    try:
        for piece in running:
            yield delta(piece)
        answer = running.result()
    except Exception as exc:
        yield error(str(exc))
        return
    finally:
        running.close()
    cost = audit_answer(st, who, endpoint, loaded, answer, time.perf_counter() - started)
    yield from final(answer, cost)
