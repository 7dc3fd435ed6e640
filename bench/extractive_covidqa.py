"""The extractive reader on COVID-QA: EM, F1, answer_hit, faithfulness, citation precision and
latency per answer setting, on questions of articles split off for testing (split by article,
so a reader trained on the training articles has never seen a test fact).

    .venv/bin/python bench/extractive_covidqa.py                        # extract, default scorer, 50 test questions
    .venv/bin/python bench/extractive_covidqa.py --train-reader covidqa-reader   # train a reader on the training articles, then score with it
    .venv/bin/python bench/extractive_covidqa.py --scorer covidqa-reader@latest   # a reader trained before
    .venv/bin/python bench/extractive_covidqa.py --settings extract generate-quote generate-show
    .venv/bin/python bench/extractive_covidqa.py --split train --questions 200     # for tuning, never reported as test

All 96 articles are indexed once with the default embedder and kept in --workspace.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ragtune.config import RagtuneConfig
from ragtune.evaluate.answer_metrics import answer_hit, token_f1
from ragtune.evaluate.qa_eval import evaluate_answers, strip_markers
from ragtune.evaluate.squad import load_squad
from ragtune.generate.api import close_assistant, open_assistant
from ragtune.ingest.api import ingest
from ragtune.registry.references import resolve_references
from ragtune.types import Principal
from ragtune.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets" / "covidqa" / "covidqa.json"
READER = Principal("bench", frozenset())
METRICS = ("exact_match", "f1", "answer_hit", "answer_in_context", "faithfulness", "citation_precision", "refused")
SETTINGS = {
    "extract": {"mode": "extract"},
    "generate-quote": {"mode": "generate", "on_unsupported": "quote"},
    "generate-show": {"mode": "generate", "on_unsupported": "show"},
    # The same, without the small-model prompting (all max_sources sources, as retrieved).
    "generate-quote-all-sources": {"mode": "generate", "on_unsupported": "quote", "small_model_sources": 0},
    "generate-show-all-sources": {"mode": "generate", "on_unsupported": "show", "small_model_sources": 0},
}


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _write_squad(squad, questions, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The given questions with their contexts as a SQuAD-layout file (one article per context)."""
    by_context: dict[int, list] = {}
    for q in questions:
        by_context.setdefault(q.context, []).append(q)
    data = [{"title": f"context {c}", "paragraphs": [{"context": squad.contexts[c], "qas": [
        {"id": q.id, "question": q.question, "answers": [{"text": a, "answer_start": squad.contexts[c].find(a)} for a in q.answers]}
        for q in qs]}]} for c, qs in sorted(by_context.items())]
    path.write_text(json.dumps({"data": data}), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--workspace", type=Path, default=ROOT / ".ragtune" / "bench-covidqa")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", nargs="+", default=["extract"], choices=sorted(SETTINGS))
    parser.add_argument("--scorer", default=None, help="[answer] scorer: a registered reader or CrossEncoder folder")
    parser.add_argument("--train-reader", default=None, metavar="NAME",
                        help="first train a reader on the training articles' questions (ragtune tune reader) and score with it")
    parser.add_argument("--reader-epochs", type=float, default=1.0)
    parser.add_argument("--max-sources", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--show", type=int, default=0, help="print this many answers of each setting")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: COVID-QA not found at {args.data} (the shared data sets live beside the repository)")
        return 0

    squad = load_squad(args.data)
    ws = Workspace(args.workspace)
    corpus = squad.write_contexts(args.workspace / "articles")
    started = time.perf_counter()
    report = ingest(ws, [corpus])
    print(f"index: {report.documents} articles, {report.chunks} chunks, {report.index}, {time.perf_counter() - started:.1f} s")
    train, test = squad.split_by_article(args.test_share, seed=args.seed)
    pool = test if args.split == "test" else train
    if args.train_reader:
        args.scorer = f"{args.train_reader}@latest"
        train_file = _write_squad(squad, train, args.workspace / "covidqa-train-articles.json")
        command = [str(ROOT / ".venv" / "bin" / "ragtune"), "tune", "reader", args.train_reader, "--squad", str(train_file),
                   "--epochs", str(args.reader_epochs), "--seed", str(args.seed), "--workspace", str(args.workspace)]
        print("$", " ".join(command), flush=True)
        started = time.perf_counter()
        subprocess.run(command, check=True)
        print(f"reader trained in {time.perf_counter() - started:.0f} s on {len(train)} questions of the training articles")
    chosen = random.Random(args.seed).sample(pool, min(args.questions, len(pool)))
    items = [squad.item(q) for q in chosen]
    print(f"{len(items)} {args.split} questions of {len({q.article for q in pool})} articles (split by article, seed {args.seed})")

    print(f"{'setting':<16}" + "".join(f"{m:>19}" for m in METRICS) + f"{'p50 ms':>9}{'p95 ms':>9}")
    for name in args.settings:
        config = ws.load_config()
        config.answer = config.answer.model_copy(update={**SETTINGS[name], "max_sources": args.max_sources,
                                                         "scorer": args.scorer})
        config = resolve_references(config, ws.models_dir)  # a registered reader -> its model folder
        config.llm = config.llm.model_copy(update={"threads": args.threads, "max_tokens": args.max_tokens})
        assistant = open_assistant(ws, config)
        try:
            rows = evaluate_answers(assistant, items, name, config, READER)
        finally:
            close_assistant(assistant)
        latencies = sorted(r["timings_ms"].get("total", 0.0) for r in rows)
        means = {m: _mean([r["metrics"].get(m) for r in rows]) for m in METRICS}
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"{name:<16}" + "".join(f"{'–' if v is None else f'{v:.3f}':>19}" for v in means.values())
              + f"{statistics.median(latencies):>9.0f}{p95:>9.0f}", flush=True)
        if SETTINGS[name].get("on_unsupported") == "quote":
            # Greedy decoding: the text the policy replaced is what "show" would have shown.
            shown = [(r, r.get("rejected_text") or r["answer"]) for r in rows]
            f1 = _mean([token_f1(strip_markers(t), r["gold"]) for r, t in shown])
            hit = _mean([answer_hit(strip_markers(t), r["gold"]) for r, t in shown])
            replaced = sum(1 for r in rows if r.get("rejected_text")) / len(rows)
            print(f"  replaced by a quote: {replaced:.2f} of answers; the same generations shown as written: "
                  f"F1 {f1:.3f}, answer_hit {hit:.3f}")
        for row in rows[: args.show]:
            print(f"  Q: {row['question']}\n  gold: {row['gold'][0]!r}\n  got:  {row['answer'][:200]!r}  "
                  f"F1 {row['metrics']['f1']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
