"""SciFact: hybrid retrieval with and without a trained cross-encoder reranking the top 30.

    .venv/bin/python bench/reranker_scifact.py --workspace /tmp/rerankws [--max-steps 300] [--reader NAME@vN]

1. Trains a reader (``ragtune tune reader --beir``) on the **train** qrels only: positives are the
   judged abstracts, hard negatives BM25 hits that are not judged relevant. Its validation
   accuracy@1 / MRR (a held-out share of the train queries) is printed beside the untrained
   baseline (MiniLM bi-encoder cosine). ``--reader NAME@vN`` skips training and reuses one.
2. Evaluates the **test** qrels through ``ragtune.evaluate.api.run_retrieval_eval`` (the code
   behind ``ragtune eval retrieval``) with the settings of ``bench/retrieval_beir.py``: recursive
   chunks of 254 tokens with 20 overlap, 100 candidates per signal. Variants: hybrid RRF k=60
   (the default), hybrid weighted 0.5/0.5 (the tuned fusion), and RRF + the reader on the top 30.
   A document ranks where its best chunk ranks. Latency is per query; ``rerank`` is the reranking
   stage alone.

Keep ``--workspace`` to reuse the index (embedding 9,978 chunks takes minutes) and the reader.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ragtune.config import ChunkingConfig, RagtuneConfig, RetrievalConfig
from ragtune.evaluate.api import run_retrieval_eval
from ragtune.evaluate.data import from_beir
from ragtune.evaluate.variants import Variant
from ragtune.tune.api import registry, tune_reader
from ragtune.tune.reader import beir_data
from ragtune.tune.reader_config import ReaderTuneConfig
from ragtune.registry.references import reader_folder
from ragtune.workspace import Workspace


def train(workspace: Workspace, data_dir: Path, args: argparse.Namespace) -> str:
    config = ReaderTuneConfig(negatives=args.negatives, epochs=args.epochs, max_steps=args.max_steps,
                              batch_size=args.batch_size, learning_rate=args.lr, max_length=args.max_length, seed=0)
    started = time.perf_counter()
    data = beir_data(data_dir, "train", config)
    print(f"reader data: {len(data.examples)} train queries ({len(data.skipped)} skipped), "
          f"{config.negatives} BM25 negatives each from the top {config.negative_depth}, "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    entry, result = tune_reader(workspace, data, "scifact-reader", config, progress=not args.quiet)
    m = result.metrics
    print(f"trained {entry.ref}: {result.train_pairs} pairs, {result.steps} steps on {result.device}, "
          f"{result.train_seconds:.0f} s; validation ({result.validation_questions} train-split queries held out): "
          f"accuracy@1 {m.get('accuracy@1')} (untrained bi-encoder {m.get('accuracy@1_base')}), "
          f"MRR {m.get('mrr')} ({m.get('mrr_base')})", flush=True)
    return entry.ref


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/scifact")
    parser.add_argument("--workspace", type=Path, required=True, help="holds (and reuses) the index and the reader")
    parser.add_argument("--reader", help="reuse this registered reader (NAME@vN) instead of training one")
    parser.add_argument("--negatives", type=int, default=4)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="cap training (CPU time)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=128, help="training tokens per pair (reranking reads 256)")
    parser.add_argument("--top-n", type=int, default=30, help="hits reranked")
    parser.add_argument("--limit", type=int, help="evaluate this many test queries (seeded sample)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if not (args.data / "corpus.jsonl").is_file() or not (args.data / "qrels" / "train.tsv").is_file():
        sys.exit(f"skipped: no SciFact (BEIR layout with qrels/train.tsv) at {args.data}; "
                 "the shared data sets live beside the repository (../shared/datasets)")
    args.workspace.mkdir(parents=True, exist_ok=True)
    workspace = Workspace(args.workspace)
    ref = args.reader or train(workspace, args.data, args)
    folder = str(reader_folder(registry(workspace).get(ref), "--reader"))

    config = RagtuneConfig(chunking=ChunkingConfig(strategy="recursive", chunk_tokens=254, overlap_tokens=20),
                           retrieval=RetrievalConfig(candidates=100))
    data = from_beir(args.data, "test", limit=args.limit)
    rerank = {"retrieval.rerank_model": folder, "retrieval.rerank_top_n": args.top_n}
    variants = [
        Variant("hybrid rrf k=60", {}),
        Variant("hybrid weighted 0.5/0.5", {"retrieval.fusion": "weighted", "retrieval.dense_weight": 0.5,
                                            "retrieval.bm25_weight": 0.5}),
        Variant(f"hybrid rrf k=60 + {ref} top {args.top_n}", rerank),
    ]
    embedded = [0]

    def on_embedded(n: int) -> None:
        embedded[0] += n
        if not args.quiet:
            print(f"  embedded {embedded[0]} chunks", end="\r", flush=True)

    def track(items, description, total):  # type: ignore[no-untyped-def]
        begun = time.perf_counter()
        yield from items
        print(f"  {description}: {total} queries in {time.perf_counter() - begun:.0f} s", flush=True)

    started = time.perf_counter()
    run = run_retrieval_eval(workspace, data, variants, config=config, save=False, track=track, on_embedded=on_embedded)
    print(f"\nevaluated {len(data.items)} test queries in {time.perf_counter() - started:.0f} s (ingest included)")
    print("| variant | nDCG@10 | recall@10 | recall@100 | MRR@10 | rerank p50 ms | rerank p95 ms | total p50 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, summary in run.summary.items():
        metrics, latency = summary["metrics"], summary["latency_ms"]
        rerank_ms = latency.get("rerank", {})
        cells = [f"{metrics[k]:.4f}" for k in ("ndcg@10", "recall@10", "recall@100", "mrr@10")]
        cells += [f"{rerank_ms['p50']:.0f}" if rerank_ms else "–", f"{rerank_ms['p95']:.0f}" if rerank_ms else "–",
                  f"{latency['total']['p50']:.0f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
