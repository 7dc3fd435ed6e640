"""PostgreSQL + pgvector vs the embedded SQLite store: same machine, same run, same data.

    .venv/bin/python bench/pg_store.py --store 100000 --queries 200     # synthetic store
    .venv/bin/python bench/pg_store.py --store 0 --scifact              # SciFact quality only

Each run starts a throwaway PostgreSQL (``ragtune.testing.postgres``: PostgreSQL 18 + pgvector
0.8 on 127.0.0.1, **fsync, synchronous_commit and full_page_writes off**, server defaults
otherwise), so PostgreSQL's write numbers are flattering: a durable server pays a WAL flush per
commit.

``--store N``: the synthetic documents of ``bench/ann_scale.py`` (clustered 384-d unit vectors;
N/4 documents of 4 chunks of 60 Zipf-random words; each document shared with 2 of 200 groups)
written into a ``SqliteStore`` and a ``PostgresStore`` in batches of 500 documents. Then, as
principals who see ~1 %, 5 %, 30 % and 100 % of the documents (1, 5, 33 and 200 groups), the
same queries against both, interleaved query by query so machine load hits both alike:

* dense (k 10, the store's own planner), exact dense (``exact=True``), keyword (k 10) and hybrid
  (``Retriever``, RRF over 50 candidates per signal) latency, p50/p95 ms;
* dense recall@10 against exact search on the same store, and whether the two stores' exact
  top-10s agree;
* which path the planner took: the visible chunk count (from the generator, and counted by the
  same SQL PostgresStore's planner runs) against ``exact_max_visible``;
* the same dense queries on a second handle with ``exact_max_visible = 0``, so the graph walk
  (pgvector's iterative filtered scan, faiss's bitmap filter) is measured at every visibility.

``--scifact``: SciFact (BEIR) indexed once into a SQLite workspace exactly as
``bench/retrieval_beir.py`` does (an existing workspace is reused; ingest is incremental), copied
into PostgreSQL with ``Store.writes`` (no re-embedding), then every test query in each mode
through the same ``Retriever`` and metric code on both. Query vectors are embedded once and
shared, so latencies are the store's and fusion's, not the model's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ann_scale import DIM, clustered  # noqa: E402  (bench/ is not a package)

SHARES = {"1 %": 1, "5 %": 5, "30 %": 33, "100 %": 200}
"""Visibility label -> groups the principal is in (each document is shared with 2 of 200)."""
GROUPS = [f"g{i}" for i in range(200)]
SCHEMA = "bench"


# -- helpers ---------------------------------------------------------------------------------
def ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 2)


def p50_p95(values: list[float]) -> str:
    return f"{ms(values, 50)} / {ms(values, 95)}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


class FixedEmbedder:
    """Hands the retriever a precomputed query vector: the pipeline runs, the model does not."""

    def __init__(self, identity: str, dimension: int, vectors: dict[str, np.ndarray]) -> None:
        self.identity, self.dimension, self.vectors = identity, dimension, vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.vectors[text]


def server_settings(url: str) -> dict[str, str]:
    import psycopg

    names = ["server_version", "shared_buffers", "work_mem", "maintenance_work_mem", "fsync", "synchronous_commit",
             "full_page_writes", "hnsw.iterative_scan", "hnsw.max_scan_tuples", "hnsw.ef_search"]
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("LOAD 'vector'")
        for name in names:
            out[name] = str(conn.execute(f"SHOW {name}").fetchone()[0])
        out["pgvector"] = str(conn.execute("SELECT default_version FROM pg_available_extensions "
                                           "WHERE name = 'vector'").fetchone()[0])
    return out


# -- synthetic store -------------------------------------------------------------------------
def synthetic_batches(n: int, per_doc: int = 4, batch: int = 500) -> list[list]:
    """bench/ann_scale.py's store documents (same seeds, same draws), as write batches."""
    from ragtune.index.base import DocumentWrite
    from ragtune.types import AccessList, Chunk, Document

    rng = np.random.default_rng(5)
    vocabulary = [f"w{i}" for i in range(20_000)]
    weights = 1 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    vectors = clustered(n, seed=1)
    batches, current = [], []
    for doc in range(n // per_doc):
        words = rng.choice(vocabulary, size=per_doc * 60, p=weights)
        parts = [" ".join(words[i * 60 : (i + 1) * 60]) for i in range(per_doc)]
        text = "\n\n".join(parts)
        access = AccessList(frozenset(), frozenset(rng.choice(GROUPS, 2, replace=False)))
        document = Document(f"d{doc}", f"/s/{doc}", text, "text", {"n": doc}, access)
        chunks, start = [], 0
        for part in parts:
            chunks.append(Chunk(Chunk.make_id(document.id, start, start + len(part)), document.id, document.source,
                                part, start, start + len(part)))
            start += len(part) + 2
        current.append(DocumentWrite(document, chunks, vectors[doc * per_doc : (doc + 1) * per_doc], document.source))
        if len(current) == batch:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def synthetic_queries(count: int) -> list[tuple[str, np.ndarray]]:
    """ann_scale.py's query shape: four content words (ranks 200-20,000) and one very common word."""
    rng = np.random.default_rng(7)
    vocabulary = [f"w{i}" for i in range(20_000)]
    vectors = clustered(count, seed=2)
    return [(" ".join([*rng.choice(vocabulary[200:], 4), str(rng.choice(vocabulary[:50]))]), v) for v in vectors]


def ingest_store(store, batches: list[list]) -> dict:  # type: ignore[no-untyped-def]
    """Write every batch (one upsert, i.e. one transaction, per 500 documents) and flush."""
    chunks = sum(len(w.chunks) for b in batches for w in b)
    started = time.perf_counter()
    for i, batch in enumerate(batches, 1):
        store.upsert(batch)
        if i % 10 == 0:
            print(f"  {type(store).__name__}: {sum(len(w.chunks) for b in batches[:i] for w in b)} chunks, {time.perf_counter() - started:.0f} s", flush=True)
    store.flush()
    seconds = time.perf_counter() - started
    return {"chunks": chunks, "seconds": round(seconds, 1), "chunks_per_s": round(chunks / seconds, 1)}


def sqlite_size_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 2**20, 1)


def pg_sizes_mb(url: str, schema: str) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        total = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'", (schema,)
        ).fetchone()[0]
        hnsw = conn.execute("SELECT pg_relation_size(%s::regclass)", (f"{schema}.chunks_hnsw",)).fetchone()[0]
        heap = conn.execute("SELECT pg_table_size(%s::regclass)", (f"{schema}.chunks",)).fetchone()[0]
    return {"schema_mb": round(float(total) / 2**20, 1), "hnsw_mb": round(hnsw / 2**20, 1),
            "chunks_table_mb": round(heap / 2**20, 1)}


def visibility_evidence(url: str, batches: list[list], exact_max_visible: int) -> dict[str, dict]:
    """Visible chunks per principal: from the generator's access lists, and counted in PostgreSQL
    with the statement PostgresStore's planner runs before choosing exact or HNSW."""
    import psycopg

    from ragtune.index.base import principal_keys
    from ragtune.types import Principal

    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for label, groups in SHARES.items():
            principal = Principal("u", frozenset(GROUPS[:groups]))
            truth = sum(len(w.chunks) for b in batches for w in b
                        if w.document.access.allowed_groups & principal.groups)
            counted = int(conn.execute(
                f"SELECT coalesce(sum(v.n_chunks), 0) FROM {SCHEMA}.documents v WHERE EXISTS "
                f"(SELECT 1 FROM {SCHEMA}.document_access a WHERE a.doc = v.doc AND a.principal = ANY(%s))",
                (principal_keys(principal),),
            ).fetchone()[0])
            out[label] = {"visible_chunks": truth, "counted_by_postgres": counted,
                          "path": "exact" if counted <= exact_max_visible else "HNSW"}
    return out


def search_latency(stores: dict, principal, queries: list[tuple[str, np.ndarray]]) -> dict:  # type: ignore[no-untyped-def]
    """Dense, exact dense, keyword and hybrid per store, interleaved per query; recall@10 of the
    planner's dense top-10 against exact, and the exact top-10 ids (to compare stores)."""
    from ragtune.config import RetrievalConfig
    from ragtune.index.base import SearchRequest
    from ragtune.retrieve.retriever import Retriever

    embedder = FixedEmbedder("synthetic", DIM, {t: v for t, v in queries})
    retrievers = {name: Retriever(s, embedder, RetrievalConfig(candidates=50)) for name, s in stores.items()}  # type: ignore[arg-type]
    out: dict[str, dict[str, Any]] = {
        name: {"dense": [], "exact": [], "keyword": [], "hybrid": [], "recall": [], "exact_ids": []} for name in stores
    }
    for text, vector in queries[:5]:  # warm-up: loads SQLite's vector file, fills PostgreSQL's buffers
        for name, store in stores.items():
            store.search(SearchRequest(principal, vector, text, k=10))
            retrievers[name].search(text, principal, k=10, mode="hybrid")
    for text, vector in queries:
        for name, store in stores.items():
            row = out[name]
            started = time.perf_counter()
            dense = store.search(SearchRequest(principal, vector=vector, k=10)).dense
            row["dense"].append(time.perf_counter() - started)
            started = time.perf_counter()
            exact = store.search(SearchRequest(principal, vector=vector, k=10, exact=True)).dense
            row["exact"].append(time.perf_counter() - started)
            started = time.perf_counter()
            store.search(SearchRequest(principal, text=text, k=10))
            row["keyword"].append(time.perf_counter() - started)
            started = time.perf_counter()
            retrievers[name].search(text, principal, k=10, mode="hybrid")
            row["hybrid"].append(time.perf_counter() - started)
            exact_ids = [h.chunk_id for h in exact]
            row["recall"].append(len({h.chunk_id for h in dense} & set(exact_ids)) / max(1, len(exact_ids)))
            row["exact_ids"].append(exact_ids)
    return out


def forced_graph(stores: dict, principal, queries: list[tuple[str, np.ndarray]], exact: dict) -> dict:  # type: ignore[no-untyped-def]
    """Dense search with ``exact_max_visible = 0`` (the graph walk at every visibility):
    p50/p95 and recall@10 against the exact top-10 ids ``search_latency`` found per store."""
    from ragtune.index.base import SearchRequest

    out: dict[str, dict[str, list]] = {name: {"lat": [], "recall": []} for name in stores}
    for _, vector in queries[:5]:
        for store in stores.values():
            store.search(SearchRequest(principal, vector=vector, k=10))
    for i, (_, vector) in enumerate(queries):
        for name, store in stores.items():
            started = time.perf_counter()
            found = store.search(SearchRequest(principal, vector=vector, k=10)).dense
            out[name]["lat"].append(time.perf_counter() - started)
            truth = set(exact[name]["exact_ids"][i])
            out[name]["recall"].append(len({h.chunk_id for h in found} & truth) / max(1, len(truth)))
    return out


def bulk_then_index(url: str, batches: list[list], config) -> dict:  # type: ignore[no-untyped-def]
    """Not what ragtune does: the same writes into a schema whose HNSW index was dropped, then
    ``CREATE INDEX`` once (maintenance_work_mem 1 GB). Measures what maintaining the graph on
    every insert costs against building it in one pass. The schema is dropped afterwards."""
    import psycopg

    from ragtune.index.postgres_store import PostgresStore

    store = PostgresStore(url, "synthetic", DIM, config, schema="bulk", pool_size=2)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX bulk.chunks_hnsw")
    loaded = ingest_store(store, batches)
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        workers = conn.execute("SHOW max_parallel_maintenance_workers").fetchone()[0]
        started = time.perf_counter()
        conn.execute(f"CREATE INDEX chunks_hnsw ON bulk.chunks USING hnsw (embedding vector_ip_ops) "
                     f"WITH (m = {config.m}, ef_construction = {config.ef_construction})")
        index_s = time.perf_counter() - started
        conn.execute("DROP SCHEMA bulk CASCADE")
    total = loaded["seconds"] + index_s
    return {"load_s": loaded["seconds"], "create_index_s": round(index_s, 1), "total_s": round(total, 1),
            "chunks_per_s": round(loaded["chunks"] / total, 1), "parallel_maintenance_workers": workers}


def store_bench(n: int, count: int, url: str, folder: Path, bulk: bool = False) -> dict:
    from ragtune.index.postgres_store import PostgresStore
    from ragtune.index.sqlite_store import SqliteStore
    from ragtune.index.vectors import AnnConfig
    from ragtune.types import Principal

    config = AnnConfig()
    started = time.perf_counter()
    batches = synthetic_batches(n)
    print(f"generated {n} chunks in {time.perf_counter() - started:.1f} s", flush=True)
    result: dict[str, Any] = {"chunks": n, "queries": count, "exact_max_visible": config.exact_max_visible}

    sqlite = SqliteStore(folder / "sqlite", "synthetic", DIM, config)
    result["ingest_sqlite"] = {**ingest_store(sqlite, batches), "size_mb": sqlite_size_mb(folder / "sqlite"),
                               "ann": sqlite.status().ann}
    print("sqlite ingest", result["ingest_sqlite"], flush=True)
    postgres = PostgresStore(url, "synthetic", DIM, config, schema=SCHEMA, pool_size=4)
    result["ingest_postgres"] = {**ingest_store(postgres, batches), **pg_sizes_mb(url, SCHEMA),
                                 "ann": postgres.status().ann}
    print("postgres ingest", result["ingest_postgres"], flush=True)
    result["paths"] = visibility_evidence(url, batches, config.exact_max_visible)
    if bulk:
        result["bulk_postgres"] = bulk_then_index(url, batches, config)
        print("postgres bulk load, then CREATE INDEX", result["bulk_postgres"], flush=True)
    del batches

    queries = synthetic_queries(count)
    stores = {"sqlite": sqlite, "postgres": postgres}
    graph_only = AnnConfig(exact_max_visible=0)
    graph_stores = {"sqlite": SqliteStore(folder / "sqlite", "synthetic", DIM, graph_only),
                    "postgres": PostgresStore(url, "synthetic", DIM, graph_only, schema=SCHEMA, pool_size=2)}
    result["search"], result["graph"] = {}, {}
    for label, groups in SHARES.items():
        principal = Principal("u", frozenset(GROUPS[:groups]))
        started = time.perf_counter()
        measured = search_latency(stores, principal, queries)
        agree = [a == b for a, b in zip(measured["sqlite"]["exact_ids"], measured["postgres"]["exact_ids"])]
        overlap = [len(set(a) & set(b)) / max(1, len(a)) for a, b in
                   zip(measured["sqlite"]["exact_ids"], measured["postgres"]["exact_ids"])]
        result["search"][label] = {
            name: {kind: p50_p95(row[kind]) for kind in ("dense", "exact", "keyword", "hybrid")}
            | {f"{kind}_p50": ms(row[kind], 50) for kind in ("dense", "exact", "keyword", "hybrid")}
            | {"recall@10": round(statistics.fmean(row["recall"]), 4), "min_recall@10": min(row["recall"])}
            for name, row in measured.items()
        }
        result["search"][label]["exact_agreement"] = {"identical_top10": round(statistics.fmean(agree), 4),
                                                      "mean_overlap": round(statistics.fmean(overlap), 4)}
        graph = forced_graph(graph_stores, principal, queries, measured)
        result["graph"][label] = {name: {"p50/p95": p50_p95(row["lat"]), "recall@10": round(statistics.fmean(row["recall"]), 4),
                                         "min_recall@10": min(row["recall"])} for name, row in graph.items()}
        print(f"visibility {label}: {time.perf_counter() - started:.0f} s", flush=True)
    for store in [*graph_stores.values(), sqlite, postgres]:
        store.close()
    return result


def print_store(result: dict) -> None:
    si, pg = result["ingest_sqlite"], result["ingest_postgres"]
    print(f"\n### {result['chunks']:,} chunks, {result['queries']} queries per visibility\n")
    print(table(
        ["store", "chunks", "seconds", "chunks/s", "on disk MB", "vector index"],
        [["SQLite + FTS5 + faiss", si["chunks"], si["seconds"], si["chunks_per_s"], si["size_mb"], si["ann"]],
         ["PostgreSQL + pgvector", pg["chunks"], pg["seconds"], pg["chunks_per_s"],
          f"{pg['schema_mb']} (chunks heap {pg['chunks_table_mb']}, HNSW {pg['hnsw_mb']})", pg["ann"]],
         ["PostgreSQL / SQLite", "", ratio(pg["seconds"], si["seconds"]), ratio(pg["chunks_per_s"], si["chunks_per_s"]),
          ratio(pg["schema_mb"], si["size_mb"]), ""]],
    ))
    if "bulk_postgres" in result:
        b = result["bulk_postgres"]
        print(f"\nPostgreSQL, HNSW dropped, same writes, then CREATE INDEX (not ragtune's path): load {b['load_s']} s + "
              f"index {b['create_index_s']} s = {b['total_s']} s, {b['chunks_per_s']} chunks/s "
              f"({b['parallel_maintenance_workers']} parallel maintenance workers)")
    print()
    print(table(
        ["visibility", "visible chunks", "counted by PostgreSQL's planner SQL", "exact_max_visible", "path"],
        [[label, p["visible_chunks"], p["counted_by_postgres"], result["exact_max_visible"], p["path"]]
         for label, p in result["paths"].items()],
    ))
    print()
    rows = []
    for label, by_store in result["search"].items():
        for name in ("sqlite", "postgres"):
            r = by_store[name]
            rows.append([label, name, r["dense"], r["exact"], r["keyword"], r["hybrid"], r["recall@10"], r["min_recall@10"]])
        s, p = by_store["sqlite"], by_store["postgres"]
        rows.append([label, "**PG / SQLite (p50)**", ratio(p["dense_p50"], s["dense_p50"]),
                     ratio(p["exact_p50"], s["exact_p50"]), ratio(p["keyword_p50"], s["keyword_p50"]),
                     ratio(p["hybrid_p50"], s["hybrid_p50"]), "", ""])
    print(table(["visibility", "store", "dense p50 / p95 ms", "exact dense p50 / p95", "keyword p50 / p95",
                 "hybrid p50 / p95", "dense recall@10", "min recall@10"], rows))
    print()
    print(table(["visibility", "exact top-10 identical (SQLite vs PostgreSQL)", "mean overlap"],
                [[label, by["exact_agreement"]["identical_top10"], by["exact_agreement"]["mean_overlap"]]
                 for label, by in result["search"].items()]))
    print("\nGraph walk forced (exact_max_visible = 0):\n")
    print(table(["visibility", "SQLite p50 / p95 ms", "SQLite recall@10", "PostgreSQL p50 / p95 ms",
                 "PostgreSQL recall@10 (min)"],
                [[label, g["sqlite"]["p50/p95"], g["sqlite"]["recall@10"], g["postgres"]["p50/p95"],
                  f"{g['postgres']['recall@10']} ({g['postgres']['min_recall@10']})"]
                 for label, g in result["graph"].items()]))


# -- SciFact ---------------------------------------------------------------------------------
def scifact_bench(url: str, data: Path, workspace_dir: Path) -> dict:
    """nDCG@10 / recall@100 per mode on both backends with the same chunks and vectors."""
    from retrieval_beir import MODES, load_qrels, mrr, ndcg, recall

    from ragtune.config import ChunkingConfig, IngestConfig, JsonConfig, RagtuneConfig, RetrievalConfig
    from ragtune.index.factory import ann_config
    from ragtune.index.postgres_store import PostgresStore
    from ragtune.ingest.api import ingest
    from ragtune.retrieve.api import open_retriever
    from ragtune.retrieve.retriever import Retriever
    from ragtune.types import Principal
    from ragtune.workspace import Workspace

    queries = {}
    for line in (data / "queries.jsonl").read_text().splitlines():
        record = json.loads(line)
        queries[record["_id"]] = record["text"]
    qrels = load_qrels(data / "qrels" / "test.tsv")
    config = RagtuneConfig(  # bench/retrieval_beir.py's settings
        ingest=IngestConfig(json=JsonConfig(text_fields=["title", "text"], id_field="_id")),
        chunking=ChunkingConfig(strategy="recursive", chunk_tokens=254, overlap_tokens=20),
        retrieval=RetrievalConfig(candidates=100),
    )
    workspace = Workspace(workspace_dir)
    started = time.perf_counter()
    report = ingest(workspace, [data / "corpus.jsonl"], config=config)
    ingest_s = time.perf_counter() - started
    print(f"sqlite workspace {workspace_dir}: {report.documents} documents, {report.chunks} chunks, "
          f"{ingest_s:.1f} s (incremental)", flush=True)
    retriever = open_retriever(workspace, config)
    sqlite, embedder = retriever.store, retriever.embedder
    postgres = PostgresStore(url, embedder.identity, embedder.dimension, ann_config(config), schema="scifact")
    started = time.perf_counter()
    for batch in sqlite.writes(200):
        postgres.upsert(batch)
    copy_s = time.perf_counter() - started
    status = postgres.status()
    print(f"copied into PostgreSQL: {status.documents} documents, {status.chunks} chunks, {copy_s:.1f} s", flush=True)
    vectors = {queries[q]: embedder.embed_query(queries[q]) for q in qrels}
    fixed = FixedEmbedder(embedder.identity, embedder.dimension, vectors)
    principal = Principal("bench")
    stores = {"sqlite": sqlite, "postgres": postgres}
    result: dict[str, Any] = {"chunks": status.chunks, "documents": status.documents, "queries": len(qrels),
                              "copy_s": round(copy_s, 1), "embedder": embedder.identity, "modes": {}}
    for name, settings in MODES.items():
        options = {k: v for k, v in settings.items() if k != "mode"}
        retrievers = {b: Retriever(s, fixed, RetrievalConfig(candidates=100, **options)) for b, s in stores.items()}  # type: ignore[arg-type]
        scores = {b: {"ndcg": [], "r10": [], "r100": [], "mrr": [], "lat": []} for b in stores}
        overlap = []
        for query_id, relevant in qrels.items():
            ranked_by = {}
            for backend, r in retrievers.items():
                begun = time.perf_counter()
                hits = r.search(queries[query_id], principal, k=100, mode=settings["mode"]).hits
                scores[backend]["lat"].append(time.perf_counter() - begun)
                ranked = list(dict.fromkeys(h.source.rsplit("#_id=", 1)[1] for h in hits))
                ranked_by[backend] = ranked
                scores[backend]["ndcg"].append(ndcg(ranked, relevant, 10))
                scores[backend]["r10"].append(recall(ranked, relevant, 10))
                scores[backend]["r100"].append(recall(ranked, relevant, 100))
                scores[backend]["mrr"].append(mrr(ranked, relevant, 10))
            overlap.append(len(set(ranked_by["sqlite"][:10]) & set(ranked_by["postgres"][:10])) / 10)
        result["modes"][name] = {
            b: {"ndcg@10": round(statistics.fmean(s["ndcg"]), 4), "recall@10": round(statistics.fmean(s["r10"]), 4),
                "recall@100": round(statistics.fmean(s["r100"]), 4), "mrr@10": round(statistics.fmean(s["mrr"]), 4),
                "p50_ms": ms(s["lat"], 50), "p95_ms": ms(s["lat"], 95)}
            for b, s in scores.items()
        } | {"top10_overlap": round(statistics.fmean(overlap), 4)}
        print(f"{name}: done", flush=True)
    postgres.close()
    retriever.close()
    return result


def print_scifact(result: dict) -> None:
    print(f"\n### SciFact: {result['documents']:,} abstracts, {result['chunks']:,} chunks, {result['queries']} test "
          f"queries, embedder {result['embedder']}; copy into PostgreSQL {result['copy_s']} s\n")
    rows = []
    for name, m in result["modes"].items():
        for backend, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
            r = m[backend]
            rows.append([name, label, f"{r['ndcg@10']:.4f}", f"{r['recall@10']:.4f}", f"{r['recall@100']:.4f}",
                         f"{r['mrr@10']:.4f}", f"{r['p50_ms']} / {r['p95_ms']}", ""])
        s, p = m["sqlite"], m["postgres"]
        rows.append([name, "PG − SQLite", f"{p['ndcg@10'] - s['ndcg@10']:+.4f}", f"{p['recall@10'] - s['recall@10']:+.4f}",
                     f"{p['recall@100'] - s['recall@100']:+.4f}", f"{p['mrr@10'] - s['mrr@10']:+.4f}",
                     ratio(p["p50_ms"], s["p50_ms"]) + " p50", f"{m['top10_overlap']:.3f}"])
    print(table(["mode", "backend", "nDCG@10", "recall@10", "recall@100", "MRR@10", "p50 / p95 ms",
                 "top-10 document overlap"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=int, default=100_000, help="synthetic chunks (0: skip)")
    parser.add_argument("--queries", type=int, default=200, help="queries per visibility")
    parser.add_argument("--bulk", action="store_true",
                        help="also time PostgreSQL loading without HNSW, then CREATE INDEX once")
    parser.add_argument("--scifact", action="store_true", help="also SciFact quality on both backends")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/scifact")
    parser.add_argument("--workspace", type=Path,
                        default=Path(os.environ.get("BENCH_TMP", tempfile.gettempdir())) / "ragtune-bench-scifact",
                        help="the SciFact SQLite workspace (kept and reused between runs)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from ragtune.testing.postgres import PostgresServer, PostgresUnavailable

    results: dict[str, Any] = {}
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        sys.exit(f"skipped: {exc}")
    try:
        results["server"] = server_settings(server.url)
        print("server:", json.dumps(results["server"]), flush=True)
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            if args.store:
                results["store"] = store_bench(args.store, args.queries, server.url, Path(tmp), args.bulk)
                print_store(results["store"])
        if args.scifact:
            if not (args.data / "corpus.jsonl").exists():
                print(f"\nSciFact skipped: no BEIR data set at {args.data} (the shared data sets live beside the "
                      "repository)")
            else:
                results["scifact"] = scifact_bench(server.url, args.data, args.workspace)
                print_scifact(results["scifact"])
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
