"""``ragtune compare``: prompt vs RAG vs fine-tuned vs hybrid vs RAFT on the same questions. A thin
wrapper over ``ragtune.decide``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ragtune.cli.common import (
    BehaviourOption,
    EvalUserOption,
    JsonOption,
    NoGoldenOption,
    PrincipalGroupsOption,
    QuietOption,
    RayOption,
    RaftStyleOption,
    ReportOption,
    WithoutGoldenOption,
    WorkspaceOption,
    build_config,
    console,
    err_console,
    fail,
    raft_config,
    resolve_workspace,
    split_names,
)
from ragtune.cli.render import print_summary, progress_display, training_output
from ragtune.decide.arms import DEFAULT_ARMS
from ragtune.errors import RagtuneError
from ragtune.tune.lora_config import LoraTuneConfig

# Option defaults are the settings models' defaults, stated once there.
LORA = LoraTuneConfig()

TestLimitOption = Annotated[Optional[int], typer.Option("--limit", min=1, help="Test this many questions (seeded sample).")]
TrainLimitOption = Annotated[
    Optional[int], typer.Option("--train-limit", min=1, help="Train on this many questions (seeded sample).")
]


def compare_command(
    squad: Annotated[Optional[Path], typer.Option("--squad", help="SQuAD-layout JSON, split by article into train/test.")] = None,
    evalset: Annotated[Optional[Path], typer.Option("--eval", "--evalset", help="Your eval set JSONL (test questions).")] = None,
    corpus: Annotated[Optional[Path], typer.Option("--corpus", help="Documents for --eval, indexed as a copy.")] = None,
    train_evalset: Annotated[
        Optional[Path], typer.Option("--train-evalset", help="Training questions (eval set JSONL with answers) for --eval.")
    ] = None,
    arms: Annotated[str, typer.Option("--arms", help="Comma-separated: prompt,rag,extract,ft,hybrid,raft,classifier "
                                      "(classifier: labelled eval sets).")] = ",".join(DEFAULT_ARMS),
    ft_model: Annotated[Optional[str], typer.Option("--ft-model", help="Registry reference of the ft/hybrid model.")] = None,
    raft_model: Annotated[Optional[str], typer.Option("--raft-model", help="Registry reference of the RAFT model.")] = None,
    classifier_model: Annotated[
        Optional[str], typer.Option("--classifier-model", help="Registry reference of the classifier arm's classifier.")
    ] = None,
    train: Annotated[bool, typer.Option("--train", help="Fine-tune missing ft/raft models on the training questions now.")] = False,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="Registry name prefix of trained models.")] = None,
    limit: TestLimitOption = None,
    train_limit: TrainLimitOption = None,
    raft_limit: Annotated[
        Optional[int], typer.Option("--raft-limit", min=1, help="Build RAFT examples from this many training questions.")
    ] = None,
    test_share: Annotated[float, typer.Option("--test-share", min=0.01, max=0.99, help="SQuAD: share of articles tested.")] = 0.2,
    freshness: Annotated[
        int, typer.Option("--freshness", min=0, help="SQuAD: change a number in N trained facts' documents, then re-test.")
    ] = 0,
    update_docs: Annotated[Optional[Path], typer.Option("--update-docs", help="Changed documents applied after training.")] = None,
    update_evalset: Annotated[
        Optional[Path], typer.Option("--update-evalset", help="Questions whose answers are the changed facts.")
    ] = None,
    epochs: Annotated[float, typer.Option("--epochs", help="Training epochs (with --train).")] = 1.0,
    max_steps: Annotated[int, typer.Option("--max-steps", help="Stop training after N steps (-1: all epochs).")] = LORA.max_steps,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Training batch size.")] = LORA.batch_size,
    learning_rate: Annotated[float, typer.Option("--lr", help="Training learning rate.")] = LORA.learning_rate,
    max_length: Annotated[int, typer.Option("--max-length", help="Training tokens per example; longer are left out.")] = 2048,
    distractors: Annotated[
        Optional[int],
        typer.Option("--distractors", min=0, help="RAFT: distractor chunks per example [default: answer.max_sources - 1]."),
    ] = None,
    no_golden: NoGoldenOption = 0.2,
    raft_style: RaftStyleOption = "quote",
    without_golden: WithoutGoldenOption = "refuse",
    answers: Annotated[
        Optional[Path], typer.Option("--answers", help="Advisor questionnaire (TOML) for the report's recommendation.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split, samples and training.")] = 0,
    behaviour: BehaviourOption = None,
    json_schema: Annotated[
        Optional[Path], typer.Option("--json-schema", help="JSON schema of the <arm>+grammar arms (e.g. prompt+grammar, "
                                     "ft+grammar); answers are scored against it.")
    ] = None,
    user: EvalUserOption = "eval",
    groups: PrincipalGroupsOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    report: ReportOption = None,
    workspace: WorkspaceOption = None,
    ray: RayOption = None,
) -> None:
    """Run the same questions through prompt / RAG / fine-tuned / hybrid / RAFT arms and compare
    quality, faithfulness, citations, latency, tokens and cost, with paired confidence intervals."""
    from ragtune.decide import compare_data
    from ragtune.decide.arms import parse_arms
    from ragtune.decide.compare import CompareOptions, run_compare
    from ragtune.types import Principal

    if (squad is None) == (evalset is None):
        raise fail("give exactly one of --squad, --eval")
    ws = resolve_workspace(workspace)
    models = {k: v for k, v in (("ft", ft_model), ("raft", raft_model), ("classifier", classifier_model)) if v}
    lora = build_config(LoraTuneConfig, "compare training options", epochs=epochs, max_steps=max_steps,
                        batch_size=batch_size, learning_rate=learning_rate, max_length=max_length, seed=seed)
    if distractors is None:  # RAFT trains on as many sources as the assistant will give the model
        distractors = max(ws.load_config().answer.max_sources - 1, 0)
    raft = raft_config(distractors, no_golden, raft_style, without_golden, seed)
    show = not (quiet or as_json)
    try:
        if squad is not None:
            if update_docs or update_evalset or corpus or train_evalset:
                raise fail("with --squad the corpus, training questions and update come from the set; "
                            "--corpus, --train-evalset and --update-* go with --eval")
            data = compare_data.from_squad(squad, ws, test_share=test_share, limit=limit, train_limit=train_limit,
                                           freshness=freshness, seed=seed)
        else:
            assert evalset is not None
            if freshness:
                raise fail("--freshness synthesises changes in a SQuAD set; with --eval give --update-docs and --update-evalset")
            data = compare_data.from_evalset(evalset, corpus=corpus, train=train_evalset, limit=limit,
                                             train_limit=train_limit, update_docs=update_docs,
                                             update_evalset=update_evalset, seed=seed)
        for warning in data.warnings:
            err_console.print(f"[yellow]{warning}[/]", highlight=False)
        options = CompareOptions(arms=parse_arms(split_names([arms])), models=models, train=train, lora=lora,
                                 raft=raft, principal=Principal(user, frozenset(split_names(groups))),
                                 raft_limit=raft_limit, name=name or data.name, progress=show, behaviour=behaviour,
                                 json_schema=json_schema)
        with progress_display(show) as (track, on_embedded), training_output():
            run = run_compare(ws, data, options, track=track, on_embedded=on_embedded, ray_address=ray,
                              log=(lambda m: err_console.print(m, highlight=False)) if show else (lambda m: None))
        advice = _advice(ws, run, answers)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if report is not None:
        from ragtune.decide.report import render_compare_report

        render_compare_report(run, report, advice)
    if as_json:
        print(json.dumps({"id": run.id, "kind": run.kind, "dataset": run.dataset, "variants": run.variants,
                          "summary": run.summary, "recommendation": advice.recommendation}, indent=2, default=str))
        return
    print_summary(run)
    _print_extras(run)
    console.print(f"recommendation: [bold]{advice.recommendation}[/] ({advice.evidence}); `ragtune advise` explains it",
                  highlight=False)
    if report is not None:
        console.print(f"report: {report}", highlight=False)


def _advice(ws, run, answers: Path | None):  # type: ignore[no-untyped-def]
    from ragtune.decide.advisor import advise_on_run
    from ragtune.decide.advisor_config import load_questionnaire

    return advise_on_run(run, ws.load_config(), load_questionnaire(answers) if answers is not None else None)


def _print_extras(run: Any) -> None:
    for arm, summary in run.summary.items():
        for other, metrics in summary.get("vs", {}).items():
            d = metrics.get("f1")
            if d:
                console.print(f"F1 {arm} − {other}: {d['difference']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] "
                              f"(p = {d['p_value']:.3f}, {d['n']} questions)", highlight=False)
    fresh = run.dataset.get("freshness")
    if fresh:
        console.print(f"freshness: {fresh['changed_documents']} document(s) changed, re-indexed in "
                      f"{fresh['reindex_seconds']:.1f} s", highlight=False)
        for arm, summary in run.summary.items():
            f = summary.get("freshness")
            if f:
                stale = "–" if f.get("stale") is None else f"{f['stale']:.2f}"
                console.print(f"  {arm}: new fact {f['answered']:.2f}, old fact {stale} ({f['questions']} questions)",
                              highlight=False)
