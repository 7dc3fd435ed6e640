"""Ingest throughput: the local executor against Ray (1 and 2 nodes), into SQLite and PostgreSQL.

    .venv/bin/python bench/ray_ingest.py                       # 1,000 SciFact abstracts, 20 per file
    .venv/bin/python bench/ray_ingest.py --abstracts 200 --modes local,ray2 --backends sqlite

The corpus is the first ``--abstracts`` SciFact abstracts written as JSONL files of ``--per-file``
records under a temporary folder (as ``tests/ingest/test_ray_ingest.py`` does). The embedder is
the default one (``RagtuneConfig()``: the bundled all-MiniLM-L6-v2 through ONNX Runtime fp32);
its ONNX export is looked up (and made if missing) before any clock starts.

Runs, each into a fresh SQLite workspace or a fresh PostgreSQL schema:

* ``local``: ``executor = "local"``: this process parses, chunks, embeds and writes.
* ``ray1`` / ``ray2``: a loopback Ray cluster (``ragtune.testing.ray.RayCluster``) of 1 or 2 nodes
  with ``--num-cpus 2`` each, default ``ray_embed_actors`` (one per node). SQLite is written by the
  driver, PostgreSQL by the embedding actors (``ray_writes = "auto"``). Starting the cluster is
  timed apart; the ingest time includes ``ray.init`` (reported apart too), Ray Data's start, the
  actors' model loads, and everything after.

Every loopback node runs on the same cores as the driver, so Ray cannot be faster here: the
numbers show Ray's overhead and that it writes the same chunks (asserted equal in every run).

Per-actor embedding throughput = chunks embedded / ingest wall time / embedding actors, i.e. the
whole run charged to the embedding, so it is a lower bound of the actor's model rate. A probe
embeds the same chunk texts in this process with 1 and with 2 ONNX threads, for a per-core rate.

PostgreSQL write rate: the local SQLite index is copied into a fresh schema with
``Store.writes`` → ``PostgresStore.upsert`` (vectors precomputed, no model), by 1 and by 2
concurrent writer processes (disjoint batches, like the actors writing in parallel). The test
server runs with fsync, synchronous_commit and full_page_writes off (``ragtune.testing.postgres``).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # set before any Ray node starts: the nodes inherit it
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared/datasets/scifact/corpus.jsonl"


def write_corpus(source: Path, folder: Path, abstracts: int, per_file: int) -> tuple[Path, int]:
    """SciFact abstracts as JSONL files of ``per_file`` records (fields id, title, text)."""
    lines = source.read_text(encoding="utf-8").splitlines()[:abstracts]
    folder.mkdir(parents=True)
    for n in range(0, len(lines), per_file):
        rows = [json.loads(line) for line in lines[n : n + per_file]]
        records = [{"id": r["_id"], "title": r["title"], "text": r["text"]} for r in rows]
        (folder / f"part-{n // per_file:04d}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder, len(lines)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


class ConnectTime(logging.Handler):
    """Catches ragtune's 'connected to Ray at %s in %.1f s' (ray.init, inside ingest())."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: float | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("connected to Ray"):
            self.seconds = float(record.args[-1])  # type: ignore[index]


def run_one(mode: str, backend: str, corpus: Path, tmp: Path, pg_url: str | None, address: str | None,
            nodes: int, files_per_task: int, documents: int, embedder: Any) -> dict[str, Any]:
    from ragtune.config import IndexConfig, IngestConfig, RagtuneConfig
    from ragtune.ingest.api import ingest
    from ragtune.workspace import Workspace

    schema = f"bench_{mode}_{os.getpid()}"
    index = IndexConfig(backend="postgres", url=pg_url, schema=schema) if backend == "postgres" else IndexConfig()
    settings: dict[str, Any] = {}
    if address:
        settings = {"executor": "ray", "ray_address": address, "ray_files_per_task": files_per_task}
    config = RagtuneConfig().model_copy(update={"index": index, "ingest": IngestConfig(**settings)})
    workspace = Workspace(tmp / f"ws-{mode}-{backend}")
    catcher = ConnectTime()
    log = logging.getLogger("ragtune")  # the message's module has moved before (ragtune.ray_cluster now)
    log.addHandler(catcher)
    old_level = log.level
    log.setLevel(logging.INFO)
    load_before = load()
    started = time.perf_counter()
    try:
        # Every run gets the warmed-up embedder: the local run embeds with it; in a Ray run it is
        # only the driver's fallback (KnownVectors, for SQL rows) and each actor loads its own.
        report = ingest(workspace, [corpus], config=config, embedder=embedder)
    finally:
        log.removeHandler(catcher)
        log.setLevel(old_level)
    seconds = time.perf_counter() - started
    idx = report.index
    actors = 0 if mode == "local" else nodes
    row = {
        "mode": mode, "backend": backend, "nodes": nodes, "actors": actors, "documents": report.documents,
        "chunks": report.chunks, "chunks_embedded": idx["chunks_embedded"], "added": idx["added"],
        "failed": report.failed, "seconds": round(seconds, 2),
        "ray_init_s": None if catcher.seconds is None else round(catcher.seconds, 1),
        "chunks_per_s": round(report.chunks / seconds, 1), "docs_per_s": round(report.documents / seconds, 1),
        "per_actor_chunks_per_s": round(idx["chunks_embedded"] / seconds / actors, 1) if actors else None,
        "load": f"{load_before} → {load()}", "workspace": str(workspace.root),
    }
    assert report.documents == documents and idx["added"] == documents, row
    assert report.failed == 0, [s for s in report.sources if s.status != "ok"]
    return row


def embed_probe(workspace: Path, n: int) -> list[dict[str, Any]]:
    """Chunks/s of the default embedder on the first ``n`` chunk texts, 1 and 2 ONNX threads."""
    from ragtune.config import EmbedderConfig, RagtuneConfig
    from ragtune.embed.factory import build_embedder
    from ragtune.index.factory import build_store
    from ragtune.workspace import Workspace

    texts: list[str] = []
    with build_store(Workspace(workspace), RagtuneConfig(), None) as store:
        for batch in store.writes(batch=100):
            texts += [c.text for w in batch for c in w.chunks]
            if len(texts) >= n:
                break
    texts = texts[:n]
    out = []
    for threads in (1, 2):
        embedder = build_embedder(EmbedderConfig(threads=threads))
        embedder.embed(texts[:8])
        started = time.perf_counter()
        embedder.embed(texts)
        seconds = time.perf_counter() - started
        out.append({"threads": threads, "chunks": len(texts), "seconds": round(seconds, 2),
                    "chunks_per_s": round(len(texts) / seconds, 1), "load": load()})
    return out


def _copy_part(source: str, url: str, schema: str, part: int, parts: int, batch: int) -> tuple[int, int, float]:
    """One writer process: upsert batches part, part+parts, … of the source index into ``schema``."""
    from ragtune.config import RagtuneConfig
    from ragtune.index.factory import build_store
    from ragtune.index.postgres_store import PostgresStore
    from ragtune.workspace import Workspace

    target = PostgresStore(url, None, None, schema=schema, pool_size=1)
    documents = chunks = 0
    seconds = 0.0
    with build_store(Workspace(Path(source)), RagtuneConfig(), None) as store:
        for n, writes in enumerate(store.writes(batch)):
            if n % parts != part:
                continue
            started = time.perf_counter()
            target.upsert(writes)
            seconds += time.perf_counter() - started
            documents += len(writes)
            chunks += sum(len(w.chunks) for w in writes)
    target.close()
    return documents, chunks, seconds


def pg_write_rate(source: Path, url: str, writers: int, batch: int) -> dict[str, Any]:
    """Copy the local SQLite index into a fresh schema with ``writers`` concurrent processes."""
    from ragtune.config import RagtuneConfig
    from ragtune.index.factory import build_store
    from ragtune.index.postgres_store import PostgresStore
    from ragtune.workspace import Workspace

    schema = f"bench_copy{writers}_{os.getpid()}"
    with build_store(Workspace(source), RagtuneConfig(), None) as store:
        identity, dimension = store.embedder, store.dimension
    PostgresStore(url, identity, dimension, schema=schema, pool_size=1).close()  # created once, empty
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(writers) as pool:
        parts = pool.starmap(_copy_part, [(str(source), url, schema, p, writers, batch) for p in range(writers)])
    seconds = time.perf_counter() - started
    chunks = sum(p[1] for p in parts)
    upsert_s = sum(p[2] for p in parts)
    return {"writers": writers, "documents": sum(p[0] for p in parts), "chunks": chunks, "batch_docs": batch,
            "seconds": round(seconds, 2), "chunks_per_s": round(chunks / seconds, 1),
            "chunks_per_s_per_writer_in_upsert": round(chunks / upsert_s, 1), "load": load()}


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join("" if row.get(c) is None else str(row.get(c)) for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--abstracts", type=int, default=1000)
    parser.add_argument("--per-file", type=int, default=20)
    parser.add_argument("--modes", default="local,ray1,ray2", help="comma list of local, ray1, ray2")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma list of sqlite, postgres")
    parser.add_argument("--files-per-task", type=int, default=16, help="[ingest] ray_files_per_task")
    parser.add_argument("--probe", type=int, default=256, help="chunks for the in-process embedder probe (0: skip)")
    parser.add_argument("--copy-writers", default="1,2", help="PostgreSQL write-rate writers ('' to skip)")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"skipped: no corpus at {args.data}")
    modes = [m for m in args.modes.split(",") if m]
    backends = [b for b in args.backends.split(",") if b]
    command = ".venv/bin/python bench/ray_ingest.py " + shlex.join(sys.argv[1:])
    print(f"command: {command}", flush=True)

    from ragtune.config import RagtuneConfig
    from ragtune.embed.factory import build_embedder

    total = time.perf_counter()
    embedder = build_embedder(RagtuneConfig().embedder)  # export (if missing) before any clock
    embedder.embed(["warm up"])
    rows: list[dict[str, Any]] = []
    clusters: list[dict[str, Any]] = []
    server = None
    with tempfile.TemporaryDirectory(prefix="rt-bench-ray-") as tmp_name:
        tmp = Path(tmp_name)
        corpus, documents = write_corpus(args.data, tmp / "corpus", args.abstracts, args.per_file)
        files = len(list(corpus.glob("*.jsonl")))
        print(f"corpus: {documents} abstracts in {files} files; embedder {embedder.identity} "
              f"({type(embedder).__name__}); load {load()}", flush=True)
        try:
            if "postgres" in backends:
                from ragtune.testing.postgres import PostgresServer

                server = PostgresServer().start()
            for mode in modes:
                nodes = {"local": 0, "ray1": 1, "ray2": 2}[mode]
                if not nodes:
                    for backend in backends:
                        rows.append(run_one(mode, backend, corpus, tmp, server and server.url, None, 0,
                                            args.files_per_task, documents, embedder))
                        print(json.dumps(rows[-1]), flush=True)
                    continue
                from ragtune.testing.ray import RayCluster

                started = time.perf_counter()
                cluster = RayCluster(nodes=nodes, cpus=2).__enter__()
                start_s = time.perf_counter() - started
                try:
                    for backend in backends:
                        rows.append(run_one(mode, backend, corpus, tmp, server and server.url, cluster.address,
                                            nodes, args.files_per_task, documents, embedder))
                        print(json.dumps(rows[-1]), flush=True)
                finally:
                    started = time.perf_counter()
                    cluster.stop()
                    clusters.append({"nodes": nodes, "start_s": round(start_s, 1),
                                     "stop_s": round(time.perf_counter() - started, 1)})
                    print(json.dumps(clusters[-1]), flush=True)

            chunk_counts = {(r["mode"], r["backend"]): (r["chunks"], r["chunks_embedded"]) for r in rows}
            assert len(set(chunk_counts.values())) == 1, f"chunk counts differ between runs: {chunk_counts}"
            print(f"chunks equal in every run: {next(iter(chunk_counts.values()))} (chunks, chunks_embedded)")

            local_sqlite = next((r for r in rows if r["mode"] == "local" and r["backend"] == "sqlite"), None)
            probe = embed_probe(Path(local_sqlite["workspace"]), args.probe) if local_sqlite and args.probe else []
            copies = []
            if server is not None and local_sqlite:
                for writers in [int(w) for w in args.copy_writers.split(",") if w]:
                    copies.append(pg_write_rate(Path(local_sqlite["workspace"]), server.url, writers, 100))
                    print(json.dumps(copies[-1]), flush=True)
        finally:
            if server is not None:
                server.stop()

    for row in rows:
        local = next(r for r in rows if r["mode"] == "local" and r["backend"] == row["backend"]) \
            if any(r["mode"] == "local" and r["backend"] == row["backend"] for r in rows) else None
        row["vs_local"] = f"{local['seconds'] / row['seconds']:.2f}×" if local else None
    print()
    print(table(rows, ["mode", "backend", "actors", "documents", "chunks", "chunks_embedded", "seconds",
                       "ray_init_s", "chunks_per_s", "docs_per_s", "per_actor_chunks_per_s", "vs_local", "load"]))
    if clusters:
        print()
        print(table(clusters, ["nodes", "start_s", "stop_s"]))
    if probe:
        print()
        print(table(probe, ["threads", "chunks", "seconds", "chunks_per_s", "load"]))
    if copies:
        print()
        print(table(copies, ["writers", "documents", "chunks", "batch_docs", "seconds", "chunks_per_s",
                             "chunks_per_s_per_writer_in_upsert", "load"]))
    print(f"\ncommand: {command}\ntotal {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
