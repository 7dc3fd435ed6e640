"""``ragtune eval ...`` and ``ragtune tune retrieval``: measure retrieval and answers, compare runs,
tune retrieval per corpus. Thin wrappers over ``ragtune.evaluate``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from rich.table import Table

from ragtune.cli_common import (
    JsonOption,
    PrincipalGroupsOption,
    WorkspaceOption,
    _fail,
    _split_names,
    _workspace,
    console,
    err_console,
)
from ragtune.errors import RagtuneError

T = TypeVar("T")

eval_app = typer.Typer(help="Measure retrieval and answers on a data set; compare saved runs.", no_args_is_help=True)
tune_app = typer.Typer(help="Tune ragtune to your data.", no_args_is_help=True)

BeirOption = Annotated[Optional[Path], typer.Option("--beir", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/.")]
SquadOption = Annotated[Optional[Path], typer.Option("--squad", help="SQuAD-layout JSON: contexts become documents.")]
BehaviourOption = Annotated[
    Optional[Path],
    typer.Option("--behaviour", help="TOML of behaviour settings (format, style examples, labels) instead of "
                 "the workspace's [eval.behaviour]; its paths are read from its folder."),
]
EvalsetOption = Annotated[
    Optional[Path],
    typer.Option("--evalset", help="Your own JSONL eval set, run on the workspace's index (see docs/evaluation.md)."),
]
SplitOption = Annotated[str, typer.Option("--split", help="BEIR qrels split.")]
LimitOption = Annotated[Optional[int], typer.Option("--limit", min=1, help="Evaluate this many questions (seeded sample).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the --limit sample.")]
ReportOption = Annotated[Optional[Path], typer.Option("--report", help="Also write an HTML report with plots here.")]
EvalUserOption = Annotated[str, typer.Option("--user", "-u", help="Ask as this user (eval set items may name their own).")]


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Any, Any]]:
    """A ``track`` for evaluation loops and an ``on_embedded`` hook for indexing, on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True, disable=not enabled,
    )
    embedding = progress.add_task("indexing: embedding chunks", total=None, visible=False)

    def track(items: Iterable[T], description: str, total: int) -> Iterable[T]:
        yield from progress.track(items, total=total, description=description[:28])

    def on_embedded(n: int) -> None:
        progress.update(embedding, visible=True, advance=n)

    with progress:
        yield track, on_embedded


def _dataset(beir, squad, evalset, split: str, limit: int | None, seed: int, ws, allowed: str):  # type: ignore[no-untyped-def]
    """The one data set named by --beir, --squad or --evalset (``allowed`` lists the options)."""
    from ragtune.evaluate.data import from_beir, from_evalset, from_squad

    given = {"--beir": beir, "--squad": squad, "--evalset": evalset}
    chosen = [k for k, v in given.items() if v is not None]
    if len(chosen) != 1 or chosen[0] not in allowed.split(","):
        raise _fail(f"give exactly one of {allowed.replace(',', ', ')}")
    if beir is not None:
        return from_beir(beir, split, limit, seed)
    if squad is not None:
        return from_squad(squad, ws, limit, seed)
    assert evalset is not None
    data = from_evalset(evalset, limit, seed)
    for error in data.errors:
        err_console.print(f"[yellow]skipped:[/] {error}", highlight=False)
    return data


def _print_summary(run) -> None:  # type: ignore[no-untyped-def]
    """One row per metric, one column per variant: readable however many metrics a run has."""
    variants = list(run.summary)
    table = Table(title=f"{run.kind} run {run.id}", title_justify="left")
    table.add_column("metric")
    for variant in variants:
        table.add_column(variant, justify="right")
    names = list(dict.fromkeys(m for s in run.summary.values() for m in s.get("metrics", {})))
    for name in names:
        values = [run.summary[v]["metrics"].get(name) for v in variants]
        table.add_row(name, *("–" if x is None else f"{x:.4f}" for x in values))
    for name in dict.fromkeys(m for s in run.summary.values() for m in s.get("intervals", {})):
        cis = [run.summary[v].get("intervals", {}).get(name) for v in variants]
        table.add_row(f"{name} 95% CI", *("–" if ci is None else f"[{ci['low']:.2f}, {ci['high']:.2f}]" for ci in cis))
    if any("labels" in s for s in run.summary.values()):
        for name in ("label_accuracy", "label_macro_f1"):
            values = [run.summary[v].get("labels", {}).get(name) for v in variants]
            table.add_row(name, *("–" if x is None else f"{x:.4f}" for x in values))
    for label, key in (("latency p50 ms", "p50"), ("latency p95 ms", "p95")):
        table.add_row(label, *(f"{run.summary[v]['latency_ms'].get('total', {}).get(key, 0):.1f}" for v in variants))
    if all("prompt_tokens" in run.summary[v] for v in variants):
        table.add_row("tokens in / out", *(
            f"{run.summary[v]['prompt_tokens'] or 0:.0f} / {run.summary[v]['completion_tokens'] or 0:.0f}" for v in variants
        ))
    table.add_row("$ per 1k queries", *(f"{run.summary[v]['cost_per_1k_queries_usd']:.4f}" for v in variants))
    console.print(table)
    console.print(f"saved as {run.id}: {run.dataset.get('items')} questions from {run.dataset.get('path')}", highlight=False)


def _evaluate(job, as_json: bool, report: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Run ``job(track, on_embedded)`` under a progress display, then print and report its run."""
    try:
        with _progress(not as_json) as (track, on_embedded):
            run = job(track, on_embedded)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    _finish(run, as_json, report)


def _finish(run, as_json: bool, report: Path | None) -> None:  # type: ignore[no-untyped-def]
    if report is not None:
        from ragtune.evaluate.report import render_report

        render_report([run], report)
    if as_json:
        print(json.dumps({"id": run.id, "kind": run.kind, "dataset": run.dataset, "summary": run.summary}, indent=2))
    else:
        _print_summary(run)
        if report is not None:
            console.print(f"report: {report}", highlight=False)


@eval_app.command("retrieval")
def eval_retrieval(
    beir: BeirOption = None,
    evalset: EvalsetOption = None,
    split: SplitOption = "test",
    mode: Annotated[str, typer.Option("--mode", help="Modes to compare, comma-separated.")] = "bm25,dense,hybrid",
    metric: Annotated[Optional[list[str]], typer.Option("--metric", help="e.g. ndcg@10 (repeatable).")] = None,
    limit: LimitOption = None,
    seed: SeedOption = 0,
    user: EvalUserOption = "eval",
    groups: PrincipalGroupsOption = None,
    as_json: JsonOption = False,
    report: ReportOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Score retrieval (nDCG, recall, MRR, MAP, hit rate) per mode; the run is saved for diffs."""
    from ragtune.evaluate.api import run_retrieval_eval
    from ragtune.evaluate.retrieval_metrics import DEFAULT_METRICS
    from ragtune.evaluate.variants import mode_variants
    from ragtune.types import Principal

    ws = _workspace(workspace)

    def job(track, on_embedded):  # type: ignore[no-untyped-def]
        data = _dataset(beir, None, evalset, split, limit, seed, ws, "--beir,--evalset")
        return run_retrieval_eval(
            ws, data, mode_variants(_split_names([mode])), metrics=_split_names(metric) or DEFAULT_METRICS,
            principal=Principal(user, frozenset(_split_names(groups))), track=track, on_embedded=on_embedded,
        )

    _evaluate(job, as_json, report)


@eval_app.command("qa")
def eval_qa(
    squad: SquadOption = None,
    evalset: EvalsetOption = None,
    limit: LimitOption = None,
    seed: SeedOption = 0,
    judge_repeats: Annotated[
        int, typer.Option("--judge-repeats", min=0, help="Also ask the configured LLM to grade answers, N times.")
    ] = 0,
    user: EvalUserOption = "eval",
    groups: PrincipalGroupsOption = None,
    answer_mode: Annotated[
        Optional[str],
        typer.Option("--answer-mode", help="Comma-separated answer modes to compare on the same questions: generate,extract."),
    ] = None,
    behaviour: BehaviourOption = None,
    as_json: JsonOption = False,
    report: ReportOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Score answers: exact match, token F1, answer hit (expected refusals included), faithfulness,
    citation precision/recall, refusals; and behaviour (format, style, label) where the eval set or
    [eval.behaviour] asks for it."""
    from ragtune.evaluate.api import run_qa_eval
    from ragtune.evaluate.variants import Variant
    from ragtune.types import Principal

    ws = _workspace(workspace)
    modes = _split_names([answer_mode]) if answer_mode else []
    unknown = [m for m in modes if m not in ("generate", "extract")]
    if unknown:
        raise _fail(f"--answer-mode: {', '.join(unknown)} is not one of: generate, extract")
    variants = [Variant(m, {"answer.mode": m}) for m in modes] or [Variant("configured")]

    def job(track, on_embedded):  # type: ignore[no-untyped-def]
        data = _dataset(None, squad, evalset, "test", limit, seed, ws, "--squad,--evalset")
        return run_qa_eval(
            ws, data, variants, principal=Principal(user, frozenset(_split_names(groups))),
            judge_repeats=judge_repeats, track=track, on_embedded=on_embedded, behaviour_file=behaviour,
        )

    _evaluate(job, as_json, report)


@eval_app.command("run")
def eval_run(
    config: Annotated[Path, typer.Option("--config", "-c", help="An eval.toml plan (see docs/evaluation.md).")],
    as_json: JsonOption = False,
    report: ReportOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Run the grid an eval.toml declares: every combination of its settings is one variant."""
    from ragtune.evaluate.api import run_qa_eval, run_retrieval_eval
    from ragtune.evaluate.plan import load_plan
    from ragtune.evaluate.variants import expand_grid

    ws = _workspace(workspace)
    try:
        plan = load_plan(config)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None

    def job(track, on_embedded):  # type: ignore[no-untyped-def]
        data = plan.dataset.load(ws, config.parent)
        variants = expand_grid(plan.grid)
        if plan.kind == "retrieval":
            return run_retrieval_eval(ws, data, variants, metrics=plan.metrics, principal=plan.who,
                                      track=track, on_embedded=on_embedded)
        return run_qa_eval(ws, data, variants, principal=plan.who, judge_repeats=plan.judge_repeats,
                           track=track, on_embedded=on_embedded)

    _evaluate(job, as_json, report or (config.parent / plan.report if plan.report else None))


@eval_app.command("list")
def eval_list(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Saved runs, oldest first."""
    from ragtune.evaluate.runs import RunStore

    store = RunStore(_workspace(workspace))
    runs = [store.load(i) for i in store.ids()]
    if as_json:
        print(json.dumps([{"id": r.id, "kind": r.kind, "created": r.created, "variants": list(r.variants),
                           "dataset": r.dataset.get("path")} for r in runs], indent=2))
        return
    for r in runs:
        console.print(f"{r.id}  {r.created}  {r.dataset.get('path')}  [{', '.join(r.variants)}]", highlight=False)


@eval_app.command("diff")
def eval_diff(
    run_a: Annotated[str, typer.Argument(help="Baseline run id (or unique prefix, or 'latest').")],
    run_b: Annotated[str, typer.Argument(help="Run compared with it.")],
    variant_a: Annotated[Optional[str], typer.Option("--variant-a", help="Variant of run A.")] = None,
    variant_b: Annotated[Optional[str], typer.Option("--variant-b", help="Variant of run B.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """B minus A on the queries both answered: paired bootstrap 95% interval and p-value per metric."""
    from ragtune.evaluate.diff import diff_runs
    from ragtune.evaluate.runs import RunStore

    store = RunStore(_workspace(workspace))
    try:
        a, b = store.load(run_a), store.load(run_b)
        diffs = diff_runs(a, b, variant_a=variant_a, variant_b=variant_b)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps([{"variant_a": d.variant_a, "variant_b": d.variant_b, "metric": d.metric,
                           "n": d.result.n, "mean_a": d.result.mean_a, "mean_b": d.result.mean_b,
                           "difference": d.result.difference, "ci_low": d.result.low, "ci_high": d.result.high,
                           "p_value": d.result.p_value} for d in diffs], indent=2))
        return
    pairs = list(dict.fromkeys((d.variant_a, d.variant_b) for d in diffs))
    for variant_a, variant_b in pairs:
        table = Table(title=f"B − A\n  A: {a.id} · {variant_a}\n  B: {b.id} · {variant_b}", title_justify="left")
        for column in ("metric", "n", "A", "B", "B − A", "95% CI", "p"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for d in (d for d in diffs if (d.variant_a, d.variant_b) == (variant_a, variant_b)):
            r = d.result
            significant = r.p_value < 0.05 and (r.low > 0 or r.high < 0)
            better = r.difference < 0 if d.metric == "latency_ms" else r.difference > 0
            table.add_row(
                d.metric, str(r.n), f"{r.mean_a:.4f}", f"{r.mean_b:.4f}", f"{r.difference:+.4f}",
                f"[{r.low:+.4f}, {r.high:+.4f}]", f"{r.p_value:.4f}",
                style=("green" if better else "red") if significant else None,
            )
        console.print(table)


@eval_app.command("report")
def eval_report(
    runs: Annotated[list[str], typer.Argument(help="Run ids to put side by side.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Write the HTML report (tables, plots, worst queries) of saved runs; a single compare run
    gets the comparison's report (with the advisor's default recommendation)."""
    from ragtune.evaluate.report import render_report
    from ragtune.evaluate.runs import RunStore

    ws = _workspace(workspace)
    store = RunStore(ws)
    try:
        loaded = [store.load(r) for r in runs]
        if len(loaded) == 1 and loaded[0].kind == "compare":
            from ragtune.decide.advisor import advise_on_run
            from ragtune.decide.report import render_compare_report

            written = render_compare_report(loaded[0], out, advise_on_run(loaded[0], ws.load_config()))
        else:
            written = render_report(loaded, out)
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    console.print(f"report: {written}", highlight=False)


def _ints(values: list[str] | None, option: str) -> list[int]:
    try:
        return [int(v) for v in _split_names(values)]
    except ValueError:
        raise _fail(f"{option} takes whole numbers, e.g. 128,254") from None


@tune_app.command("retrieval")
def tune_retrieval_command(
    beir: BeirOption = None,
    evalset: EvalsetOption = None,
    split: Annotated[str, typer.Option("--split", help="Held-out BEIR split the result is reported on.")] = "test",
    dev_split: Annotated[
        Optional[str], typer.Option("--dev-split", help="BEIR split to tune on; default: half of --split's queries.")
    ] = None,
    metric: Annotated[str, typer.Option("--metric", help="What to maximise.")] = "ndcg@10",
    chunk_tokens: Annotated[
        Optional[list[str]], typer.Option("--chunk-tokens", help="Chunk sizes to try, e.g. 128,254 (re-indexes each).")
    ] = None,
    rerank_depths: Annotated[
        Optional[list[str]],
        typer.Option("--rerank-depths", help="rerank_top_n values to try (needs retrieval.rerank_model)."),
    ] = None,
    limit: LimitOption = None,
    seed: SeedOption = 0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report the winner, leave ragtune.toml alone.")] = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Search fusion mode/weights, chunk size and rerank depth on a dev split, report the held-out
    score and write the winner to ragtune.toml."""
    from ragtune.evaluate.data import from_beir
    from ragtune.evaluate.retrieval_metrics import parse_metric
    from ragtune.evaluate.tuning import split_items, tune_retrieval, write_settings

    ws = _workspace(workspace)
    try:
        parse_metric(metric)
        if beir is not None and dev_split:
            dev, test = from_beir(beir, dev_split, limit, seed), from_beir(beir, split, None, seed)
        else:
            dev, test = split_items(_dataset(beir, None, evalset, split, limit, seed, ws, "--beir,--evalset"), 0.5, seed)
        with _progress(not as_json) as (track, on_embedded):
            result = tune_retrieval(ws, dev, test, metric=metric, chunk_sizes=_ints(chunk_tokens, "--chunk-tokens"),
                                    rerank_depths=_ints(rerank_depths, "--rerank-depths"), track=track, on_embedded=on_embedded)
        if not dry_run:
            write_settings(ws.config_path, dict(result.best.overrides))
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps({"metric": metric, "best": dict(result.best.overrides), "dev": result.dev_scores,
                          "test_configured": result.test_configured, "test_tuned": result.test_tuned,
                          "dev_run": result.dev_run.id, "test_run": result.test_run.id, "written": not dry_run}, indent=2))
        return
    table = Table(title=f"{metric} on the dev queries ({result.dev_run.dataset.get('items')})", title_justify="left")
    table.add_column("setting")
    table.add_column(metric, justify="right")
    for name, value in sorted(result.dev_scores.items(), key=lambda kv: -kv[1]):
        table.add_row(name, f"{value:.4f}", style="bold" if name == result.best.name else None)
    console.print(table)
    console.print(
        f"held-out {metric} ({result.test_run.dataset.get('items')} queries): configured {result.test_configured:.4f} "
        f"→ tuned {result.test_tuned:.4f}; runs {result.dev_run.id}, {result.test_run.id}", highlight=False,
    )
    if dry_run:
        console.print("dry run: ragtune.toml left as it was")
    else:
        written = ", ".join(f"{k} = {v!r}" for k, v in result.best.overrides.items())
        console.print(f"wrote {written} to {ws.config_path}", highlight=False)
        if any(k.startswith("chunking.") for k in result.best.overrides):
            console.print("chunk size changed: re-ingest your documents to apply it (ragtune sync PATH)")
