"""Ingest on a Ray cluster: the driver plans, Ray Data parses, chunks and embeds on the workers.

The driver has already planned the run (``ingest/plan.py``): only new or changed files are sent.
Ray Data reads, parses and chunks them (``IngestPipeline.prepare_file``, the same code as a local
run; Ray fuses this step into the actor stage, so it runs at actor concurrency) and embeds them
in an actor pool, one model load per actor. Who writes:

- ``workers`` (the default for PostgreSQL): each embedding actor holds its own ``IndexingSink``
  over the store, so writes, re-embedding decisions and per-document transactions are exactly
  those of a local run, spread over as many database connections as there are actors. A task
  Ray retries after a node died writes its documents again and finds them unchanged.
- ``driver`` (the only choice for SQLite, which has one writer and lives on the driver's disk):
  the actors return vectors, and the driver's sink writes them.

Every node must run the same ragtune installation and see the files at the same paths (a shared
volume), as with any Ray Data reader; the index URL is resolved on the driver and sent along.
"""

from __future__ import annotations

import logging
import math
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.config import RagtuneConfig
from ragtune.embed.base import Embedder, ProgressCallback
from ragtune.errors import ConfigError, RagtuneError
from ragtune.index.base import SourceFingerprint
from ragtune.index.writer import IndexingSink
from ragtune.ingest.files import SourceFile
from ragtune.ingest.plan import IngestPlan, PlannedFile, fingerprint_for, resolver_for
from ragtune.ingest.report import IngestReport, SourceReport
from ragtune.ingest.sources import FoundFile
from ragtune.ray_cluster import alive_nodes, connected, import_ray
from ragtune.types import Chunk, Document
from ragtune.workspace import Workspace

logger = logging.getLogger(__name__)

Prepared = tuple[int, SourceReport, list[tuple[Document, list[Chunk]]], SourceFingerprint | None]
"""(position in the plan, the file's report, its chunked documents, the fingerprint to remember)."""


def writer_side(config: RagtuneConfig) -> str:
    """Who writes to the store ("driver" or "workers"), refusing what cannot work."""
    side = config.ingest.ray_writes
    if side == "auto":
        return "workers" if config.index.backend == "postgres" else "driver"
    if side == "workers" and config.index.backend == "sqlite":
        raise ConfigError('[ingest] ray_writes = "workers" needs [index] backend = "postgres": SQLite has one '
                          "writer, on the driver's disk (use \"driver\" or \"auto\")")
    return side


def writer_note(config: RagtuneConfig) -> str:
    """One line for the user: where the work runs and who writes."""
    where = f"on the Ray cluster at {config.ingest.ray_address}"
    if writer_side(config) == "workers":
        return f"ingest: parsing, embedding and writing {where} (each embedding actor writes to PostgreSQL)"
    reason = " (SQLite has one writer)" if config.index.backend == "sqlite" else ""
    return f"ingest: parsing and embedding {where}; writes from this machine only{reason}"


def config_for_workers(config: RagtuneConfig) -> dict[str, Any]:
    """The configuration as plain data, with the index URL resolved here: workers need not have
    the variable ``url_env`` names."""
    data = config.model_dump(mode="json", by_alias=True)
    if config.index.backend == "postgres":
        data["index"]["url"], data["index"]["url_env"] = config.index.server_url(), None
    data["ingest"]["executor"] = "local"  # a worker runs its share locally
    return data


def write_prepared(sink: IndexingSink, prepared: Prepared) -> None:
    """A file's documents into the sink, then its fingerprint (stored after their commit)."""
    _, report, chunked, fingerprint = prepared
    for document, chunks in chunked:
        sink.write(document, chunks, report.source)
    if fingerprint is not None:
        sink.remember(fingerprint)


# -- what runs on the workers -------------------------------------------------------------------
def _files(batch: dict[str, np.ndarray]) -> Iterator[tuple[int, PlannedFile]]:
    for order, path, root, explicit, fingerprint in zip(
        batch["order"], batch["path"], batch["root"], batch["explicit"], batch["fingerprint"], strict=True
    ):
        found = FoundFile(SourceFile(Path(str(path))), Path(str(root)) if root else None, bool(explicit))
        yield int(order), PlannedFile(found, str(fingerprint))


def parse_files(batch: dict[str, np.ndarray], config: dict[str, Any], groups: Sequence[str],
                users: Sequence[str]) -> dict[str, np.ndarray]:
    """A Ray Data task: load, apply access and chunk each file of the batch (nothing written)."""
    from ragtune.chunk.factory import build_chunker
    from ragtune.ingest.pipeline import IngestPipeline

    settings = RagtuneConfig.model_validate(config)
    pipeline = IngestPipeline(settings.ingest, build_chunker(settings.chunking, settings.embedder),
                              groups=groups, users=users)
    out = []
    for order, planned in _files(batch):
        resolver = resolver_for(planned.found.root, settings.ingest, groups, users)
        prepared = pipeline.prepare_file(planned.found, resolver)
        item: Prepared = (order, prepared.report, prepared.chunked, fingerprint_for(planned, prepared.report))
        out.append(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
    return {"prepared": np.array(out, dtype=object)}


class EmbedFiles:
    """A Ray Data actor: loads the embedder once; embeds (and, writing on workers, stores) batches."""

    def __init__(self, config: dict[str, Any], workspace: str, writes: str) -> None:
        from ragtune.embed.factory import build_embedder
        from ragtune.index.factory import build_store

        self.settings = RagtuneConfig.model_validate(config)
        self.embedder = build_embedder(self.settings.embedder)
        self.writes = writes
        self.store = build_store(Workspace(Path(workspace)), self.settings, self.embedder) if writes == "workers" else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        items: list[Prepared] = [pickle.loads(blob) for blob in batch["prepared"]]
        if self.store is None:
            return {"result": np.array([pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL)
                                        for r in self._vectors(items)], dtype=object)}
        sink = IndexingSink(self.store, self.embedder, self.settings.index.batch_chunks)
        with sink:
            for item in items:
                write_prepared(sink, item)
        stats = sink.stats.to_dict()
        written = sorted(sink.stats.written_ids)
        results = [(order, report, None, fingerprint) for order, report, _, fingerprint in items]
        summary = {"stats": stats, "written_ids": written}
        return {"result": np.array([pickle.dumps((results, summary), protocol=pickle.HIGHEST_PROTOCOL)], dtype=object)}

    def _vectors(self, items: list[Prepared]) -> list[tuple[Prepared, dict[str, np.ndarray]]]:
        texts = list(dict.fromkeys(c.embedding_text for _, _, chunked, _ in items for _, chunks in chunked for c in chunks))
        vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dimension), np.float32)
        by_text = dict(zip(texts, vectors, strict=True))
        return [(item, {c.embedding_text: by_text[c.embedding_text] for _, chunks in item[2] for c in chunks})
                for item in items]

    def __del__(self) -> None:
        if getattr(self, "store", None) is not None:
            self.store.close()


def embed_actor(config: dict[str, Any], workspace: str, writes: str) -> type:
    """``EmbedFiles`` with its settings bound: they travel with the class, not as constructor
    arguments put in the object store (Ray warns that an actor restarted after a node died cannot
    start if those were lost)."""

    class BoundEmbedFiles(EmbedFiles):
        def __init__(self) -> None:
            super().__init__(config, workspace, writes)

    return BoundEmbedFiles


# -- the driver ----------------------------------------------------------------------------------
class KnownVectors:
    """The driver sink's embedder: vectors the actors computed, looked up by text (anything
    else, such as SQL rows read on the driver, is embedded by the real model)."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.identity = embedder.identity
        self.dimension = embedder.dimension
        self.vectors: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:  # SQL rows, read on the driver: embedded here
            self.vectors.update(zip(missing, self.inner.embed(missing), strict=True))
        if progress:
            progress(len(texts))
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


class RayIngest:
    """Connects to the cluster for the duration of a ``with`` block and runs planned ingests."""

    def __init__(self, workspace: Workspace, config: RagtuneConfig, groups: Sequence[str] = (),
                 users: Sequence[str] = ()) -> None:
        self.workspace, self.config = workspace, config
        self.groups, self.users = tuple(groups), tuple(users)
        self.writes = writer_side(config)
        import_ray()  # a missing extra is a clear error before any work

    def __enter__(self) -> RayIngest:
        self._connection = connected(self.config.ingest.ray_address or "", "[ingest] ray_address / --ray")
        self.ray = self._connection.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._connection.__exit__(None, None, None)

    def actors(self) -> int:
        return self.config.ingest.ray_embed_actors or alive_nodes(self.ray)

    def run(
        self,
        plan: IngestPlan,
        sink: IndexingSink,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[SourceReport], None] | None = None,
    ) -> IngestReport:
        """Read, chunk and embed ``plan.todo`` on the cluster; ``sink`` is the driver's (its
        stats become the run's, and in driver mode it writes)."""
        started = time.perf_counter()
        if on_start:
            on_start(len(plan.entries))
        placed: dict[int, SourceReport] = {}

        def record(order: int, report: SourceReport) -> None:
            placed[order] = report
            if on_progress:
                on_progress(report)

        rows = []
        for order, entry in enumerate(plan.entries):
            if isinstance(entry, SourceReport):
                record(order, entry)
            else:
                root = entry.found.root
                rows.append({"order": order, "path": str(entry.found.file.path), "root": str(root) if root else "",
                             "explicit": entry.found.explicit, "fingerprint": entry.fingerprint})
        if rows:
            for order, report in self._execute(rows, sink):
                record(order, report)
        report = IngestReport(sources=[placed[n] for n in sorted(placed)])
        report.seconds = time.perf_counter() - started
        return report

    def _execute(self, rows: list[dict[str, Any]], sink: IndexingSink) -> Iterator[tuple[int, SourceReport]]:
        ingest = self.config.ingest
        config = config_for_workers(self.config)
        blocks = max(1, math.ceil(len(rows) / ingest.ray_files_per_task))
        dataset = (
            self.ray.data.from_items(rows, override_num_blocks=blocks)
            .map_batches(parse_files, fn_kwargs={"config": config, "groups": self.groups, "users": self.users},
                         batch_size=ingest.ray_files_per_task)
            .map_batches(embed_actor(config, str(self.workspace.root), self.writes),
                         batch_size=ingest.ray_files_per_task, num_cpus=1,
                         compute=self.ray.data.ActorPoolStrategy(size=min(self.actors(), blocks)))
        )  # Ray Data's defaults retry a lost task and restart a lost actor: what survives a dead node
        known = sink.embedder if isinstance(sink.embedder, KnownVectors) else None
        if self.writes == "driver" and known is None:
            raise RagtuneError("internal error: a driver-side Ray ingest needs a sink over KnownVectors")
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for blob in batch["result"]:
                if self.writes == "driver":
                    yield self._write_here(pickle.loads(blob), sink, known)  # type: ignore[arg-type]
                else:
                    yield from self._merge(pickle.loads(blob), sink)
            if known is not None:
                sink.flush()  # one transaction per batch of files, as a local run's batch_chunks
                known.vectors.clear()

    @staticmethod
    def _write_here(result: tuple[Prepared, dict[str, np.ndarray]], sink: IndexingSink,
                    known: KnownVectors) -> tuple[int, SourceReport]:
        prepared, vectors = result
        known.vectors.update(vectors)
        write_prepared(sink, prepared)
        return prepared[0], prepared[1]

    @staticmethod
    def _merge(result: tuple[list[Prepared], dict[str, Any]], sink: IndexingSink) -> Iterator[tuple[int, SourceReport]]:
        reports, summary = result
        stats = sink.stats
        for name, value in summary["stats"].items():
            setattr(stats, name, getattr(stats, name) + value)
        stats.written_ids.update(summary["written_ids"])
        if sink.on_embedded and summary["stats"]["chunks_embedded"]:
            sink.on_embedded(summary["stats"]["chunks_embedded"])
        for order, report, _, fingerprint in reports:
            if fingerprint is not None:
                sink.remembered.append(fingerprint)
            yield order, report
