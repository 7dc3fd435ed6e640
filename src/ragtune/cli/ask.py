"""``ragtune search|ask``: query the index as a principal."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ragtune.cli.common import (
    JsonOption,
    PrincipalGroupsOption,
    UserOption,
    WorkspaceOption,
    console,
    fail,
    resolve_workspace,
    split_names,
)
from ragtune.cli.render import shown
from ragtune.errors import RagtuneError
from ragtune.workspace import Workspace

KOption = Annotated[Optional[int], typer.Option("-k", help="How many hits to retrieve. [default: retrieval.k]")]
ModeOption = Annotated[Optional[str], typer.Option("--mode", help="dense | bm25 | hybrid. [default: retrieval.mode]")]
FilterOption = Annotated[
    Optional[str], typer.Option("--filter", help='Metadata filter as JSON, e.g. \'{"year": {"$gte": 2020}}\'.')
]


def _query_scope(user: str, groups: list[str] | None, mode: str | None, filters: str | None):  # type: ignore[no-untyped-def]
    """The principal and parsed filter shared by every command that reads the index."""
    from ragtune.types import Principal

    if mode is not None and mode not in ("dense", "bm25", "hybrid"):
        raise fail(f"--mode must be dense, bm25 or hybrid, not '{mode}'")
    try:
        parsed = json.loads(filters) if filters else None
    except json.JSONDecodeError as exc:
        raise fail(f"--filter is not valid JSON: {exc}") from None
    return Principal(user, frozenset(split_names(groups))), parsed


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    user: UserOption = "anonymous",
    groups: PrincipalGroupsOption = None,
    k: KOption = None,
    mode: ModeOption = None,
    filters: FilterOption = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Search the index as a principal: only documents the user may see can be returned."""
    from ragtune.generate.expand import LLMQueryExpander
    from ragtune.retrieve.api import search as run_search

    principal, parsed = _query_scope(user, groups, mode, filters)
    try:
        ws = resolve_workspace(workspace)
        config = ws.load_config()
        expander = LLMQueryExpander.from_config(config.llm) if config.retrieval.expand != "off" else None
        result = run_search(ws, query, principal, k=k, mode=mode, filters=parsed, config=config,  # type: ignore[arg-type]
                            expander=expander)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if not result.hits:
        console.print("no results visible to this user")
    for rank, hit in enumerate(result.hits, start=1):
        where = [shown(hit.source)]
        if hit.page is not None:
            where.append(f"page {hit.page}")
        if hit.heading_path:
            where.append(" > ".join(hit.heading_path))
        signals = " ".join(f"{name}={value:.3f}" for name, value in hit.scores.items())
        console.print(f"[bold]{rank}.[/] {' · '.join(where)}  [dim]{signals}[/]", highlight=False)
        preview = " ".join(hit.text.split())
        console.print("   " + (preview if len(preview) <= 240 else preview[:240] + " …"), markup=False, highlight=False)
    total = result.timings.get("total", 0.0) * 1000
    console.print(f"[dim]{result.mode} · {total:.1f} ms[/]", highlight=False)


def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    user: UserOption = "anonymous",
    groups: PrincipalGroupsOption = None,
    k: KOption = None,
    mode: ModeOption = None,
    filters: FilterOption = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the answer as it is written.")] = False,
    json_schema: Annotated[
        Optional[Path], typer.Option("--json-schema", help="Answer with JSON valid against this schema file.")
    ] = None,
    model: Annotated[
        Optional[str], typer.Option("--model", "-m", help="Answer with this model: name@production, name@v3 or an [llm] model.")
    ] = None,
    answer_mode: Annotated[
        Optional[str],
        typer.Option("--answer-mode", help="generate (the model writes the answer) or extract (quoted from the sources, no model)."),
    ] = None,
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer a question from the documents the user may see, with verified citations.

    With --stream --json, one JSON object per line: {"delta": ...} pieces, then {"answer": ...}.
    """
    from ragtune.generate.api import close_assistant, open_assistant
    from ragtune.generate.structured import load_schema

    principal, parsed = _query_scope(user, groups, mode, filters)
    if answer_mode not in (None, "generate", "extract"):
        raise fail(f"--answer-mode: '{answer_mode}' is not one of: generate, extract")
    try:
        schema = load_schema(json_schema) if json_schema else None
        ws = resolve_workspace(workspace)
        config = _with_model(ws, model) if model else ws.load_config()
        chosen = answer_mode or config.answer.mode
        assistant = open_assistant(ws, config, with_llm=chosen == "generate")
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    try:
        running = assistant.stream(question, principal, k=k, mode=mode, filters=parsed, json_schema=schema,  # type: ignore[arg-type]
                                   answer_mode=chosen)  # type: ignore[arg-type]
        for piece in running:
            if stream and as_json:
                print(json.dumps({"delta": piece}, ensure_ascii=False), flush=True)
            elif stream:
                sys.stdout.write(piece)
                sys.stdout.flush()
        answer = running.result()
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    finally:
        close_assistant(assistant)
    if as_json:
        data = answer.to_dict()
        print(json.dumps({"answer": data} if stream else data, indent=None if stream else 2, ensure_ascii=False))
        return
    if stream:
        print()
        if answer.rejected_text is not None:
            # The streamed text failed the citation check: say so, then show what replaces it.
            console.print("[bold yellow]✗ the text above is not supported by the sources; quoted from them instead:[/]",
                          highlight=False)
            console.print(answer.text, markup=False, highlight=False)
    else:
        console.print(answer.text, markup=False, highlight=False)
    if answer.supported is False and answer.rejected_text is None:
        console.print("[bold yellow]✗ not supported by the sources[/]", highlight=False)
    _print_citations(answer)


def _with_model(ws: Workspace, model: str):  # type: ignore[no-untyped-def]
    """The workspace's config with ``[llm] model`` replaced; a registered name is looked up."""
    from ragtune.registry.references import config_with_model

    return config_with_model(ws.config_path, ws.models_dir, model)


def _print_citations(answer) -> None:  # type: ignore[no-untyped-def]
    if answer.citations:
        console.print("[bold]sources[/]")
    seen: set[tuple[int, str]] = set()
    for citation in answer.citations:
        if (citation.number, citation.quote) in seen:
            continue
        seen.add((citation.number, citation.quote))
        where = shown(citation.source) + (f", page {citation.page}" if citation.page is not None else "")
        mark = {"attributed": " (attributed)", "quoted": " (quoted verbatim)"}.get(citation.origin, "")
        console.print(f"  [{citation.number}] {where}{mark}", markup=False, highlight=False)
        console.print(f'      "{" ".join(citation.quote.split())}"', markup=False, highlight=False, style="dim")
    for rejected in answer.rejected:
        console.print(f"  [yellow]removed [{rejected.number}][/]: {rejected.reason}", highlight=False)
    for flag in answer.flags:
        console.print(f"  [yellow]note:[/] {flag}", highlight=False)
    t = {name: seconds * 1000 for name, seconds in answer.timings.items()}
    stages = ("retrieve", "rerank", "time_to_first_token", "generate", "read", "total")
    parts = [f"{name.replace('_', ' ')} {t[name]:.0f} ms" for name in stages if t.get(name)]
    called = answer.found and answer.mode != "extract"
    tokens = f" · {answer.usage.prompt_tokens}+{answer.usage.completion_tokens} tokens" if called else " · model not called"
    console.print(f"[dim]{answer.model} · {' · '.join(parts)}{tokens}[/]", highlight=False)
