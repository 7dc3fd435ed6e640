"""Retrieval quality and latency on a BEIR data set, through ragtune's own ingest and search.

    .venv/bin/python bench/retrieval_beir.py --data ../shared/datasets/scifact

Ingests ``corpus.jsonl`` (title + text; the record id ends each source as ``#_id=<id>``) into a workspace,
then runs every test query as a principal in each mode and scores the ranked *documents*
(a document ranks where its best chunk ranks) against ``qrels/<split>.tsv``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ragtune.config import ChunkingConfig, IngestConfig, JsonConfig, RagtuneConfig, RetrievalConfig
from ragtune.ingest.api import ingest
from ragtune.retrieve.api import open_retriever
from ragtune.types import Principal
from ragtune.workspace import Workspace

MODES = {
    "bm25": {"mode": "bm25"},
    "dense": {"mode": "dense"},
    "hybrid rrf k=60": {"mode": "hybrid", "fusion": "rrf", "rrf_k": 60},
    "hybrid rrf k=10": {"mode": "hybrid", "fusion": "rrf", "rrf_k": 10},
    "hybrid weighted 0.5/0.5": {"mode": "hybrid", "fusion": "weighted", "dense_weight": 0.5, "bm25_weight": 0.5},
}


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text().splitlines()[1:]:
        query, doc, score = line.split("\t")[:3]
        if int(score) > 0:
            qrels.setdefault(query, {})[doc] = int(score)
    return qrels


def ndcg(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def mrr(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranked[:k]) if d in relevant), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/scifact")
    parser.add_argument("--split", default="test")
    parser.add_argument("--workspace", type=Path, help="reuse (or keep) the index here")
    parser.add_argument("--chunk-tokens", type=int, default=254)
    parser.add_argument("--backend", default="auto", help="embedder backend (auto, onnx, sentence-transformers)")
    parser.add_argument("--modes", nargs="*", default=list(MODES))
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"skipped: no BEIR data set at {args.data} (the shared data sets live beside the repository)")
    queries = {}
    for line in (args.data / "queries.jsonl").read_text().splitlines():
        record = json.loads(line)
        queries[record["_id"]] = record["text"]
    qrels = load_qrels(args.data / "qrels" / f"{args.split}.tsv")
    config = RagtuneConfig(
        ingest=IngestConfig(json=JsonConfig(text_fields=["title", "text"], id_field="_id")),
        chunking=ChunkingConfig(strategy="recursive", chunk_tokens=args.chunk_tokens, overlap_tokens=20),
        retrieval=RetrievalConfig(candidates=100),
    )
    config.embedder.backend = args.backend
    tmp = None
    if args.workspace is None:
        tmp = tempfile.TemporaryDirectory()
        args.workspace = Path(tmp.name)
    workspace = Workspace(args.workspace)
    started = time.perf_counter()
    report = ingest(workspace, [args.data / "corpus.jsonl"], config=config)
    print(
        f"ingest: {report.documents} documents, {report.chunks} chunks, {report.index}, "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    retriever = open_retriever(workspace, config)
    principal = Principal("bench")
    print(f"embedder: {retriever.embedder.identity}; queries: {len(qrels)}")
    print("| mode | nDCG@10 | recall@10 | recall@100 | MRR@10 | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for name in args.modes:
        for key, value in MODES[name].items():
            setattr(retriever.config, key, value)
        mode = MODES[name]["mode"]
        scores = {"ndcg": [], "r10": [], "r100": [], "mrr": []}
        latencies = []
        for query_id, relevant in qrels.items():
            begun = time.perf_counter()
            hits = retriever.search(queries[query_id], principal, k=100, mode=mode).hits
            latencies.append(time.perf_counter() - begun)
            ranked = list(dict.fromkeys(h.source.rsplit("#_id=", 1)[1] for h in hits))
            scores["ndcg"].append(ndcg(ranked, relevant, 10))
            scores["r10"].append(recall(ranked, relevant, 10))
            scores["r100"].append(recall(ranked, relevant, 100))
            scores["mrr"].append(mrr(ranked, relevant, 10))
        mean = {k: statistics.fmean(v) for k, v in scores.items()}
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p95 = latencies[int(len(latencies) * 0.95)] * 1000
        print(
            f"| {name} | {mean['ndcg']:.4f} | {mean['r10']:.4f} | {mean['r100']:.4f} | {mean['mrr']:.4f} | {p50:.1f} | {p95:.1f} |",
            flush=True,
        )
    retriever.store.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
