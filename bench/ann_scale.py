"""Dense search at scale: latency and recall@10 against exact search, with visibility filters.

    .venv/bin/python bench/ann_scale.py --sizes 100000 1000000 --queries 200

Synthetic clustered 384-d unit vectors (sentence embeddings are clustered; uniform random
vectors are a pathological worst case for every graph index). Visibility filters select a random
1 %, 5 % or 30 % of positions, like access lists scattered over a corpus. Each size is measured
in a fresh process that loads the saved index, so "peak RSS" is what a search process needs.
With --store N it also builds a full SqliteStore of N chunks (Zipf-distributed random words,
4 chunks per document, each document shared with 2 of 200 groups) and times hybrid search
(dense + BM25 in one snapshot, RRF over 50 candidates each) as a principal who sees all of it
or ~5 % of it. Queries: four content words plus one very common word.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384
SHARES = (1.0, 0.30, 0.05, 0.01)


def clustered(n: int, seed: int, clusters: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(12345).standard_normal((clusters, DIM)).astype(np.float32)
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        which = rng.integers(0, clusters, stop - start)
        block = centers[which] + 0.7 * rng.standard_normal((stop - start, DIM)).astype(np.float32)
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def build(n: int, path: Path, config) -> dict:  # type: ignore[no-untyped-def]
    from ragtune.index.vectors import VectorIndex

    vectors = clustered(n, seed=1)
    started = time.perf_counter()
    index = VectorIndex(DIM, config)
    for start in range(0, n, 50_000):
        index.add(vectors[start : start + 50_000])
    seconds = time.perf_counter() - started
    index.save(path, {"generation": 0})
    return {"build_s": round(seconds, 1), "file_mb": round(path.stat().st_size / 2**20, 1)}


def measure(n: int, path: Path, queries: int, config) -> dict:  # type: ignore[no-untyped-def]
    from ragtune.index.vectors import VectorIndex

    index = VectorIndex.load(path, DIM, config)
    qs = clustered(queries, seed=2)
    rng = np.random.default_rng(3)
    rows = {}
    for share in SHARES:
        mask = np.ones(n, bool) if share == 1.0 else rng.random(n) < share
        latencies, recalls = [], []
        for q in qs:
            started = time.perf_counter()
            found, _ = index.search(q, 10, mask)
            latencies.append(time.perf_counter() - started)
            exact, _ = index.search(q, 10, mask, exact=True)
            recalls.append(len(set(found.tolist()) & set(exact.tolist())) / max(1, len(exact)))
        rows[f"{share:.0%}"] = {
            "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 3),
            "p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 3),
            "recall@10": round(float(np.mean(recalls)), 4),
        }
    exact_lat = []
    for q in qs[:50]:
        started = time.perf_counter()
        index.search(q, 10, np.ones(n, bool), exact=True)
        exact_lat.append(time.perf_counter() - started)
    rows["numpy exact (100%)"] = {"p50_ms": round(float(np.percentile(exact_lat, 50)) * 1000, 3)}
    rows["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return rows


VOCABULARY = [f"w{i}" for i in range(20_000)]
GROUPS = [f"g{i}" for i in range(200)]
PER_DOC = 4


def synthetic_store(n: int, folder: Path):  # type: ignore[no-untyped-def]
    """A SqliteStore of n chunks of 60 Zipf-random words, 4 per document, each document shared
    with 2 of 200 groups. Reopened as it is when ``folder`` already holds one of n chunks."""
    from ragtune.index.base import DocumentWrite
    from ragtune.index.sqlite_store import SqliteStore
    from ragtune.types import AccessList, Chunk, Document

    if (folder / "ragtune.db").exists():
        store = SqliteStore(folder, "synthetic", DIM)
        if store.status().chunks == n:
            return store, 0.0
        raise SystemExit(f"{folder} holds {store.status().chunks} chunks, not {n}: give an empty --store-dir")
    rng = np.random.default_rng(5)
    weights = 1 / np.arange(1, len(VOCABULARY) + 1)
    weights /= weights.sum()
    vectors = clustered(n, seed=1)
    started = time.perf_counter()
    store = SqliteStore(folder, "synthetic", DIM)
    batch = []
    for doc in range(n // PER_DOC):
        words = rng.choice(VOCABULARY, size=PER_DOC * 60, p=weights)
        parts = [" ".join(words[i * 60 : (i + 1) * 60]) for i in range(PER_DOC)]
        text = "\n\n".join(parts)
        access = AccessList(frozenset(), frozenset(rng.choice(GROUPS, 2, replace=False)))
        document = Document(f"d{doc}", f"/s/{doc}", text, "text", {"n": doc}, access)
        chunks, start = [], 0
        for part in parts:
            chunks.append(
                Chunk(
                    Chunk.make_id(document.id, start, start + len(part)),
                    document.id,
                    document.source,
                    part,
                    start,
                    start + len(part),
                )
            )
            start += len(part) + 2
        batch.append(DocumentWrite(document, chunks, vectors[doc * PER_DOC : (doc + 1) * PER_DOC], document.source))
        if len(batch) == 500:
            store.upsert(batch)
            batch = []
    store.upsert(batch)
    store.flush()
    return store, time.perf_counter() - started


def query_texts(queries: int) -> list[str]:
    """Four content words (frequency ranks 200-20,000) and one very common word (rank < 50)."""
    rng = np.random.default_rng(6)
    return [" ".join([*rng.choice(VOCABULARY[200:], 4), str(rng.choice(VOCABULARY[:50]))]) for _ in range(queries)]


PRINCIPALS = {
    "all 200 groups (100 %)": frozenset(GROUPS),
    "5 of 200 groups (~5 %)": frozenset(GROUPS[:5]),
}


def store_bench(n: int, queries: int, folder: Path) -> dict:
    from ragtune.config import RetrievalConfig
    from ragtune.retrieve.retriever import Retriever
    from ragtune.types import Principal

    store, build = synthetic_store(n, folder)
    retriever = Retriever(store, None, RetrievalConfig(candidates=50))
    qs = clustered(queries, seed=2)
    texts = query_texts(queries)
    out = {
        "chunks": n,
        "build_s": round(build, 1),
        "db_mb": round(sum(p.stat().st_size for p in folder.iterdir()) / 2**20, 1),
    }
    for name, groups in PRINCIPALS.items():
        principal = Principal("u", groups)
        for mode in ("bm25", "hybrid"):
            latencies = []
            for q, query_text in zip(qs, texts):

                class Fixed:  # the query vector is synthetic: skip the model, keep the pipeline
                    identity, dimension = "synthetic", DIM

                    @staticmethod
                    def embed_query(_text: str, _q=q) -> np.ndarray:
                        return _q

                retriever.embedder = Fixed()  # type: ignore[assignment]
                started = time.perf_counter()
                retriever.search(query_text, principal, k=10, mode=mode)
                latencies.append(time.perf_counter() - started)
            out[f"{mode} p50/p95 ms, {name}"] = (
                round(float(np.percentile(latencies, 50)) * 1000, 2),
                round(float(np.percentile(latencies, 95)) * 1000, 2),
            )
    store.close()
    return out


def main() -> None:
    from ragtune.index.vectors import AnnConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--store", type=int, default=0, help="also time hybrid search over a full store of N chunks")
    parser.add_argument("--store-dir", type=Path, help="keep (or reuse) the --store database here")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = AnnConfig(hnsw_min_vectors=0)
    if args.child:  # a fresh process: load and search only
        n, path = int(args.child[0]), Path(args.child[1])
        print(json.dumps(measure(n, path, args.queries, config)))
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"v{n}.faiss"
            built = build(n, path, config)
            child = subprocess.run(
                [sys.executable, __file__, "--queries", str(args.queries), "--child", str(n), str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            print(json.dumps({"vectors": n, **built, **json.loads(child.stdout)}, indent=1), flush=True)
            path.unlink()
        if args.store:
            folder = args.store_dir or Path(tmp) / "store"
            print(json.dumps(store_bench(args.store, args.queries, folder), indent=1), flush=True)


if __name__ == "__main__":
    main()
