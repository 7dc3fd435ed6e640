"""What the server does, without HTTP: one instance per server process holds the embedder, the
index and the models, and runs every request as the caller's principal.

Threads: FastAPI runs the endpoints on a thread pool. The store serialises its own connection;
a local model is not safe to call from two threads, so each model has a lock and requests for it
queue there (the queue is visible as latency, and as ``ragtune_requests_in_flight``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.config import RagtuneConfig
from ragtune.errors import ConfigError, RagtuneError, RegistryError
from ragtune.evaluate.cost import local_cores, query_cost
from ragtune.generate.answer import Answer
from ragtune.generate.assistant import AnswerStream, Assistant
from ragtune.generate.base import Message
from ragtune.index.base import DocumentSummary
from ragtune.ingest.pipeline import IngestReport
from ragtune.retrieve.retriever import Retrieval
from ragtune.types import Document, Principal
from ragtune.workspace import Workspace

DEFAULT_MODEL = "ragtune"
"""The model id of the configured ``[llm]`` with retrieval: what ``/v1/models`` lists first."""


class ModelNotFound(RagtuneError):
    pass


@dataclass
class LoadedModel:
    id: str
    assistant: Assistant
    config: RagtuneConfig
    lock: threading.Lock


class LockedAnswer:
    """An answer being generated that holds its model's lock from the first piece to the last:
    consume it promptly, to the end or ``close()`` it (a client that leaves mid-stream)."""

    def __init__(self, running: AnswerStream, lock: threading.Lock) -> None:
        self._running = running
        self._pieces = self._locked(lock)

    def _locked(self, lock: threading.Lock) -> Iterator[str]:
        with lock:
            yield from self._running

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def result(self) -> Answer:
        for _ in self._pieces:
            pass
        return self._running.result()

    def close(self) -> None:
        self._pieces.close()  # type: ignore[attr-defined]


_UNSAFE = re.compile(r"[^\w.\- ]+")


def safe_filename(name: str) -> str:
    """The last path component of an uploaded file's name with anything odd replaced; never a
    path that leaves the upload folder."""
    base = _UNSAFE.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    if not base:
        raise ConfigError(f"upload '{name}': not a usable file name")
    return base[:200]


class Service:
    def __init__(self, workspace: Workspace, config: RagtuneConfig | None = None) -> None:
        from ragtune.embed.factory import build_embedder
        from ragtune.generate.api import embedding_similarity
        from ragtune.generate.expand import attach_expander
        from ragtune.retrieve.api import open_retriever
        from ragtune.registry.store import ModelRegistry

        self.workspace = workspace
        self.config = config or workspace.load_config()
        self.embedder = build_embedder(self.config.embedder)
        # [retrieval] expand: its own copy of the [llm] model, loaded at the first question expanded
        # (a search needs no answering model's lock), calls one at a time.
        self.retriever = attach_expander(open_retriever(workspace, self.config, self.embedder, create=True),
                                         self.config.llm)
        self.similarity = (embedding_similarity(self.embedder)
                           if self.config.answer.semantic_threshold is not None else None)
        self.registry = ModelRegistry(workspace.models_dir)
        self.uploads = workspace.uploads_dir
        self._models: dict[str, LoadedModel] = {}
        self._classifiers: dict[str, Any] = {}
        self._load_lock = threading.Lock()
        self._reader: Any = None
        self._ingest_lock = threading.Lock()
        self._cores = local_cores(self.config.cost, self.config.llm.threads)

    # -- models -----------------------------------------------------------------------------
    def model_ids(self) -> list[str]:
        """The default assistant, then every registered language model with a production version."""
        entries, _ = self.registry.list()
        tuned = sorted({e.name for e in entries if e.kind == "llm" and e.stage == "production"})
        return [DEFAULT_MODEL, *tuned]

    def _resolve(self, model: str | None) -> str:
        """The cache key of a requested model: the default, or the registry version a name or
        reference points at now (so a promotion takes effect at the next request)."""
        if model in (None, DEFAULT_MODEL, self.config.llm.model):
            return DEFAULT_MODEL
        # Only registry names and references are accepted: a request must not be able to make the
        # server load an arbitrary file by naming its path.
        name = model.split("@", 1)[0]
        if name not in self.registry.names():
            raise ModelNotFound(f"model '{model}' does not exist; GET /v1/models lists the models")
        try:
            entry = self.registry.get(model if "@" in model else f"{model}@production")
        except RegistryError as exc:
            raise ModelNotFound(str(exc)) from None
        if entry.kind != "llm":
            raise ModelNotFound(f"{entry.ref} is a {entry.kind}, not a language model")
        return entry.ref

    def model(self, model: str | None) -> LoadedModel:
        key = self._resolve(model)
        loaded = self._models.get(key)
        if loaded is not None:
            return loaded
        with self._load_lock:
            if key not in self._models:
                from ragtune.generate.factory import build_llm
                from ragtune.registry.references import config_with_model

                config = self.config
                if key != DEFAULT_MODEL:  # the index, retrieval and answer settings stay the server's
                    tuned = config_with_model(self.workspace.config_path, self.workspace.models_dir, key)
                    config = self.config.model_copy(update={"llm": tuned.llm})
                from ragtune.generate.api import open_reader

                llm = build_llm(config.llm)
                if self._reader is None:  # one reader (its scorer may be a cross-encoder) serves every model
                    self._reader = open_reader(self.config, self.retriever)
                assistant = Assistant(self.retriever, llm, config.llm, config.answer, self.similarity, self._reader)
                self._models[key] = LoadedModel(key, assistant, config, threading.Lock())
            return self._models[key]

    # -- reading ----------------------------------------------------------------------------
    def search(self, query: str, principal: Principal, *, k: int | None = None, mode: Any = None,
               filters: Mapping[str, Any] | None = None) -> Retrieval:
        if not query.strip():
            raise RagtuneError("the query is empty")
        return self.retriever.search(query, principal, k=k, mode=mode, filters=filters)

    def answer(
        self,
        question: str,
        principal: Principal,
        *,
        model: str | None = None,
        history: Sequence[Message] = (),
        sampling: Mapping[str, Any] | None = None,
        k: int | None = None,
        mode: Any = None,
        filters: Mapping[str, Any] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        answer_mode: Any = None,
    ) -> tuple[LoadedModel, LockedAnswer]:
        """(the model, the answer: iterate it for text pieces, ``result()`` for the answer)."""
        loaded = self.model(model)
        running = loaded.assistant.stream(
            question, principal, k=k, mode=mode, filters=filters, json_schema=json_schema,
            history=history, sampling=sampling, answer_mode=answer_mode,
        )
        return loaded, LockedAnswer(running, loaded.lock)

    def cost(self, answer: Answer, loaded: LoadedModel) -> float:
        return query_cost(
            self.config.cost, seconds=answer.timings.get("total", 0.0), cores=self._cores,
            model=loaded.config.llm.model, prompt_tokens=answer.usage.prompt_tokens,
            completion_tokens=answer.usage.completion_tokens,
        )

    def embed(self, texts: Sequence[str]) -> tuple[np.ndarray, int]:
        """(unit vectors, tokens counted with the embedder's tokenizer)."""
        from ragtune.chunk.tokenizer import load_tokenizer

        vectors = self.embedder.embed(list(texts))
        try:
            tokenizer = load_tokenizer(self.config.chunking, self.config.embedder)
            tokens = sum(tokenizer.count(t) + 2 for t in texts)  # + [CLS] and [SEP]
        except ConfigError:
            tokens = 0  # a remote embedder without a local tokenizer: not counted
        return vectors, tokens

    def classify(self, ref: str, texts: Sequence[str]) -> tuple[str, list[Any]]:
        """(the version that answered, one prediction per text); classifiers stay loaded, keyed by
        version, so promoting a new version takes effect at the next request."""
        from ragtune.tune.api import load_classifier_ref

        entry = self.registry.get(ref)
        if entry.kind != "classifier":
            raise ModelNotFound(f"{entry.ref} is a {entry.kind}, not a classifier")
        with self._load_lock:
            if entry.ref not in self._classifiers:
                self._classifiers[entry.ref] = load_classifier_ref(self.workspace, entry.ref)[1]
            classifier = self._classifiers[entry.ref]
        return entry.ref, classifier.predict(list(texts))

    def documents(self, principal: Principal, *, limit: int, offset: int) -> list[DocumentSummary]:
        return self.retriever.store.list_documents(principal, limit=limit, offset=offset)

    def document(self, document_id: str, principal: Principal) -> Document | None:
        return self.retriever.store.document(document_id, principal)

    # -- changing (admin keys only; the HTTP layer checks) ------------------------------------
    def ingest_uploads(self, files: Sequence[tuple[str, bytes]], *, groups: Sequence[str],
                       users: Sequence[str]) -> tuple[IngestReport, list[str]]:
        """Save uploads under ``<workspace>/uploads`` (the same name replaces the earlier file, so
        an update re-ingests only what changed) and ingest them. (report, saved names)."""
        from ragtune.atomic_files import write_bytes_atomic
        from ragtune.ingest.api import ingest

        self.uploads.mkdir(parents=True, exist_ok=True)
        saved: list[Path] = []
        for name, content in files:
            path = self.uploads / safe_filename(name)
            write_bytes_atomic(path, content)
            saved.append(path)
        with self._ingest_lock:
            report = ingest(self.workspace, saved, config=self.config, groups=groups, users=users,
                            embedder=self.embedder)
        return report, [p.name for p in saved]

    def delete(self, document_id: str) -> bool:
        with self._ingest_lock:
            return self.retriever.store.delete([document_id]) == 1

    def status(self) -> dict[str, Any]:
        return self.retriever.store.status().to_dict()

    def close(self) -> None:
        for loaded in self._models.values():
            loaded.assistant.llm.close()
        self.retriever.close()
