"""``ragtune models ...`` and ``ragtune classify``: the model registry, and labelling text with a
registered classifier. Thin wrappers over ``ragtune.tune.api``."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from ragtune.cli.common import JsonOption, WorkspaceOption, console, err_console, fail, resolve_workspace
from ragtune.errors import RagtuneError

models_app = typer.Typer(help="The model registry: trained models, their lineage and stages.", no_args_is_help=True)


@models_app.command("list")
def models_list(
    name: Annotated[Optional[str], typer.Argument(help="Only this model's versions.")] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Registered models: version, kind, stage, base model, data hash and held-out scores."""
    from ragtune.tune.api import registry

    try:
        entries, problems = registry(resolve_workspace(workspace)).list(name)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    for problem in problems:
        err_console.print(f"[red]warning:[/] {problem}", highlight=False)
    if as_json:
        print(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
    elif not entries:
        console.print("no models registered yet: train one with `ragtune tune lora|classifier|embedder|reader`")
    else:
        table = Table("model", "kind", "stage", "base", "data", "created", "held-out")
        for e in entries:
            scores = ", ".join(f"{k} {v}" for k, v in list(e.metrics.items())[:3] if not isinstance(v, (list, dict)))
            stage = f"[bold green]{e.stage}[/]" if e.stage == "production" else e.stage
            table.add_row(e.ref, e.kind, stage, e.base_model, e.data.get("sha256", "")[:12], e.created_at[:19], scores)
        console.print(table)
    if problems:
        raise typer.Exit(1)


@models_app.command("show")
def models_show(ref: Annotated[str, typer.Argument(help="name@v3, name@production, name@latest or name.")],
                workspace: WorkspaceOption = None) -> None:
    """Everything the registry knows about one version: lineage, metrics, artifacts, stage history."""
    from ragtune.tune.api import registry

    try:
        entry = registry(resolve_workspace(workspace)).get(ref)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    data = entry.to_dict()
    data["path"] = str(entry.path)
    print(json.dumps(data, indent=2, ensure_ascii=False))


@models_app.command("promote")
def models_promote(
    ref: Annotated[str, typer.Argument(help="The version to promote, e.g. name@v3.")],
    stage: Annotated[str, typer.Option("--stage", help="candidate, production or archived.")] = "production",
    workspace: WorkspaceOption = None,
) -> None:
    """Move a version to a stage; a new production version archives the previous one."""
    from ragtune.tune.api import registry

    try:
        entry, replaced = registry(resolve_workspace(workspace)).promote(ref, stage)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    console.print(f"{entry.ref} is now {entry.stage}" + (f"; {replaced.ref} archived" if replaced else ""), highlight=False)


@models_app.command("rollback")
def models_rollback(name: Annotated[str, typer.Argument(help="Model name.")], workspace: WorkspaceOption = None) -> None:
    """Put the previous production version back in production (the current one is archived)."""
    from ragtune.tune.api import registry

    try:
        restored, retired = registry(resolve_workspace(workspace)).rollback(name)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    console.print(f"{restored.ref} is production again; {retired.ref} archived", highlight=False)


@models_app.command("delete")
def models_delete(
    ref: Annotated[str, typer.Argument(help="The version to delete, e.g. name@v1.")],
    force: Annotated[bool, typer.Option("--force", help="Delete even a production version.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Delete a version and its files."""
    from ragtune.tune.api import registry

    try:
        entry = registry(resolve_workspace(workspace)).delete(ref, force=force)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    console.print(f"deleted {entry.ref}", highlight=False)


def classify_command(
    texts: Annotated[list[str], typer.Argument(help="Text(s) to classify.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Registry reference of a classifier.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Show this many labels per text.")] = 1,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Label text with a fine-tuned classifier from the registry."""
    from ragtune.tune.api import classify

    try:
        entry, predictions = classify(resolve_workspace(workspace), model, texts)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    rows = []
    for text, prediction in zip(texts, predictions):
        ranked = sorted(prediction.scores.items(), key=lambda kv: -kv[1])[:top]
        rows.append({"text": text, "label": prediction.label, "score": round(prediction.score, 4),
                     "top": [{"label": k, "score": round(v, 4)} for k, v in ranked]})
    if as_json:
        print(json.dumps({"model": entry.ref, "predictions": rows}, indent=2, ensure_ascii=False))
        return
    for row in rows:
        shown = ", ".join(f"{t['label']} {t['score']:.2f}" for t in row["top"])
        console.print(f"[bold]{row['label']}[/]  {shown}  [dim]{row['text']}[/]", highlight=False)
