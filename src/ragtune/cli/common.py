"""What every ``ragtune`` command module shares: consoles, the workspace and other common options,
error exits, and the helpers that turn options into data sets and settings.

Option types used by more than one command group are defined here, once each; an option only one
group uses stays in that group's module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape

from ragtune.config import format_validation_error
from ragtune.workspace import WORKSPACE_ENV, Workspace

SettingsT = TypeVar("SettingsT", bound=BaseModel)

console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option(
        "--workspace", "-w", envvar=WORKSPACE_ENV, show_envvar=True,
        help="Workspace folder holding ragtune.toml and the index. [default: ./.ragtune]",
    ),
]


class State:
    """What the root callback was given, for the commands: the global ``--workspace``."""

    workspace: Path | None = None


def resolve_workspace(option: Path | None) -> Workspace:
    """The workspace named by a command's ``--workspace``, else the global one, else the default."""
    return Workspace.resolve(option or State.workspace)


def split_names(values: list[str] | None) -> list[str]:
    """``--groups a,b --groups c`` -> [a, b, c]."""
    return [n.strip() for v in values or [] for n in v.split(",") if n.strip()]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr; ``raise fail(...)`` exits with ``code``."""
    # escaped: messages name settings like "[index] url", which rich would take for markup and drop
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(code)


def build_config(model: type[SettingsT], what: str, **values: Any) -> SettingsT:
    """``model(**values)``; invalid options exit with each field's reason, naming ``what``."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise fail(format_validation_error(what, exc)) from None


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
RayOption = Annotated[
    Optional[str],
    typer.Option("--ray", metavar="ADDRESS", help="Run on this Ray cluster (host:port of its head, ray://host:10001 "
                 "or 'auto'); every node needs this ragtune installed and the same paths."),
]
UserOption = Annotated[str, typer.Option("--user", "-u", help="Act as this user id.")]
PrincipalGroupsOption = Annotated[
    Optional[list[str]], typer.Option("--groups", "-g", help="The user's groups (comma-separated); 'public' is implied.")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]

# Evaluation data (eval, tune retrieval, compare).
BeirOption = Annotated[Optional[Path], typer.Option("--beir", help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/.")]
BehaviourOption = Annotated[
    Optional[Path],
    typer.Option("--behaviour", help="TOML of behaviour settings (format, style examples, labels) instead of "
                 "the workspace's [eval.behaviour]; its paths are read from its folder."),
]
EvalsetOption = Annotated[
    Optional[Path],
    typer.Option("--evalset", help="Your own JSONL eval set, run on the workspace's index (see docs/evaluation.md)."),
]
EvalLimitOption = Annotated[Optional[int], typer.Option("--limit", min=1, help="Evaluate this many questions (seeded sample).")]
SampleSeedOption = Annotated[int, typer.Option("--seed", help="Seed of the --limit sample.")]
ReportOption = Annotated[Optional[Path], typer.Option("--report", help="Also write an HTML report with plots here.")]
EvalUserOption = Annotated[str, typer.Option("--user", "-u", help="Ask as this user (eval set items may name their own).")]

# Training data (data prepare, tune lora|classifier|embedder|reader).
TextColumnOption = Annotated[str, typer.Option("--text-column", help="Column (or JSON field) holding the text.")]
LabelColumnOption = Annotated[str, typer.Option("--label-column", help="Column (or JSON field) holding the label.")]
SplitFractionsOption = Annotated[str, typer.Option("--split", help="Train, validation and test shares.")]
SplitSeedOption = Annotated[int, typer.Option("--seed", help="Seed of the split (and of training).")]

# RAFT examples (data raft, compare).
NoGoldenOption = Annotated[
    float, typer.Option("--no-golden", min=0.0, max=1.0, help="RAFT: share of examples without the golden chunk.")
]
RaftStyleOption = Annotated[
    str, typer.Option("--raft-style", help="RAFT answers: quote (the cited source words), cot (quote, then Answer:) "
                      "or reply (the gold answer as written: whole replies in a house format).")
]
WithoutGoldenOption = Annotated[
    str, typer.Option("--without-golden", help="RAFT examples without the golden chunk teach: refuse or answer.")
]


def eval_dataset(beir, squad, evalset, split: str, limit: int | None, seed: int, ws, allowed: str):  # type: ignore[no-untyped-def]
    """The one data set named by --beir, --squad or --evalset (``allowed`` lists the options)."""
    from ragtune.evaluate.data import from_beir, from_evalset, from_squad

    given = {"--beir": beir, "--squad": squad, "--evalset": evalset}
    chosen = [k for k, v in given.items() if v is not None]
    if len(chosen) != 1 or chosen[0] not in allowed.split(","):
        raise fail(f"give exactly one of {allowed.replace(',', ', ')}")
    if beir is not None:
        return from_beir(beir, split, limit, seed)
    if squad is not None:
        return from_squad(squad, ws, limit, seed)
    assert evalset is not None
    data = from_evalset(evalset, limit, seed)
    for error in data.errors:
        err_console.print(f"[yellow]skipped:[/] {error}", highlight=False)
    return data


def load_training_set(  # type: ignore[no-untyped-def]
    path: Path, kind: str, split: str, seed: int, text_column: str, label_column: str,
    max_tokens: int | None = None, base: str | None = None, min_per_label: int = 1,
):
    """A training set from a prepared folder, or from a file validated and split per the options."""
    from ragtune.generate.base_model import chat_token_counter
    from ragtune.tune.dataset_formats import detect_kind
    from ragtune.tune.prepare import load_training_data, parse_fractions

    options: dict[str, Any] = {}
    if not path.is_dir():
        found = kind or detect_kind(path)
        options = {"fractions": parse_fractions(split), "seed": seed, "text_column": text_column,
                   "label_column": label_column, "min_per_label": min_per_label}
        if found != "classification" and base is not None:
            options.update(count_tokens=chat_token_counter(base), max_tokens=max_tokens)
    return load_training_data(path, kind, **options)


def raft_config(distractors: int, no_golden: float, style: str, without_golden: str, seed: int):  # type: ignore[no-untyped-def]
    """The RAFT settings of ``data raft`` and ``compare``; invalid ones exit with the reason."""
    from ragtune.tune.raft_config import RaftConfig

    return build_config(RaftConfig, "RAFT options", distractors=distractors, no_golden_share=no_golden, style=style,
                        without_golden=without_golden, seed=seed)
