"""The full comparison on COVID-QA: prompt-only vs RAG vs fine-tuned vs hybrid vs RAFT with the
bundled models, through ``ragtune compare`` exactly as a user runs it.

    .venv/bin/python bench/compare_covidqa.py                       # trains both fine-tunes, 3 sources
    .venv/bin/python bench/compare_covidqa.py --reuse --max-sources 5   # the same models, default 5 sources
    .venv/bin/python bench/compare_covidqa.py --limit 20 --train-limit 100 --raft-limit 40   # quicker

The 96 articles are split by article (20 % tested), so no test fact was seen by fine-tuning. Both
fine-tunes are trained on the fly (LoRA on SmolLM2-135M, one epoch): ``ft`` on closed-book
question/answer pairs of the training articles, ``raft`` on RAFT examples (golden chunk among
hard-negative distractors, 20 % without it). The freshness test changes a number in the documents
of trained facts after training. By default answers (and RAFT examples) get three sources
(``[answer] max_sources = 3``) to keep training near a quarter of an hour on 2 cores; ``--reuse
--max-sources 5`` then answers with the trained models and the default five sources.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "covidqa" / "covidqa.json"
COLUMNS = ("exact_match", "f1", "faithfulness", "citation_precision", "refused")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60, help="test questions")
    parser.add_argument("--train-limit", type=int, default=400, help="training questions (ft)")
    parser.add_argument("--raft-limit", type=int, default=120, help="training questions turned into RAFT examples")
    parser.add_argument("--freshness", type=int, default=10, help="trained facts changed after training")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-sources", type=int, default=3, help="[answer] max_sources (the default config has 5)")
    parser.add_argument("--reuse", action="store_true",
                        help="answer with the latest covidqa-ft and covidqa-raft of the workspace instead of training")
    parser.add_argument("--workspace", type=Path, default=ROOT / ".ragtune" / "bench-compare")
    args = parser.parse_args()
    if not DATA.is_file():
        print(f"skipped: COVID-QA not found at {DATA} (the shared data sets live beside the repository)")
        return 0
    args.workspace.mkdir(parents=True, exist_ok=True)
    (args.workspace / "ragtune.toml").write_text(f"[answer]\nmax_sources = {args.max_sources}\n", encoding="utf-8")
    report = args.workspace / f"compare_covidqa_{args.max_sources}_sources.html"
    models = ["--ft-model", "covidqa-ft@latest", "--raft-model", "covidqa-raft@latest"] if args.reuse else ["--train"]
    command = [
        str(ROOT / ".venv" / "bin" / "ragtune"), "compare", "--squad", str(DATA), *models, "--json",
        "--limit", str(args.limit), "--train-limit", str(args.train_limit), "--raft-limit", str(args.raft_limit),
        "--freshness", str(args.freshness), "--epochs", str(args.epochs), "--batch-size", "4",
        "--name", "covidqa", "--report", str(report), "--workspace", str(args.workspace),
    ]
    print("$", " ".join(command), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        print(done.stderr[-4000:], file=sys.stderr)
        return done.returncode
    out = json.loads(done.stdout)
    data = out["dataset"]
    print(f"\nrun {out['id']}: {data['items']} test questions from {data['test_articles']} articles, "
          f"{data['train_items']} training questions from {data['train_articles']} articles; wall {wall / 60:.1f} min")
    print(f"corpus: {data['corpus']['documents']} documents, {data['corpus']['chunks']} chunks, "
          f"indexed in {data['corpus']['index_seconds']:.0f} s\n")
    print("| arm | model | EM | F1 | faithfulness | citation precision | refusals | p50 s | p95 s | tokens in/out "
          "| $/1k q | new fact | old fact | training |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for arm, s in out["summary"].items():
        m, lat, v = s["metrics"], s["latency_ms"]["total"], out["variants"][arm]
        fresh = s.get("freshness") or {}
        training = v.get("training")
        trained = f"{training['seconds'] / 60:.1f} min, {training['examples']} ex." if training else "–"
        print(f"| {arm} | {v['model']} | " + " | ".join(_fmt(m.get(c)) for c in COLUMNS)
              + f" | {lat['p50'] / 1000:.2f} | {lat['p95'] / 1000:.2f} | {s['prompt_tokens']:.0f} / {s['completion_tokens']:.0f}"
              f" | {s['cost_per_1k_queries_usd']:.3f} | {_fmt(fresh.get('answered'), 2)} | {_fmt(fresh.get('stale'), 2)}"
              f" | {trained} |")
    print("\npaired F1 differences (95 % bootstrap CI, randomisation p):")
    for arm, s in out["summary"].items():
        for other, metrics in s.get("vs", {}).items():
            d = metrics.get("f1")
            if d:
                print(f"  {arm} − {other}: {d['difference']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}] p={d['p_value']:.3f}")
    fresh = data.get("freshness")
    if fresh:
        print(f"\nfreshness: {fresh['changed_documents']} documents changed, re-indexed in {fresh['reindex_seconds']:.1f} s "
              f"({fresh['chunks_embedded']} chunks embedded)")
    print(f"recommendation (default questionnaire, measured figures): {out['recommendation']}")
    print(f"report: {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
