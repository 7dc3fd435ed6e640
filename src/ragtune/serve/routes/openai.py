"""OpenAI-compatible endpoints: ``/v1/chat/completions`` (with retrieval on the last user turn),
``/v1/embeddings`` and ``/v1/models``. Citations and sources travel in extra fields
(``citations``, ``sources``, ``ragtune``) that standard clients ignore."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse

from ragtune.generate.answer import Answer
from ragtune.generate.base import Message
from ragtune.serve.answering import answer_events, audit_answer
from ragtune.serve.deps import CallerDep, state
from ragtune.serve.errors import ApiError
from ragtune.serve.schemas import ChatCompletionRequest, EmbeddingRequest

router = APIRouter(prefix="/v1", tags=["openai"])
FINISH = {"stop": "stop", "length": "length", "withheld": "content_filter", None: "stop"}
"""Our finish reasons in OpenAI's vocabulary: a not-found reply (no model call) ends normally."""


def _question(body: ChatCompletionRequest) -> tuple[str, list[Message]]:
    """(the last user turn, the turns before it). System messages are dropped: the grounded
    answer's instructions are ragtune's, and a client's would compete with them."""
    try:
        turns = [(m.role, m.text()) for m in body.messages]
    except ValueError as exc:
        raise ApiError(400, str(exc), "invalid_request_error") from None
    last = max((i for i, (role, _) in enumerate(turns) if role == "user"), default=None)
    if last is None or not turns[last][1].strip():
        raise ApiError(400, "messages: there is no user message with text to answer", "invalid_request_error")
    history = [Message("user" if role == "user" else "assistant", text)
               for role, text in turns[:last] if role in ("user", "assistant") and text.strip()]
    return turns[last][1], history


def _sampling(body: ChatCompletionRequest) -> dict[str, Any]:
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    return {"max_tokens": body.max_completion_tokens or body.max_tokens, "temperature": body.temperature,
            "top_p": body.top_p, "seed": body.seed, "stop": stop}


def _extras(answer: Answer) -> dict[str, Any]:
    data = answer.to_dict()
    return {
        "citations": data["citations"],
        "sources": data["sources"],
        "ragtune": {"answer": answer.text, "found": answer.found, "faithfulness": data["faithfulness"],
                    "flags": answer.flags, "timings_ms": data["timings_ms"], "data": answer.data,
                    "answer_mode": answer.mode, "evidence": data["evidence"], "rejected_text": answer.rejected_text,
                    "supported": answer.supported},
    }


def _usage(answer: Answer) -> dict[str, int]:
    u = answer.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens}


@router.get("/models")
async def list_models(request: Request, who: CallerDep) -> dict[str, Any]:
    ids = await state(request).run(state(request).service.model_ids)
    return {"object": "list", "data": [{"id": i, "object": "model", "created": 0, "owned_by": "ragtune"} for i in ids]}


@router.post("/chat/completions")
async def chat_completions(body: ChatCompletionRequest, request: Request, who: CallerDep) -> Any:
    st = state(request)
    question, history = _question(body)
    schema = None
    if body.response_format is not None and body.response_format.type == "json_schema":
        if body.response_format.json_schema is None:
            raise ApiError(400, "response_format: json_schema needs a 'json_schema' object", "invalid_request_error")
        schema = body.response_format.json_schema.schema_
    retrieval = body.retrieval.model_dump() if body.retrieval else {}
    started = time.perf_counter()
    loaded, running = await st.run(lambda: st.service.answer(
        question, who.principal, model=body.model, history=history, sampling=_sampling(body),
        json_schema=schema, answer_mode=body.answer_mode, **retrieval))
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.stream:
        answer = await st.run(running.result)
        audit_answer(st, who, "chat.completions", loaded, answer, time.perf_counter() - started)
        return {
            "id": ident, "object": "chat.completion", "created": created, "model": loaded.id,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": FINISH.get(answer.finish_reason, "stop")}],
            "usage": _usage(answer), **_extras(answer),
        }

    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        return json.dumps({"id": ident, "object": "chat.completion.chunk", "created": created, "model": loaded.id,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra},
                          ensure_ascii=False)

    def finish(answer: Answer, _cost: float) -> Iterator[str]:
        yield chunk({}, FINISH.get(answer.finish_reason, "stop"), **_extras(answer))
        if include_usage:
            yield json.dumps({"id": ident, "object": "chat.completion.chunk", "created": created,
                              "model": loaded.id, "choices": [], "usage": _usage(answer)})
        yield "[DONE]"

    def events() -> Iterator[str]:
        yield chunk({"role": "assistant", "content": ""})
        yield from answer_events(  # an error mid-stream is reported in the stream, as OpenAI does
            st, who, "chat.completions", loaded, running, started,
            delta=lambda piece: chunk({"content": piece}), final=finish,
            error=lambda message: json.dumps({"error": {"message": message, "type": "server_error"}}))

    return EventSourceResponse(events(), ping=15)


def _encoded(vector: Any, encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist()


@router.post("/embeddings")
async def embeddings(body: EmbeddingRequest, request: Request, who: CallerDep) -> dict[str, Any]:
    st = state(request)
    texts = [body.input] if isinstance(body.input, str) else body.input
    if len(texts) > 2048 or any(not t for t in texts):
        raise ApiError(400, "input: 1 to 2048 non-empty strings", "invalid_request_error")
    served = st.service.embedder.identity
    if body.model not in (served, st.service.config.embedder.model, "ragtune"):
        raise ApiError(404, f"model '{body.model}': this server embeds with '{served}'", "model_not_found")
    vectors, tokens = await st.run(lambda: st.service.embed(texts))
    return {
        "object": "list", "model": served,
        "data": [{"object": "embedding", "index": i, "embedding": _encoded(v, body.encoding_format)}
                 for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
