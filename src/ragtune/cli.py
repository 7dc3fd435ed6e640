"""The ``ragtune`` command: one thin command per use case over the Python API.

Heavy libraries are imported inside commands, so ``ragtune --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ragtune import __version__
from ragtune.cli_common import (
    JsonOption,
    PrincipalGroupsOption,
    UserOption,
    WorkspaceOption,
    _fail,
    _split_names,
    _State,
    _workspace,
    console,
    err_console,
)
from ragtune.errors import RagtuneError
from ragtune.workspace import Workspace

app = typer.Typer(
    name="ragtune",
    help="RAG, fine-tuning, or both — measured on your own data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
def _version(value: bool) -> None:
    if value:
        console.print(f"ragtune {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    workspace: WorkspaceOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    _State.workspace = workspace
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@app.command()
def init(workspace: WorkspaceOption = None) -> None:
    """Create a workspace with a commented ragtune.toml."""
    ws = _workspace(workspace)
    created = ws.init()
    state = "created" if created else "already exists"
    console.print(f"{ws.config_path} {state}")


@app.command("config")
def show_config(workspace: WorkspaceOption = None) -> None:
    """Print the effective configuration (defaults merged with ragtune.toml) as JSON."""
    ws = _workspace(workspace)
    try:
        config = ws.load_config()
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    console.print_json(config.model_dump_json(by_alias=True))


PathsArgument = Annotated[
    Optional[list[Path]],
    typer.Argument(help="Files and folders to ingest (optional when ragtune.toml declares sql_sources)."),
]
AccessGroupsOption = Annotated[
    Optional[list[str]],
    typer.Option("--groups", "-g", help="Groups allowed to see documents that have no ACL file "
                 "or front matter (comma-separated). Without it: the 'public' group."),
]
UsersOption = Annotated[Optional[list[str]], typer.Option("--users", help="Users allowed, like --groups.")]
IncludeOption = Annotated[Optional[list[str]], typer.Option("--include", help="Glob of files to take (repeatable).")]
ExcludeOption = Annotated[Optional[list[str]], typer.Option("--exclude", help="Glob of files to leave out (repeatable).")]
StrictOption = Annotated[bool, typer.Option("--strict", help="Exit 1 if any file or record failed.")]
KOption = Annotated[Optional[int], typer.Option("-k", help="How many hits to retrieve. [default: retrieval.k]")]
ModeOption = Annotated[Optional[str], typer.Option("--mode", help="dense | bm25 | hybrid. [default: retrieval.mode]")]
FilterOption = Annotated[
    Optional[str], typer.Option("--filter", help='Metadata filter as JSON, e.g. \'{"year": {"$gte": 2020}}\'.')
]


def _query_scope(user: str, groups: list[str] | None, mode: str | None, filters: str | None):  # type: ignore[no-untyped-def]
    """The principal and parsed filter shared by every command that reads the index."""
    from ragtune.types import Principal

    if mode is not None and mode not in ("dense", "bm25", "hybrid"):
        raise _fail(f"--mode must be dense, bm25 or hybrid, not '{mode}'")
    try:
        parsed = json.loads(filters) if filters else None
    except json.JSONDecodeError as exc:
        raise _fail(f"--filter is not valid JSON: {exc}") from None
    return Principal(user, frozenset(_split_names(groups))), parsed


def _ingest_command(sync: bool, help_text: str):  # type: ignore[no-untyped-def]
    """``ingest`` and ``sync`` take the same options and differ only in deleting what vanished."""

    def command(
        paths: PathsArgument = None,
        groups: AccessGroupsOption = None,
        users: UsersOption = None,
        include: IncludeOption = None,
        exclude: ExcludeOption = None,
        strict: StrictOption = False,
        as_json: JsonOption = False,
        workspace: WorkspaceOption = None,
    ) -> None:
        _run_ingest(paths, groups, users, include, exclude, strict, as_json, workspace, sync=sync)

    command.__doc__ = help_text
    return command


app.command("ingest")(_ingest_command(
    False, "Load, chunk, embed and index documents; unchanged ones are skipped, changed ones replaced."))
app.command("sync")(_ingest_command(
    True, "Like ingest, and also delete indexed documents that vanished from these paths."))


def _run_ingest(paths, groups, users, include, exclude, strict, as_json, workspace, sync: bool) -> None:  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ragtune.ingest.api import ingest as run_ingest

    ws = _workspace(workspace)
    try:
        config = ws.load_config()
        if include:
            config.ingest.include = include
        if exclude:
            config.ingest.exclude = [*config.ingest.exclude, *exclude]
    except (RagtuneError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if not paths and not config.sql_sources:
        raise _fail("nothing to ingest: give files or folders, or configure [[sql_sources]]")
    progress = Progress(
        TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True, disable=as_json,
    )
    files = progress.add_task("files", total=None)
    embedded = progress.add_task("embedding", total=None, visible=False)

    def on_embedded(n: int) -> None:
        progress.update(embedded, visible=True, advance=n)

    try:
        with progress:
            report = run_ingest(
                ws, paths or [], config=config, groups=_split_names(groups), users=_split_names(users),
                sync=sync,
                on_start=lambda total: progress.update(files, total=total),
                on_progress=lambda _r: progress.advance(files),
                on_embedded=on_embedded,
            )
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, ws)
    if strict and report.has_failures:
        raise typer.Exit(1)


def _shown(source: str) -> str:
    """A source as the user typed it: relative to the current folder when inside it."""
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source


# Up to this many sources, successes are listed one per line too; beyond, only counted.
LIST_SUCCESSES_UP_TO = 50


def _print_report(report, ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    list_ok = verbose or len(report.sources) <= LIST_SUCCESSES_UP_TO
    for source in report.sources:
        if source.status == "ok" and list_ok:
            console.print(
                f"[green]✓ ok[/]      {_shown(source.source)}: {source.documents} document(s), "
                f"{source.chunks} chunk(s)", highlight=False,
            )
        elif source.status == "failed":
            console.print(f"[red]✗ failed[/]  {_shown(source.source)}: {source.reason}", highlight=False)
            for error in source.errors[1:]:
                console.print(f"           {error}", highlight=False)
        elif source.status == "partial":
            console.print(
                f"[yellow]! partial[/] {_shown(source.source)}: {source.documents} document(s) kept, "
                f"{source.reason}", highlight=False,
            )
            for error in source.errors:
                console.print(f"           {error.record or ''}: {error.reason}", highlight=False)
        elif source.status == "skipped" and verbose:
            console.print(f"[dim]- skipped {_shown(source.source)}: {source.reason}[/]", highlight=False)
    table = Table(title="ingest summary", show_header=False, box=None)
    table.add_row("files ingested", str(report.succeeded))
    table.add_row("files failed", str(report.failed))
    table.add_row("files skipped (unsupported type)", str(report.skipped))
    table.add_row("documents", str(report.documents))
    table.add_row("chunks", str(report.chunks))
    index = report.index
    table.add_row("documents added / updated", f"{index.get('added', 0)} / {index.get('updated', 0)}")
    table.add_row("documents unchanged", str(index.get("unchanged", 0)))
    if index.get("access_updated"):
        table.add_row("access lists updated", str(index["access_updated"]))
    if index.get("deleted"):
        table.add_row("documents deleted (vanished)", str(index["deleted"]))
    table.add_row("chunks embedded / reused", f"{index.get('chunks_embedded', 0)} / {index.get('chunks_reused', 0)}")
    table.add_row("seconds", f"{report.seconds:.2f}")
    table.add_row("index", str(ws.index_dir))
    console.print(table)


@app.command()
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
    from ragtune.retrieve.api import search as run_search

    principal, parsed = _query_scope(user, groups, mode, filters)
    try:
        result = run_search(_workspace(workspace), query, principal, k=k, mode=mode, filters=parsed)  # type: ignore[arg-type]
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if not result.hits:
        console.print("no results visible to this user")
    for rank, hit in enumerate(result.hits, start=1):
        where = [_shown(hit.source)]
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


@app.command()
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
        raise _fail(f"--answer-mode: '{answer_mode}' is not one of: generate, extract")
    try:
        schema = load_schema(json_schema) if json_schema else None
        ws = _workspace(workspace)
        config = _with_model(ws, model) if model else ws.load_config()
        chosen = answer_mode or config.answer.mode
        assistant = open_assistant(ws, config, with_llm=chosen == "generate")
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
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
        raise _fail(str(exc)) from None
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
        where = _shown(citation.source) + (f", page {citation.page}" if citation.page is not None else "")
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


@app.command()
def status(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Counts, embedder and vector-index freshness of the workspace index."""
    from ragtune.retrieve.api import index_status

    try:
        state = index_status(_workspace(workspace))
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(state.to_dict(), indent=2))
        return
    table = Table(title="index", show_header=False, box=None)
    table.add_row("documents", str(state.documents))
    table.add_row("chunks", str(state.chunks))
    table.add_row("embedder", f"{state.embedder} ({state.dimension}-d)")
    table.add_row("vector index", state.ann)
    freshness = "fresh" if state.fresh else (
        f"behind (generation {state.ann_generation} of {state.generation}); caught up on next use"
    )
    table.add_row("freshness", freshness)
    table.add_row("path", state.path)
    console.print(table)


@app.command()
def inspect(
    file: Annotated[Path, typer.Argument(help="The file to show chunks for.")],
    max_chunks: Annotated[int, typer.Option("--max-chunks", "-n", help="Show at most N chunks per document (0 = all).")] = 0,
    full: Annotated[bool, typer.Option("--full", help="Show whole chunk texts, not a preview.")] = False,
    groups: Annotated[Optional[list[str]], typer.Option("--groups", "-g", help="As for ingest.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print documents and chunks as JSON.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Show the chunks a file produces, with their spans, pages and heading paths."""
    from ragtune.ingest.api import inspect_file

    try:
        config = _workspace(workspace).load_config()
        result = inspect_file(file, config, _split_names(groups))
    except RagtuneError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        payload = {
            "documents": [
                {"id": d.id, "source": d.source, "format": d.format, "metadata": d.metadata,
                 "allowed_groups": sorted(d.access.allowed_groups),
                 "allowed_users": sorted(d.access.allowed_users),
                 "chunks": [c.to_dict() for c in chunks]}
                for d, chunks in result.documents
            ],
            "errors": [str(e) for e in result.errors],
        }
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        for document, chunks in result.documents:
            _print_document(document, chunks, max_chunks, full)
        for error in result.errors:
            console.print(f"[red]✗[/] {error}", highlight=False)
    if not result.documents:
        raise typer.Exit(1)


def _print_document(document, chunks, max_chunks: int, full: bool) -> None:  # type: ignore[no-untyped-def]
    access = document.access
    who = ", ".join([*(f"group:{g}" for g in sorted(access.allowed_groups)),
                     *(f"user:{u}" for u in sorted(access.allowed_users))])
    console.rule(f"{document.source}", style="cyan")
    console.print(
        f"document {document.id} · format {document.format} · {len(document.text)} chars · "
        f"{len(chunks)} chunks\naccess: {who} (from {access.origin})",
        highlight=False,
    )
    shown = chunks if max_chunks <= 0 else chunks[:max_chunks]
    for number, chunk in enumerate(shown, start=1):
        where = [f"[{chunk.start}:{chunk.end}]", f"{chunk.token_count} tokens"]
        if chunk.page is not None:
            pages = chunk.page if chunk.page == chunk.page_end else f"{chunk.page}-{chunk.page_end}"
            where.append(f"page {pages}")
        if chunk.heading_path:
            where.append(" > ".join(chunk.heading_path))
        text = chunk.text if full or len(chunk.text) <= 300 else chunk.text[:300] + " …"
        console.print(f"[bold]#{number}[/] {chunk.id} " + " · ".join(where), highlight=False)
        console.print(text, markup=False, highlight=False)
        console.print()
    if len(shown) < len(chunks):
        console.print(f"… {len(chunks) - len(shown)} more chunk(s); use --max-chunks 0 for all")


def _register_subcommands() -> None:
    from ragtune.cli_advise import advise_command
    from ragtune.cli_compare import compare_command  # also adds data raft
    from ragtune.cli_eval import eval_app, tune_app
    from ragtune.cli_serve import keys_app, serve_command
    from ragtune.cli_tune import classify_command, data_app, models_app  # also adds tune lora|classifier|embedder

    app.add_typer(eval_app, name="eval")
    app.add_typer(tune_app, name="tune")
    app.add_typer(data_app, name="data")
    app.add_typer(models_app, name="models")
    app.command("classify")(classify_command)
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")
    app.command("compare")(compare_command)
    app.command("advise")(advise_command)


_register_subcommands()


def main() -> None:
    app()
