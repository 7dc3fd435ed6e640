"""ragtune's own endpoints: search, ask, documents, classify, health and metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from ragtune.version import __version__
from ragtune.generate.answer import Answer
from ragtune.serve.answering import answer_events, audit_answer
from ragtune.serve.deps import AdminDep, CallerDep, state
from ragtune.serve.errors import ApiError
from ragtune.serve.schemas import AskRequest, ClassifyRequest, SearchBody

router = APIRouter(tags=["ragtune"])


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness, the index size and which replica answered; needs no key (it reveals no document)."""
    st = state(request)
    status = await st.run(st.service.status)
    st.metrics.documents.set(status["documents"])
    return {"status": "ok", "version": __version__, "documents": status["documents"], "chunks": status["chunks"],
            "embedder": status["embedder"], "replica": st.replica}


@router.get("/me")
async def me(who: CallerDep) -> dict[str, Any]:
    """Who this key acts as (the web UI shows it)."""
    return {"user": who.principal.user_id, "groups": sorted(who.principal.groups), "admin": who.admin,
            "key_id": who.key.id if who.key else None}


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, who: CallerDep) -> Response:
    """Prometheus text format (scrape with a key: ``authorization: Bearer <key>``)."""
    st = state(request)
    st.metrics.documents.set((await st.run(st.service.status))["documents"])
    return Response(st.metrics.render(), media_type=st.metrics.content_type)


@router.post("/search")
async def search(body: SearchBody, request: Request, who: CallerDep) -> dict[str, Any]:
    st = state(request)
    started = time.perf_counter()
    result = await st.run(lambda: st.service.search(body.query, who.principal, k=body.k, mode=body.mode,
                                                   filters=body.filters))
    st.audit.write("search", **who.audit_fields(), query=body.query,
                   retrieved=list(dict.fromkeys(h.document_id for h in result.hits)),
                   latency_ms=round((time.perf_counter() - started) * 1000, 1))
    return result.to_dict()


@router.post("/ask")
async def ask(body: AskRequest, request: Request, who: CallerDep) -> Any:
    """A grounded answer with verified citations; ``stream`` sends ``delta`` events, then one
    ``answer`` event holding what the non-streaming reply holds."""
    st = state(request)
    started = time.perf_counter()
    loaded, running = await st.run(lambda: st.service.answer(
        body.question, who.principal, model=body.model, k=body.k, mode=body.mode, filters=body.filters,
        json_schema=body.json_schema, answer_mode=body.answer_mode))
    if not body.stream:
        answer = await st.run(running.result)
        cost = audit_answer(st, who, "ask", loaded, answer, time.perf_counter() - started)
        return {**answer.to_dict(), "cost_usd": round(cost, 8)}

    def answer_event(answer: Answer, cost: float) -> Iterator[dict[str, str]]:
        yield {"event": "answer", "data": json.dumps({**answer.to_dict(), "cost_usd": round(cost, 8)},
                                                     ensure_ascii=False, default=str)}

    events = answer_events(
        st, who, "ask", loaded, running, started, final=answer_event,
        delta=lambda piece: {"event": "delta", "data": json.dumps({"text": piece}, ensure_ascii=False)},
        error=lambda message: {"event": "error", "data": json.dumps({"message": message})})
    return EventSourceResponse(events, ping=15)


@router.get("/documents")
async def list_documents(request: Request, who: CallerDep,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                         offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """The documents this key's principal may see."""
    st = state(request)
    found = await st.run(lambda: st.service.documents(who.principal, limit=limit, offset=offset))
    return {"documents": [d.to_dict() for d in found], "limit": limit, "offset": offset}


@router.get("/documents/{document_id}")
async def get_document(document_id: str, request: Request, who: CallerDep) -> dict[str, Any]:
    """One document's text (to show a cited span in context); 404 when it does not exist or the
    principal may not see it: the two are indistinguishable on purpose."""
    st = state(request)
    document = await st.run(lambda: st.service.document(document_id, who.principal))
    if document is None:
        raise ApiError(404, f"no document '{document_id}'", "not_found")
    return {"id": document.id, "source": document.source, "format": document.format,
            "metadata": document.metadata, "text": document.text}


@router.post("/documents")
async def upload_documents(
    request: Request,
    who: AdminDep,
    files: Annotated[list[UploadFile], File(description="Files to ingest (any format ragtune reads).")],
    groups: Annotated[str, Form(description="Comma-separated groups allowed to see them (default: public).")] = "",
    users: Annotated[str, Form(description="Comma-separated users allowed to see them.")] = "",
) -> dict[str, Any]:
    """Upload and ingest (admin keys only). Each file gets its own status; a bad file never
    stops the others."""
    st = state(request)
    if len(files) > st.settings.max_upload_files:
        raise ApiError(413, f"at most {st.settings.max_upload_files} files per upload (serve.max_upload_files)",
                       "request_too_large")
    contents = [(f.filename or "upload", await f.read()) for f in files]
    split = [g.strip() for g in groups.split(",") if g.strip()], [u.strip() for u in users.split(",") if u.strip()]
    report, saved = await st.run(lambda: st.service.ingest_uploads(contents, groups=split[0], users=split[1]))
    data = report.to_dict()
    st.audit.write("documents.upload", **who.audit_fields(), files=saved, access_groups=split[0], access_users=split[1],
                   succeeded=data["succeeded"], failed=data["failed"], documents=data["documents"])
    for source in data["sources"]:  # the server's own paths are not the client's business
        source["source"] = source["source"].rsplit("/", 1)[-1]
    return {"files": saved, "report": data}


@router.delete("/documents/{document_id}", status_code=204)
async def delete_document(document_id: str, request: Request, who: AdminDep) -> Response:
    st = state(request)
    deleted = await st.run(lambda: st.service.delete(document_id))
    st.audit.write("documents.delete", **who.audit_fields(), document=document_id, deleted=deleted)
    if not deleted:
        raise ApiError(404, f"no document '{document_id}'", "not_found")
    return Response(status_code=204)


@router.post("/classify")
async def classify(body: ClassifyRequest, request: Request, who: CallerDep) -> dict[str, Any]:
    st = state(request)
    started = time.perf_counter()
    version, predictions = await st.run(lambda: st.service.classify(body.model, body.texts))
    st.audit.write("classify", **who.audit_fields(), model=version, texts=len(body.texts),
                   latency_ms=round((time.perf_counter() - started) * 1000, 1))
    return {"model": version, "predictions": [
        {"label": p.label, "score": round(p.score, 6), "scores": {k: round(v, 6) for k, v in p.scores.items()}}
        for p in predictions]}
