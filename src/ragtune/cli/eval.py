"""``ragtune eval ...``: measure retrieval and answers, compare saved runs. Thin wrappers over
``ragtune.evaluate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ragtune.cli.common import (
    BeirOption,
    BehaviourOption,
    EvalLimitOption,
    EvalsetOption,
    EvalUserOption,
    JsonOption,
    RayOption,
    PrincipalGroupsOption,
    ReportOption,
    SampleSeedOption,
    WorkspaceOption,
    console,
    eval_dataset,
    fail,
    resolve_workspace,
    split_names,
)
from ragtune.cli.render import print_summary, progress_display
from ragtune.errors import RagtuneError

eval_app = typer.Typer(help="Measure retrieval and answers on a data set; compare saved runs.", no_args_is_help=True)

SquadOption = Annotated[Optional[Path], typer.Option("--squad", help="SQuAD-layout JSON: contexts become documents.")]
BeirSplitOption = Annotated[str, typer.Option("--split", help="BEIR qrels split.")]


def _evaluate(job, as_json: bool, report: Path | None) -> None:  # type: ignore[no-untyped-def]
    """Run ``job(track, on_embedded)`` under a progress display, then print and report its run."""
    try:
        with progress_display(not as_json) as (track, on_embedded):
            run = job(track, on_embedded)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    _finish(run, as_json, report)


def _finish(run, as_json: bool, report: Path | None) -> None:  # type: ignore[no-untyped-def]
    if report is not None:
        from ragtune.evaluate.report import render_report

        render_report([run], report)
    if as_json:
        print(json.dumps({"id": run.id, "kind": run.kind, "dataset": run.dataset, "summary": run.summary}, indent=2))
    else:
        print_summary(run)
        if report is not None:
            console.print(f"report: {report}", highlight=False)


@eval_app.command("retrieval")
def eval_retrieval(
    beir: BeirOption = None,
    evalset: EvalsetOption = None,
    split: BeirSplitOption = "test",
    mode: Annotated[str, typer.Option("--mode", help="Modes to compare, comma-separated.")] = "bm25,dense,hybrid",
    metric: Annotated[Optional[list[str]], typer.Option("--metric", help="e.g. ndcg@10 (repeatable).")] = None,
    limit: EvalLimitOption = None,
    seed: SampleSeedOption = 0,
    user: EvalUserOption = "eval",
    groups: PrincipalGroupsOption = None,
    as_json: JsonOption = False,
    report: ReportOption = None,
    workspace: WorkspaceOption = None,
    ray: RayOption = None,
) -> None:
    """Score retrieval (nDCG, recall, MRR, MAP, hit rate) per mode; the run is saved for diffs."""
    from ragtune.evaluate.api import run_retrieval_eval
    from ragtune.evaluate.retrieval_metrics import DEFAULT_METRICS
    from ragtune.evaluate.variants import mode_variants
    from ragtune.types import Principal

    ws = resolve_workspace(workspace)

    def job(track, on_embedded):  # type: ignore[no-untyped-def]
        data = eval_dataset(beir, None, evalset, split, limit, seed, ws, "--beir,--evalset")
        return run_retrieval_eval(
            ws, data, mode_variants(split_names([mode])), metrics=split_names(metric) or DEFAULT_METRICS,
            principal=Principal(user, frozenset(split_names(groups))), track=track, on_embedded=on_embedded,
            ray_address=ray,
        )

    _evaluate(job, as_json, report)


@eval_app.command("qa")
def eval_qa(
    squad: SquadOption = None,
    evalset: EvalsetOption = None,
    limit: EvalLimitOption = None,
    seed: SampleSeedOption = 0,
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
    ray: RayOption = None,
) -> None:
    """Score answers: exact match, token F1, answer hit (expected refusals included), faithfulness,
    citation precision/recall, refusals; and behaviour (format, style, label) where the eval set or
    [eval.behaviour] asks for it."""
    from ragtune.evaluate.api import run_qa_eval
    from ragtune.evaluate.variants import Variant
    from ragtune.types import Principal

    ws = resolve_workspace(workspace)
    modes = split_names([answer_mode]) if answer_mode else []
    unknown = [m for m in modes if m not in ("generate", "extract")]
    if unknown:
        raise fail(f"--answer-mode: {', '.join(unknown)} is not one of: generate, extract")
    variants = [Variant(m, {"answer.mode": m}) for m in modes] or [Variant("configured")]

    def job(track, on_embedded):  # type: ignore[no-untyped-def]
        data = eval_dataset(None, squad, evalset, "test", limit, seed, ws, "--squad,--evalset")
        return run_qa_eval(
            ws, data, variants, principal=Principal(user, frozenset(split_names(groups))),
            judge_repeats=judge_repeats, track=track, on_embedded=on_embedded, behaviour_file=behaviour,
            ray_address=ray,
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

    ws = resolve_workspace(workspace)
    try:
        plan = load_plan(config)
    except RagtuneError as exc:
        raise fail(str(exc)) from None

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

    store = RunStore(resolve_workspace(workspace))
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

    store = RunStore(resolve_workspace(workspace))
    try:
        a, b = store.load(run_a), store.load(run_b)
        diffs = diff_runs(a, b, variant_a=variant_a, variant_b=variant_b)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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

    ws = resolve_workspace(workspace)
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
        raise fail(str(exc)) from None
    console.print(f"report: {written}", highlight=False)
