"""The ingest planner at scale: planning (and re-ingesting) a large corpus where nothing changed.

    .venv/bin/python bench/plan_scale.py --files 10000
    .venv/bin/python bench/plan_scale.py --files 100000 --backend sqlite,postgres

Generates ``--files`` small text files (200–500 bytes of random words, deterministic) in nested
folders of 1,000 (``root/d000/f000000.txt``) under a temporary folder, ingests them once with the
model-free hashing embedder (``EmbedderConfig(backend="hashing")``, local executor) into a fresh
SQLite workspace (and/or a fresh schema of a throwaway PostgreSQL), then, in a **new process**
so that its peak RSS is the planner's and not the first ingest's:

* ``store.source_fingerprints()`` alone (the one store query the plan makes), and a bare walk
  (``PathSource.walk``, no hashing), for the breakdown;
* ``plan_ingest`` on the unchanged corpus: wall time; RSS before and after, and the process's
  peak RSS during the plan (VmHWM, the counter behind ``ru_maxrss``, reset to the current RSS
  through ``/proc/self/clear_refs`` just before the plan) minus the RSS before; ``ru_maxrss`` is
  printed too, but in a child process it is floored at the parent's RSS at fork (see ``hwm_mb``);
* ``plan_ingest`` again under ``tracemalloc``: the peak and retained size of the plan's own
  Python allocations (tracemalloc slows it down; its wall time is printed but is not the figure);
* closing the store the plan used (SQLite's ``close`` flushes the vector index: see below);
* a full ``ingest`` of the unchanged corpus: wall time and peak RSS, asserting ``unchanged`` =
  number of documents and ``chunks_embedded`` = 0.

Files are read from the page cache (they were just written and ingested): a cold cache adds the
disk's read time for every byte hashed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ray_ingest import load, table  # noqa: E402  (bench/ is not a package)

WORDS = ("retrieval augmented generation index chunk vector embedding planner fingerprint corpus file folder "
         "query answer model tune worker cluster node driver actor schema table access group user document "
         "token batch commit store search hybrid dense keyword rank score recall precision latency memory").split()


def generate(root: Path, files: int, per_folder: int = 1000, seed: int = 20) -> int:
    """``files`` text files of 200–500 bytes; returns the bytes written."""
    rng = random.Random(seed)
    total = 0
    for n in range(files):
        folder = root / f"d{n // per_folder:03d}"
        if n % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(200, 500)
        words = [f"file{n}"]
        length = len(words[0])
        while length < size:
            word = rng.choice(WORDS)
            words.append(word)
            length += len(word) + 1
        text = " ".join(words)[:size].rstrip() + "\n"
        (folder / f"f{n:06d}.txt").write_text(text)
        total += len(text)
    return total


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def hwm_mb() -> float:
    """Peak RSS of this process's address space (VmHWM): what ``ru_maxrss`` reports, except that
    a child's ``ru_maxrss`` never drops below its parent's RSS when it was forked (Linux keeps the
    pre-exec peak in the signal struct), so the parent's first ingest would hide the plan's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak() -> bool:
    """Reset the process's peak RSS (VmHWM, which ``ru_maxrss`` reports) to its current RSS:
    Linux >= 4.0, ``/proc/self/clear_refs`` 5. False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def make_config(backend: str, url: str | None, schema: str) -> Any:
    from ragtune.config import EmbedderConfig, IndexConfig, RagtuneConfig

    index = IndexConfig(backend="postgres", url=url, schema=schema) if backend == "postgres" else IndexConfig()
    return RagtuneConfig(embedder=EmbedderConfig(backend="hashing"), index=index)


def first_ingest(root: Path, workspace: Path, backend: str, url: str | None, schema: str, files: int) -> dict[str, Any]:
    from ragtune.ingest.api import ingest
    from ragtune.workspace import Workspace

    load_before = load()
    started = time.perf_counter()
    report = ingest(Workspace(workspace), [root], config=make_config(backend, url, schema))
    seconds = time.perf_counter() - started
    assert report.documents == files and report.failed == 0, (report.documents, report.failed)
    return {"backend": backend, "files": files, "documents": report.documents, "chunks": report.chunks,
            "seconds": round(seconds, 1), "files_per_s": round(files / seconds, 1),
            "load": f"{load_before} → {load()}"}


def measure(root: Path, workspace: Path, backend: str, url: str | None, schema: str, files: int) -> dict[str, Any]:
    """Runs in a fresh process (``--_measure``)."""
    import tracemalloc

    from ragtune.embed.factory import build_embedder
    from ragtune.index.factory import build_store
    from ragtune.ingest.api import ingest
    from ragtune.ingest.plan import plan_ingest
    from ragtune.ingest.sources import PathSource
    from ragtune.workspace import Workspace

    config = make_config(backend, url, schema)
    embedder = build_embedder(config.embedder)
    out: dict[str, Any] = {"backend": backend, "files": files, "load_start": load()}
    store = build_store(Workspace(workspace), config, embedder)
    try:
        started = time.perf_counter()
        remembered = store.source_fingerprints()
        out["fingerprints_query_s"] = round(time.perf_counter() - started, 2)
        out["fingerprints"] = len(remembered)
        del remembered
        started = time.perf_counter()
        walked = sum(1 for _ in PathSource([root], config.ingest.include, config.ingest.exclude,
                                           config.ingest.follow_symlinks).walk())
        out["walk_only_s"] = round(time.perf_counter() - started, 2)
        out["walked"] = walked
        gc.collect()

        hwm_before, maxrss_before = hwm_mb(), maxrss_mb()
        out["peak_reset"] = reset_peak()  # so that the peak after the plan is the plan's peak
        rss_before = rss_mb()
        started = time.perf_counter()
        plan = plan_ingest([root], config, store)
        out["plan_s"] = round(time.perf_counter() - started, 2)
        rss_after, peak, maxrss = rss_mb(), hwm_mb(), maxrss_mb()
        assert len(plan.todo) == 0 and plan.unchanged_documents == files, (len(plan.todo), plan.unchanged_documents)
        out.update(rss_before_mb=round(rss_before, 1), rss_after_mb=round(rss_after, 1),
                   peak_rss_mb=round(peak, 1), peak_before_plan_mb=round(hwm_before, 1),
                   plan_peak_growth_mb=round(peak - rss_before, 1), unchanged_entries=len(plan.unchanged),
                   ru_maxrss_before_mb=round(maxrss_before, 1), ru_maxrss_after_mb=round(maxrss, 1))
        del plan
        gc.collect()

        tracemalloc.start()
        started = time.perf_counter()
        plan = plan_ingest([root], config, store)
        traced_s = time.perf_counter() - started
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out.update(tracemalloc_peak_mb=round(peak / 2**20, 1), tracemalloc_retained_mb=round(current / 2**20, 1),
                   tracemalloc_plan_s=round(traced_s, 2))
        del plan
        gc.collect()
    finally:
        # SqliteStore.close() flushes, which loads the whole vector index (faiss file) to check
        # whether it changed, even after a run that wrote nothing: timed and measured on its own.
        reset_peak()
        rss_before = rss_mb()
        started = time.perf_counter()
        store.close()
        out.update(close_s=round(time.perf_counter() - started, 2),
                   close_peak_growth_mb=round(hwm_mb() - rss_before, 1))
        reset_peak()

    started = time.perf_counter()
    report = ingest(Workspace(workspace), [root], config=config, embedder=embedder)
    out["reingest_s"] = round(time.perf_counter() - started, 2)
    out.update(reingest_unchanged=report.index["unchanged"], reingest_chunks_embedded=report.index["chunks_embedded"],
               reingest_added=report.index["added"], reingest_updated=report.index["updated"],
               peak_rss_after_reingest_mb=round(hwm_mb(), 1), load_end=load())
    assert report.index["unchanged"] == files and report.index["chunks_embedded"] == 0, report.index
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--backend", default="sqlite", help="comma list of sqlite, postgres")
    parser.add_argument("--_measure", nargs=5, metavar=("ROOT", "WORKSPACE", "BACKEND", "URL", "SCHEMA"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._measure:
        root, workspace, backend, url, schema = args._measure
        result = measure(Path(root), Path(workspace), backend, url if url != "-" else None, schema, args.files)
        print("RESULT " + json.dumps(result), flush=True)
        return

    command = ".venv/bin/python bench/plan_scale.py " + shlex.join(sys.argv[1:])
    print(f"command: {command}", flush=True)
    total = time.perf_counter()
    backends = [b for b in args.backend.split(",") if b]
    firsts, measured = [], []
    server = None
    with tempfile.TemporaryDirectory(prefix="rt-bench-plan-") as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "corpus"
        started = time.perf_counter()
        size = generate(root, args.files)
        print(json.dumps({"generated_files": args.files, "bytes": size, "seconds": round(time.perf_counter() - started, 1)}),
              flush=True)
        try:
            if "postgres" in backends:
                from ragtune.testing.postgres import PostgresServer

                server = PostgresServer().start()
            for backend in backends:
                url = server.url if backend == "postgres" and server else None
                schema = f"plan_{os.getpid()}"
                workspace = tmp / f"ws-{backend}"
                firsts.append(first_ingest(root, workspace, backend, url, schema, args.files))
                print(json.dumps(firsts[-1]), flush=True)
                child = subprocess.run(
                    [sys.executable, __file__, "--files", str(args.files), "--_measure", str(root), str(workspace),
                     backend, url or "-", schema],
                    capture_output=True, text=True,
                )
                lines = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")]
                if child.returncode != 0 or not lines:
                    sys.exit(f"measuring process failed ({child.returncode}):\n{child.stdout[-3000:]}\n{child.stderr[-3000:]}")
                if child.stderr.strip():
                    print(f"measuring process stderr:\n{child.stderr.strip()[-2000:]}", flush=True)
                measured.append(json.loads(lines[-1][len("RESULT "):]))
                print(json.dumps(measured[-1]), flush=True)
        finally:
            if server is not None:
                server.stop()

    print()
    print(table(firsts, ["backend", "files", "documents", "chunks", "seconds", "files_per_s", "load"]))
    print()
    print(table(measured, ["backend", "files", "fingerprints_query_s", "walk_only_s", "plan_s", "rss_before_mb",
                           "rss_after_mb", "peak_before_plan_mb", "peak_reset", "peak_rss_mb", "ru_maxrss_after_mb",
                           "plan_peak_growth_mb", "tracemalloc_peak_mb", "tracemalloc_retained_mb", "tracemalloc_plan_s"]))
    print()
    print(table(measured, ["backend", "files", "close_s", "close_peak_growth_mb", "reingest_s", "reingest_unchanged",
                           "reingest_chunks_embedded", "peak_rss_after_reingest_mb", "load_start", "load_end"]))
    print(f"\ncommand: {command}\ntotal {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
