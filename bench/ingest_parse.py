"""Parsing + chunking throughput (no embedding): documents/s and chunks/s.

    python bench/ingest_parse.py [--data ../shared/datasets] [--repeat 3]

COVID-QA: the 96+ long articles written as .txt files, then loaded and chunked.
SciFact: corpus.jsonl (5,183 abstracts) through the JSONL loader, one document per record.
Prints the median of --repeat runs; the first run also warms the tokenizer.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ragtune.chunk.factory import build_chunker
from ragtune.config import JsonConfig, RagtuneConfig
from ragtune.ingest.pipeline import IngestPipeline

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def measure(config: RagtuneConfig, paths: list[Path], repeat: int) -> dict[str, float]:
    chunker = build_chunker(config.chunking, config.embedder)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        report = IngestPipeline(config.ingest, chunker).run(paths)
        seconds = time.perf_counter() - started
        assert report.failed == 0, report.errors[:3]
        runs.append((seconds, report.documents, report.chunks))
    seconds = statistics.median(r[0] for r in runs)
    _, documents, chunks = runs[0]
    return {
        "documents": documents,
        "chunks": chunks,
        "seconds": round(seconds, 3),
        "documents_per_s": round(documents / seconds, 1),
        "chunks_per_s": round(chunks / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.data / "covidqa").is_dir() or not (args.data / "scifact").is_dir():
        print(f"skipped: data sets not found under {args.data}", file=sys.stderr)
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "covidqa"
        folder.mkdir()
        data = json.loads((args.data / "covidqa" / "covidqa.json").read_text())
        contexts = [p["context"] for a in data["data"] for p in a["paragraphs"]]
        for i, text in enumerate(contexts):
            (folder / f"article_{i:03d}.txt").write_text(text, encoding="utf-8")
        results["covidqa (txt files)"] = measure(RagtuneConfig(), [folder], args.repeat)

    scifact = RagtuneConfig()
    scifact.ingest.json_records = JsonConfig(text_fields=["title", "text"], id_field="_id")
    results["scifact (corpus.jsonl)"] = measure(scifact, [args.data / "scifact" / "corpus.jsonl"], args.repeat)

    print(f"{'corpus':<24}{'docs':>7}{'chunks':>8}{'seconds':>9}{'docs/s':>10}{'chunks/s':>10}")
    for name, r in results.items():
        print(f"{name:<24}{r['documents']:>7}{r['chunks']:>8}{r['seconds']:>9}"
              f"{r['documents_per_s']:>10}{r['chunks_per_s']:>10}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
