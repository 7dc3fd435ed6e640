"""The official ``openai`` client against ``ragtune serve`` started as a user starts it."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from openai import AuthenticationError, NotFoundError, OpenAI

from tests.serve.test_app import LEAVE, MEALS

pytestmark = pytest.mark.integration


def client(server: str, key: str) -> OpenAI:
    return OpenAI(base_url=f"{server}/v1", api_key=key, max_retries=0, timeout=120)


def test_models_chat_and_streaming_through_the_openai_client(server, served):
    employee = client(server, served.keys.employee)
    assert [m.id for m in employee.models.list().data] == ["ragtune"]

    reply = employee.chat.completions.create(model="ragtune", messages=[{"role": "user", "content": MEALS}],
                                             max_tokens=32)
    text = reply.choices[0].message.content
    assert text and reply.usage.completion_tokens > 0 and reply.model == "ragtune"
    extra = reply.model_extra
    assert extra["ragtune"]["found"] and any(s["source"].endswith("travel.md") for s in extra["sources"])

    pieces, final = [], None
    stream = employee.chat.completions.create(model="ragtune", messages=[{"role": "user", "content": MEALS}],
                                              max_tokens=32, stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.choices and chunk.choices[0].finish_reason:
            final = chunk
        if not chunk.choices:
            usage = chunk.usage
    assert len(pieces) >= 2 and final is not None and "citations" in final.model_extra
    assert usage.completion_tokens > 0
    assert final.model_extra["ragtune"]["answer"].strip()


def test_principals_differ_by_key(server, served):
    def answer(key: str):  # type: ignore[no-untyped-def]
        return client(server, key).chat.completions.create(
            model="ragtune", messages=[{"role": "user", "content": LEAVE}], max_tokens=32)

    employee, hr = answer(served.keys.employee), answer(served.keys.hr)
    assert not employee.model_extra["ragtune"]["found"]
    assert employee.usage.completion_tokens == 0  # nothing visible: the model was not called
    assert hr.model_extra["ragtune"]["found"]
    assert any(Path(s["source"]).name == "leave.md" for s in hr.model_extra["sources"])


def test_embeddings_and_errors_through_the_openai_client(server, served):
    employee = client(server, served.keys.employee)
    result = employee.embeddings.create(model="ragtune", input=["helmet", "meal allowance per day"])
    vectors = np.array([d.embedding for d in result.data])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    with pytest.raises(AuthenticationError):
        client(server, "rt-wrong").models.list()
    with pytest.raises(NotFoundError, match="does not exist"):
        employee.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"/v1/chat/completions", "/v1/embeddings", "/v1/models", "/search", "/ask", "/documents",
            "/documents/{document_id}", "/classify", "/health", "/metrics"} <= set(schema["paths"])


def test_concurrent_answers_queue_for_the_model_and_all_succeed(server, served):
    from concurrent.futures import ThreadPoolExecutor

    questions = [MEALS, "Where are e-bike batteries charged in the workshop?", "What does the Commuter 200 Belt cost?"]

    def ask(question: str):  # type: ignore[no-untyped-def]
        return client(server, served.keys.employee).chat.completions.create(
            model="ragtune", messages=[{"role": "user", "content": question}], max_tokens=16)

    with ThreadPoolExecutor(len(questions)) as pool:
        replies = list(pool.map(ask, questions))
    assert all(r.model_extra["ragtune"]["found"] and r.usage.completion_tokens > 0 for r in replies)
    # each answer came from its own question's sources, not a neighbour's
    assert any(s["source"].endswith("travel.md") for s in replies[0].model_extra["sources"])
    assert any("price-list" in s["source"] for s in replies[2].model_extra["sources"])
