"""Retrieval quality of each embedder runtime: nDCG@10 on SciFact test queries.

    python bench/embed_quality.py [--docs 1000] [--threads 2] [--data ../shared/datasets]

To keep the run short the corpus is cut to --docs abstracts: every document relevant to a test
query, then the corpus's first other abstracts. Search is brute-force cosine, so only the
embedder differs between rows. Queries are embedded one at a time, as at search time.
The absolute numbers are higher than on the full 5,183-abstract corpus (fewer distractors);
compare rows with each other, not with published SciFact scores.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ragtune.embed.onnx import OnnxEmbedder  # noqa: E402
from ragtune.embed.sentence_transformers import SentenceTransformerEmbedder  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def load(folder: Path, n_docs: int) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, int]]]:
    qrels: dict[str, dict[str, int]] = {}
    with (folder / "qrels" / "test.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    relevant = {doc for docs in qrels.values() for doc in docs}
    docs: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    with (folder / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            text = f"{record.get('title', '')}\n\n{record.get('text', '')}".strip()
            if record["_id"] in relevant:
                docs[record["_id"]] = text
            elif len(others) < n_docs:
                others.append((record["_id"], text))
    for doc_id, text in others[: max(0, n_docs - len(docs))]:
        docs[doc_id] = text
    queries = {}
    with (folder / "queries.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record["_id"] in qrels:
                queries[record["_id"]] = record["text"]
    return docs, queries, qrels


def ndcg_at_10(ranked: list[str], gains: dict[str, int]) -> float:
    dcg = sum(gains.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:10]))
    ideal = sum(g / math.log2(rank + 2) for rank, g in enumerate(sorted(gains.values(), reverse=True)[:10]))
    return dcg / ideal if ideal else 0.0


def evaluate(embedder, docs: dict[str, str], queries: dict[str, str], qrels) -> tuple[float, float]:
    started = time.perf_counter()
    doc_ids = list(docs)
    matrix = embedder.embed([docs[d] for d in doc_ids])
    scores = []
    for query_id, text in queries.items():
        similarity = matrix @ embedder.embed_query(text)
        top = np.argsort(-similarity)[:10]
        scores.append(ndcg_at_10([doc_ids[i] for i in top], qrels[query_id]))
    return float(np.mean(scores)), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    folder = args.data / "scifact"
    if not (folder / "qrels" / "test.tsv").is_file():
        print(f"skipped: SciFact not found at {folder}", file=sys.stderr)
        return 0
    docs, queries, qrels = load(folder, args.docs)
    print(f"{len(queries)} test queries over {len(docs)} abstracts, {args.threads} thread(s)")
    with tempfile.TemporaryDirectory() as cache:
        runtimes = {
            "sentence-transformers (torch)": lambda: SentenceTransformerEmbedder(threads=args.threads),
            "ONNX Runtime fp32": lambda: OnnxEmbedder(threads=args.threads, cache_dir=Path(cache)),
            "ONNX Runtime int8": lambda: OnnxEmbedder(threads=args.threads, cache_dir=Path(cache), quantize=True),
        }
        rows = []
        for name, build in runtimes.items():
            score, seconds = evaluate(build(), docs, queries, qrels)
            rows.append((name, score, seconds))
            print(f"  {name}: nDCG@10 {score:.4f} ({seconds:.0f} s)", flush=True)
    print("\n| runtime | nDCG@10 | seconds (embed + search) |\n|---|---|---|")
    for name, score, seconds in rows:
        print(f"| {name} | {score:.4f} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
