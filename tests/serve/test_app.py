"""The HTTP API in-process (FastAPI's TestClient) over a real workspace, embedder and model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import bearer, make_app

MEALS = "How much are meals refunded per day on a business trip?"
LEAVE = "How many days of paid annual leave do employees get?"


def sources(hits: list[dict]) -> set[str]:
    return {Path(h["source"].split("#")[0]).name for h in hits}


def test_no_key_or_a_wrong_key_is_401_and_health_needs_none(client, served):
    assert client.post("/search", json={"query": "meals"}).status_code == 401
    wrong = client.post("/search", json={"query": "meals"}, headers=bearer("rt-not-a-key"))
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "invalid_api_key"
    assert wrong.headers["www-authenticate"] == "Bearer"
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["documents"] >= 8
    assert health.json()["replica"] == "test-replica"  # a load balancer's check tells replicas apart


def test_each_key_searches_as_its_principal(client, served):
    keys = served.keys
    employee = client.post("/search", json={"query": "paid annual leave days salary band", "k": 20},
                           headers=bearer(keys.employee)).json()
    hr = client.post("/search", json={"query": "paid annual leave days salary band", "k": 20},
                     headers=bearer(keys.hr)).json()
    assert not sources(employee["hits"]) & {"leave.md", "salary-bands.csv"}
    assert {"leave.md", "salary-bands.csv"} <= sources(hr["hits"])
    # the same through the listing and the document endpoint: invisible looks absent
    listed = {d["source"].rsplit("/", 1)[-1]: d["id"] for d in
              client.get("/documents", headers=bearer(keys.hr)).json()["documents"]}
    seen_by_employee = {d["id"] for d in client.get("/documents", headers=bearer(keys.employee)).json()["documents"]}
    assert listed["leave.md"] not in seen_by_employee
    assert client.get(f"/documents/{listed['leave.md']}", headers=bearer(keys.employee)).status_code == 404
    document = client.get(f"/documents/{listed['leave.md']}", headers=bearer(keys.hr)).json()
    assert "leave" in document["text"].lower()
    me = client.get("/me", headers=bearer(keys.hr)).json()
    assert me == {"user": "hanna", "groups": ["hr", "staff"], "admin": False, "key_id": me["key_id"]}


def test_ask_answers_with_citations_and_is_audited_without_the_key(service, served, tmp_path):
    with TestClient(make_app(service, tmp_path)) as client:
        answer = client.post("/ask", json={"question": MEALS}, headers=bearer(served.keys.employee)).json()
        denied = client.post("/ask", json={"question": LEAVE}, headers=bearer(served.keys.employee)).json()
    assert answer["found"] and answer["sources"] and answer["usage"]["completion_tokens"] > 0
    assert "travel.md" in sources(answer["sources"])
    assert not denied["found"] and denied["usage"]["completion_tokens"] == 0  # the model was never called
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [line["event"] for line in lines] == ["ask", "ask"]
    assert {line["replica"] for line in lines} == {"test-replica"}
    first = lines[0]
    assert first["user"] == "erik" and first["groups"] == ["staff"] and first["question"] == MEALS
    assert first["retrieved"] and set(first["cited"]) <= set(first["retrieved"])
    assert first["completion_tokens"] == answer["usage"]["completion_tokens"] and first["cost_usd"] > 0
    text = (tmp_path / "audit.jsonl").read_text()
    assert served.keys.employee not in text and first["key_id"] in served.keys.employee


def test_ask_streams_deltas_then_the_verified_answer(client, served):
    with client.stream("POST", "/ask", json={"question": MEALS, "stream": True},
                       headers=bearer(served.keys.employee)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response.iter_lines())
    kinds = [e for e, _ in events]
    assert kinds.count("answer") == 1 and kinds[-1] == "answer" and kinds.count("delta") >= 2
    streamed = "".join(json.loads(d)["text"] for e, d in events if e == "delta")
    final = json.loads(events[-1][1])
    assert final["found"] and streamed.strip() and final["usage"]["completion_tokens"] > 0
    # The final event either confirms the streamed text or replaces it with a quote, keeping it.
    if final["supported"]:
        assert final["answer_mode"] == "generate" and final["rejected_text"] is None
    else:
        assert final["answer_mode"] == "quoted" and final["rejected_text"].strip() == streamed.strip()
        assert final["evidence"] and final["answer"] != final["rejected_text"]


def test_answer_mode_extract_quotes_without_calling_the_model(client, served):
    reply = client.post("/ask", json={"question": "What does the Commuter 200 Belt cost?", "answer_mode": "extract"},
                        headers=bearer(served.keys.employee)).json()
    assert reply["answer_mode"] == "extract" and "899 EUR" in reply["answer"]
    assert reply["usage"]["completion_tokens"] == 0 and reply["faithfulness"] == 1.0
    quote = reply["evidence"][0]
    assert "price-list.csv" in quote["source"] and "899" in quote["quote"] and quote["quote_end"] > quote["quote_start"]
    body = {"model": "ragtune", "messages": [{"role": "user", "content": MEALS}], "answer_mode": "extract"}
    chat = client.post("/v1/chat/completions", json=body, headers=bearer(served.keys.employee)).json()
    assert chat["ragtune"]["answer_mode"] == "extract" and "40 EUR" in chat["choices"][0]["message"]["content"]
    assert chat["usage"]["completion_tokens"] == 0 and chat["ragtune"]["evidence"]
    bad = client.post("/ask", json={"question": MEALS, "answer_mode": "guess"}, headers=bearer(served.keys.employee))
    assert bad.status_code in (400, 422) and "answer_mode" in bad.text


def sse_events(lines) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    events, event, data = [], "message", []
    for line in lines:
        if not line:
            if data:
                events.append((event, "\n".join(data)))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        events.append((event, "\n".join(data)))
    return events


def test_chat_completions_uses_the_last_user_turn_and_returns_citations(client, served):
    body = {"model": "ragtune", "messages": [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi! Ask me about policies."},
        {"role": "user", "content": [{"type": "text", "text": MEALS}]},
    ], "max_tokens": 24}
    reply = client.post("/v1/chat/completions", json=body, headers=bearer(served.keys.employee))
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["object"] == "chat.completion" and data["choices"][0]["message"]["role"] == "assistant"
    assert data["usage"]["completion_tokens"] <= 24 and data["usage"]["prompt_tokens"] > 0
    assert "travel.md" in sources(data["sources"]) and data["ragtune"]["found"]
    assert data["choices"][0]["finish_reason"] in ("stop", "length")


def test_unknown_models_and_file_paths_are_not_loaded(client, served):
    for model in ("gpt-4o", "/etc/passwd", "smollm2-135m@v1", "../models/x"):
        reply = client.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
                            headers=bearer(served.keys.employee))
        assert reply.status_code == 404, (model, reply.text)
        assert reply.json()["error"]["type"] == "model_not_found"
    models = client.get("/v1/models", headers=bearer(served.keys.employee)).json()
    assert [m["id"] for m in models["data"]] == ["ragtune"]


def test_invalid_requests_get_a_precise_message(client, served):
    headers = bearer(served.keys.employee)
    no_user = client.post("/v1/chat/completions", json={"model": "ragtune", "messages": [{"role": "system", "content": "x"}]},
                          headers=headers)
    assert no_user.status_code == 400 and "no user message" in no_user.json()["error"]["message"]
    typo = client.post("/search", json={"query": "meals", "kk": 3}, headers=headers)
    assert typo.status_code == 422 and "kk" in typo.json()["error"]["message"]
    bad_filter = client.post("/search", json={"query": "meals", "filters": {"year": {"$near": 1}}}, headers=headers)
    assert bad_filter.status_code == 400 and "$near" in bad_filter.json()["error"]["message"]
    image = client.post("/v1/chat/completions", json={"model": "ragtune", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, headers=headers)
    assert image.status_code == 400 and "image_url" in image.json()["error"]["message"]


def test_only_admin_keys_upload_and_delete_and_bad_files_fail_alone(client, served, tmp_path):
    files = [("files", ("bike-rules.md", b"# Bike rules\n\nHelmets are mandatory on the Zephyr test track.\n", "text/markdown")),
             ("files", ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")),
             ("files", ("empty.txt", b"", "text/plain"))]
    refused = client.post("/documents", files=files, data={"groups": "staff"}, headers=bearer(served.keys.hr))
    assert refused.status_code == 403
    done = client.post("/documents", files=files, data={"groups": "staff"}, headers=bearer(served.keys.admin))
    assert done.status_code == 200, done.text
    status = {s["source"]: s["status"] for s in done.json()["report"]["sources"]}
    assert status["bike-rules.md"] == "ok" and status["broken.pdf"] == "failed"
    assert status["empty.txt"] in ("failed", "skipped")
    reasons = {s["source"]: s["reason"] for s in done.json()["report"]["sources"]}
    assert reasons["broken.pdf"]
    hits = client.post("/search", json={"query": "Zephyr test track helmets"}, headers=bearer(served.keys.employee)).json()
    uploaded = [h for h in hits["hits"] if h["source"].endswith("bike-rules.md")]
    assert uploaded, hits
    outsider = client.post("/search", json={"query": "Zephyr test track helmets"}, headers=bearer(served.keys.admin))
    assert outsider.status_code == 200
    doc_id = uploaded[0]["document_id"]
    assert client.delete(f"/documents/{doc_id}", headers=bearer(served.keys.employee)).status_code == 403
    assert client.delete(f"/documents/{doc_id}", headers=bearer(served.keys.admin)).status_code == 204
    assert client.delete(f"/documents/{doc_id}", headers=bearer(served.keys.admin)).status_code == 404
    hits = client.post("/search", json={"query": "Zephyr test track helmets"}, headers=bearer(served.keys.employee)).json()
    assert not [h for h in hits["hits"] if h["document_id"] == doc_id]


def test_bodies_over_the_limit_are_413(service, served, tmp_path):
    with TestClient(make_app(service, tmp_path, max_body_bytes=2000)) as client:
        big = client.post("/search", json={"query": "x" * 3000}, headers=bearer(served.keys.employee))
        assert big.status_code == 413 and "max_body_bytes" in big.json()["error"]["message"]

        def chunks():  # no Content-Length: the limit must hold on a streamed body too
            for _ in range(10):
                yield b"a" * 500

        streamed = client.post("/search", content=chunks(), headers={**bearer(served.keys.employee),
                                                                      "content-type": "application/json"})
        assert streamed.status_code == 413
        assert client.post("/search", json={"query": "meals"}, headers=bearer(served.keys.employee)).status_code == 200


def test_rate_limit_is_per_key_with_retry_after(service, served, tmp_path):
    with TestClient(make_app(service, tmp_path, rate_limit_per_minute=2)) as client:
        codes = [client.post("/search", json={"query": "meals"}, headers=bearer(served.keys.employee)).status_code
                 for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = client.post("/search", json={"query": "meals"}, headers=bearer(served.keys.employee))
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert "requests per minute" in limited.json()["error"]["message"]
        other = client.post("/search", json={"query": "meals"}, headers=bearer(served.keys.hr))
        assert other.status_code == 200  # another key has its own bucket
        metrics = client.get("/metrics", headers=bearer(served.keys.hr)).text
        assert "ragtune_rate_limited_total 2.0" in metrics


def test_a_lost_key_database_is_503_with_retry_after_and_the_server_recovers(service, tmp_path, postgres_url):
    import psycopg

    from ragtune.serve.keys import KeyRing
    from ragtune.serve.postgres_keys import PostgresKeyStore
    from ragtune.serve.postgres_state import APPLICATION_NAME, ServeStateDatabase
    from tests.pg_fixtures import new_schema

    database = ServeStateDatabase(postgres_url, f"{new_schema()}_serve", setting="test")
    try:
        store = PostgresKeyStore(database)
        secret, _ = store.create("erik", ["staff"])
        with TestClient(make_app(service, tmp_path, keys=KeyRing(store))) as client:
            assert client.get("/me", headers=bearer(secret)).status_code == 200
            with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a database restart does
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                              (APPLICATION_NAME,))
            lost = client.get("/me", headers=bearer(secret))
            assert lost.status_code == 503 and lost.headers["retry-after"] == "1", lost.text
            assert lost.json()["error"]["type"] == "service_unavailable" and "127.0.0.1" not in lost.text
            assert client.get("/me", headers=bearer(secret)).status_code == 200
    finally:
        database.close()


def test_metrics_count_requests_tokens_and_cost(client, served):
    client.post("/ask", json={"question": MEALS}, headers=bearer(served.keys.employee))
    assert client.get("/metrics").status_code == 401
    text = client.get("/metrics", headers=bearer(served.keys.employee)).text
    assert 'ragtune_requests_total{method="POST",route="/ask",status="200"} 1.0' in text
    completion = next(line for line in text.splitlines() if line.startswith('ragtune_tokens_total{kind="completion"}'))
    assert float(completion.split()[-1]) > 0
    assert "ragtune_request_seconds_bucket" in text and "ragtune_cost_usd_total" in text


def test_open_access_serves_anonymous_public_only(service, served, tmp_path):
    with TestClient(make_app(service, tmp_path, open_access=True)) as client:
        anonymous = client.post("/search", json={"query": "meals refunded business trip", "k": 20})
        assert anonymous.status_code == 200
        assert not sources(anonymous.json()["hits"]) - {"about.html"}  # only what 'public' may see
        assert client.post("/documents", files=[("files", ("a.txt", b"x", "text/plain"))]).status_code == 403
        assert client.post("/search", json={"query": "x"}, headers=bearer("rt-wrong")).status_code == 401


def test_embeddings_are_the_index_vectors(client, served, service):
    import numpy as np

    reply = client.post("/v1/embeddings", json={"model": "ragtune", "input": ["bike helmet", "meal allowance"]},
                        headers=bearer(served.keys.employee)).json()
    vectors = np.array([d["embedding"] for d in reply["data"]])
    assert vectors.shape == (2, service.embedder.dimension)
    assert np.allclose(vectors, service.embedder.embed(["bike helmet", "meal allowance"]), atol=1e-5)
    assert reply["usage"]["prompt_tokens"] >= 6


@pytest.mark.parametrize("page", ["/", "/admin", "/ui/app.js", "/ui/style.css"])
def test_the_web_ui_is_served_without_a_key(client, page):
    assert client.get(page).status_code == 200
