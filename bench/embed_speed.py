"""Embedding throughput: sentence-transformers (torch) vs ONNX Runtime fp32 vs ONNX Runtime int8.

    python bench/embed_speed.py [--n 500] [--threads 1 2] [--batch 32] [--repeat 1] [--data ../shared/datasets]

Embeds the first N SciFact abstracts (title and text, no chunking: the model truncates at 256
tokens) with each runtime and thread count, and prints texts/s, the speed-up over torch at the
same thread count, and the cosine of every vector to torch's (min and mean). Each timing is
the median of --repeat runs after one small warm-up call; the runtimes take turns within each
repeat, so a change in machine load hits all of them alike. The ONNX export goes to a temporary
cache, so its one-time cost is reported too, and so is each runtime's cold start: a new
process importing ragtune and answering its first query (what ``ragtune search`` pays).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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


def load_abstracts(corpus: Path, n: int) -> list[str]:
    texts = []
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            # Joined as ragtune's JSONL loader joins text fields.
            texts.append(f"{record.get('title', '')}\n\n{record.get('text', '')}".strip())
            if len(texts) == n:
                break
    return texts


def timed_in_turns(embedders: dict[str, object], texts: list[str], repeat: int) -> dict[str, tuple[float, np.ndarray]]:
    for embedder in embedders.values():
        embedder.embed(texts[:8])  # warm-up: first-call allocations and lazy initialisation
    runs: dict[str, list[float]] = {name: [] for name in embedders}
    vectors = {}
    for _ in range(repeat):
        for name, embedder in embedders.items():
            started = time.perf_counter()
            vectors[name] = embedder.embed(texts)
            runs[name].append(time.perf_counter() - started)
    return {name: (statistics.median(runs[name]), vectors[name]) for name in embedders}


COLD_START = """
import sys, time
started = time.perf_counter()
from pathlib import Path
from ragtune.embed.{module} import {cls}
{cls}({args}).embed_query("how do vaccines work?")
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: a child inherits its parent's ru_maxrss across fork and exec.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(seconds, peak_kb / 1024)
"""


def cold_start(module: str, cls: str, args: str) -> tuple[float, float]:
    """Seconds and peak resident MB of a new process answering its first query."""
    code = COLD_START.format(module=module, cls=cls, args=args)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds, megabytes = result.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(megabytes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    corpus = args.data / "scifact" / "corpus.jsonl"
    if not corpus.is_file():
        print(f"skipped: SciFact corpus not found at {corpus}", file=sys.stderr)
        return 0
    texts = load_abstracts(corpus, args.n)
    print(f"{len(texts)} SciFact abstracts, batch {args.batch}, load average at start {os.getloadavg()[0]:.2f}")

    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        OnnxEmbedder(cache_dir=Path(cache))
        export_s = time.perf_counter() - started
        started = time.perf_counter()
        OnnxEmbedder(cache_dir=Path(cache), quantize=True)
        quantize_s = time.perf_counter() - started
        print(f"one-time ONNX export {export_s:.1f} s, int8 quantisation {quantize_s:.1f} s")
        starts = {
            "sentence-transformers (torch)": cold_start("sentence_transformers", "SentenceTransformerEmbedder", ""),
            "ONNX Runtime fp32": cold_start("onnx", "OnnxEmbedder", f"cache_dir=Path({cache!r})"),
            "ONNX Runtime int8": cold_start("onnx", "OnnxEmbedder", f"cache_dir=Path({cache!r}), quantize=True"),
        }

        rows, reference = [], None
        for threads in args.threads:
            runtimes = {
                "sentence-transformers (torch)": lambda t=threads: SentenceTransformerEmbedder(batch_size=args.batch, threads=t),
                "ONNX Runtime fp32": lambda t=threads: OnnxEmbedder(batch_size=args.batch, threads=t, cache_dir=Path(cache)),
                "ONNX Runtime int8": lambda t=threads: OnnxEmbedder(
                    batch_size=args.batch, threads=t, cache_dir=Path(cache), quantize=True
                ),
            }
            torch_rate = None
            timings = timed_in_turns({name: build() for name, build in runtimes.items()}, texts, args.repeat)
            for name, (seconds, vectors) in timings.items():
                rate = len(texts) / seconds
                if torch_rate is None:
                    torch_rate = rate
                    reference = vectors if reference is None else reference
                cosine = np.sum(vectors * reference, axis=1)
                rows.append((name, threads, rate, rate / torch_rate, float(cosine.min()), float(cosine.mean())))
                print(f"  {name}, {threads} thread(s): {rate:.1f} texts/s", flush=True)

    print(f"\nload average at end {os.getloadavg()[0]:.2f}\n")
    print("| runtime | threads | texts/s | vs torch | min cosine to torch | mean cosine to torch |")
    print("|---|---|---|---|---|---|")
    for name, threads, rate, ratio, low, mean in rows:
        print(f"| {name} | {threads} | {rate:.1f} | {ratio:.2f}× | {low:.5f} | {mean:.5f} |")
    print("\n| runtime | new process to first query vector (s) | peak memory (MB) |\n|---|---|---|")
    for name, (seconds, megabytes) in starts.items():
        print(f"| {name} | {seconds:.2f} | {megabytes:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
