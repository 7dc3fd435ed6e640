"""``ragtune data prepare|raft``: training data for fine-tuning and for RAFT. Thin wrappers over
``ragtune.tune.prepare`` and ``ragtune.decide.raft_data``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ragtune.cli.common import (
    EvalUserOption,
    JsonOption,
    LabelColumnOption,
    NoGoldenOption,
    PrincipalGroupsOption,
    QuietOption,
    RaftStyleOption,
    SplitFractionsOption,
    SplitSeedOption,
    TextColumnOption,
    WithoutGoldenOption,
    WorkspaceOption,
    console,
    err_console,
    fail,
    load_training_set,
    raft_config,
    resolve_workspace,
    split_names,
)
from ragtune.cli.render import print_excluded, progress_display
from ragtune.errors import RagtuneError

data_app = typer.Typer(help="Prepare training data: validate, de-duplicate, split, hash.", no_args_is_help=True)

FormatOption = Annotated[
    Optional[str], typer.Option("--format", help="chat, instruction or classification [default: from the file]")
]
DistractorsOption = Annotated[int, typer.Option("--distractors", min=0, help="RAFT: distractor chunks per example.")]


def _kind(value: str | None) -> Any:
    from ragtune.tune.dataset_formats import KINDS

    if value is not None and value not in KINDS:
        raise fail(f"--format must be one of {', '.join(KINDS)}, not {value!r}")
    return value


@data_app.command("prepare")
def prepare_command(
    source: Annotated[Path, typer.Argument(help="Chat JSONL, instruction JSONL or CSV (text,label).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for train/validation/test.jsonl and dataset.json.")],
    data_format: FormatOption = None,
    split: SplitFractionsOption = "0.8,0.1,0.1",
    seed: SplitSeedOption = 0,
    text_column: TextColumnOption = "text",
    label_column: LabelColumnOption = "label",
    base: Annotated[str, typer.Option("--base", help="Model whose chat template and tokenizer measure length.")] = "smollm2-135m",
    max_tokens: Annotated[int, typer.Option("--max-tokens", help="Exclude conversations longer than this.")] = 2048,
    min_per_label: Annotated[int, typer.Option("--min-per-label", help="Exclude labels with fewer rows.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Validate, de-duplicate and split a training set; bad rows are reported by line and left out."""
    from ragtune.tune.prepare import write_prepared

    try:
        data = load_training_set(source, _kind(data_format), split, seed, text_column, label_column,
                                 max_tokens, base, min_per_label)
        write_prepared(data, out)
    except (RagtuneError, OSError) as exc:
        raise fail(str(exc)) from None
    manifest = data.manifest()
    if as_json:
        print(json.dumps(manifest, indent=2, ensure_ascii=False))
        return
    print_excluded(data)
    rows = manifest["splits"]
    console.print(f"[bold]{data.kind}[/] data from {source}: "
                  + ", ".join(f"{name} {info['rows']}" for name, info in rows.items())
                  + f"; {data.duplicates} duplicate(s) removed, {len(data.errors)} row(s) excluded", highlight=False)
    if "tokens" in data.stats:
        t = data.stats["tokens"]
        console.print(f"tokens per example: min {t['min']}, median {t['median']:g}, p95 {t['p95']}, max {t['max']}")
    if data.labels:
        console.print(f"{len(data.labels)} labels")
    console.print(f"sha256 {manifest['sha256']}\nwritten to {out}", highlight=False)


@data_app.command("raft")
def raft_command(
    questions: Annotated[Path, typer.Option("--questions", help="SQuAD JSON, or an eval set JSONL (answers optional).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Chat JSONL to write (train it with `ragtune tune lora`).")],
    corpus: Annotated[
        Optional[Path], typer.Option("--corpus", help="Documents to draw chunks from [default: the workspace's index].")
    ] = None,
    distractors: DistractorsOption = 4,
    no_golden: NoGoldenOption = 0.2,
    style: RaftStyleOption = "quote",
    without_golden: WithoutGoldenOption = "refuse",
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Use this many questions (seeded sample).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    user: EvalUserOption = "eval",
    groups: PrincipalGroupsOption = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """RAFT training data: each question with its golden chunk among hard-negative distractors, a
    share without the golden chunk, and an answer that quotes and cites the source."""
    from ragtune.decide.raft_data import build_raft_data
    from ragtune.types import Principal

    ws = resolve_workspace(workspace)
    config = raft_config(distractors, no_golden, style, without_golden, seed)
    show = not (quiet or as_json)
    try:
        with progress_display(show) as (track, on_embedded):
            data = build_raft_data(ws, questions, config, corpus=corpus, limit=limit,
                                   principal=Principal(user, frozenset(split_names(groups))),
                                   track=track, on_embedded=on_embedded)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if not data.examples:
        raise fail(f"no RAFT example could be made; first reasons: {'; '.join(data.skipped[:3])}")
    data.write(out)
    summary = {"out": str(out), "examples": len(data.examples), "with_golden": data.with_golden,
               "without_golden": len(data.examples) - data.with_golden, "skipped": data.skipped}
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    console.print(f"wrote {summary['examples']} RAFT examples to {out} ({summary['with_golden']} with the golden chunk, "
                  f"{summary['without_golden']} without); {len(data.skipped)} question(s) skipped", highlight=False)
    for reason in data.skipped[:5]:
        err_console.print(f"[yellow]skipped:[/] {reason}", highlight=False)
    console.print(f"train it: ragtune tune lora --data {out} --name raft --max-length 2048", highlight=False)
