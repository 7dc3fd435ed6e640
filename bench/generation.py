"""Grounded generation on COVID-QA: raw backend speed vs. inside ``Assistant.ask``, time to first
token, end-to-end latency, retrieval hit rate and verified citations.

    .venv/bin/python bench/generation.py --questions 50

All 96 articles are ingested with the default embedder (kept between runs in --workspace). For
each sampled question the assistant answers as a principal; then the *same prompt* it built is
sent straight to the backend, so the two token rates differ only by what ``Assistant`` adds
(retrieval is excluded from both: it is reported on its own).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from ragtune.config import RagtuneConfig
from ragtune.evaluate.squad import load_squad
from ragtune.generate.api import close_assistant, open_assistant
from ragtune.generate.base import GenerationOptions, complete
from ragtune.generate.prompt import build_prompt
from ragtune.ingest.api import ingest
from ragtune.types import Principal
from ragtune.workspace import Workspace

READER = Principal("bench", frozenset())


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/datasets/covidqa/covidqa.json")
    parser.add_argument("--workspace", type=Path, default=Path.home() / ".cache/ragtune/bench/covidqa")
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--max-sources", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skip: {args.data} not found (the shared data sets live in ../shared/datasets)")
        return 0

    data = load_squad(args.data)
    ws = Workspace(args.workspace)
    corpus = data.write_contexts(args.workspace.parent / "covidqa-articles")
    started = time.perf_counter()
    report = ingest(ws, [corpus])
    print(f"ingest: {report.documents} articles, {report.chunks} chunks, {report.index}, {time.perf_counter() - started:.1f} s")

    config = RagtuneConfig()
    config.llm.threads, config.llm.max_tokens = args.threads, args.max_tokens
    config.answer.max_sources = args.max_sources
    assistant = open_assistant(ws, config)
    llm = assistant.llm
    # Both runs of a prompt start cold: no prefix left over from the run before.
    reset = getattr(llm, "reset_cache", lambda: None)
    questions = data.sample(args.questions, args.seed)
    rows = []
    try:
        for q in questions:
            reset()
            answer = assistant.ask(q.question, READER)
            gold = data.context_file(q.context)
            row = {
                "hit": any(h.source.endswith(gold) for h in answer.sources),
                "hit_retrieved": any(h.source.endswith(gold) for h in answer.hits),
                "found": answer.found,
                "cited": bool(answer.citations),
                "model_cited": any(c.origin == "model" for c in answer.citations),
                "total": answer.timings["total"],
                "retrieve": answer.timings["retrieve"],
            }
            if answer.found:
                # Same prompt straight to the backend.
                prompt = build_prompt(q.question, answer.hits, llm, system=assistant.system,
                                      max_sources=args.max_sources, reserve_tokens=args.max_tokens)
                reset()
                raw = complete(llm, prompt.messages, GenerationOptions(max_tokens=args.max_tokens))
                row.update(
                    ttft=answer.timings["time_to_first_token"],
                    ask_rate=answer.usage.completion_tokens / answer.timings["generate"],
                    raw_rate=raw.usage.completion_tokens / raw.seconds,
                    ask_decode=(answer.usage.completion_tokens - 1)
                    / max(1e-9, answer.timings["generate"] - answer.timings["time_to_first_token"]),
                    raw_decode=(raw.usage.completion_tokens - 1) / max(1e-9, raw.seconds - raw.time_to_first_token),
                    raw_ttft=raw.time_to_first_token,
                    prompt_tokens=answer.usage.prompt_tokens,
                    completion_tokens=answer.usage.completion_tokens,
                    faithfulness=answer.faithfulness,
                )
            rows.append(row)
            print(".", end="", flush=True)
    finally:
        close_assistant(assistant)
    print()
    n = len(rows)
    answered = [r for r in rows if r["found"]]
    print(f"model: {llm.identity}, threads {args.threads}, max_tokens {args.max_tokens}, max_sources {args.max_sources}")
    print(f"questions {n}: gold article in the model's sources {sum(r['hit'] for r in rows) / n:.2f}, "
          f"in the retrieved hits {sum(r['hit_retrieved'] for r in rows) / n:.2f}; answered {len(answered)} "
          f"(refused by the relevance gate {n - len(answered)})")
    if answered:
        cited = sum(r["cited"] for r in answered) / len(answered)
        model_cited = sum(r["model_cited"] for r in answered) / len(answered)
        faithful = [r["faithfulness"] for r in answered if r["faithfulness"] is not None]
        print(f"answers with >= 1 verified citation {cited:.2f} (written by the model {model_cited:.2f}); "
              f"mean faithfulness {statistics.mean(faithful) if faithful else float('nan'):.2f}")
        ask_rate = statistics.median(r["ask_rate"] for r in answered)
        raw_rate = statistics.median(r["raw_rate"] for r in answered)
        print(f"tokens/s per request (prompt processing + decode): raw backend {raw_rate:.1f}, inside ask {ask_rate:.1f}, "
              f"ratio {ask_rate / raw_rate:.3f}")
        ask_decode = statistics.median(r["ask_decode"] for r in answered)
        raw_decode = statistics.median(r["raw_decode"] for r in answered)
        print(f"decode tokens/s after the first token: raw {raw_decode:.1f}, inside ask {ask_decode:.1f}, "
              f"ratio {ask_decode / raw_decode:.3f}")
        ttft = [r["ttft"] for r in answered]
        raw_ttft = [r["raw_ttft"] for r in answered]
        print(f"time to first token p50 {statistics.median(ttft) * 1000:.0f} ms (raw {statistics.median(raw_ttft) * 1000:.0f} ms), "
              f"p95 {pct(ttft, 0.95) * 1000:.0f} ms")
        print(f"prompt tokens p50 {statistics.median(r['prompt_tokens'] for r in answered):.0f}, "
              f"completion p50 {statistics.median(r['completion_tokens'] for r in answered):.0f}")
    totals = [r["total"] for r in rows]
    print(f"end-to-end p50 {statistics.median(totals) * 1000:.0f} ms, p95 {pct(totals, 0.95) * 1000:.0f} ms; "
          f"retrieval p50 {statistics.median(r['retrieve'] for r in rows) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
