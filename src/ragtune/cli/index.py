"""``ragtune init|config|ingest|sync|status|inspect`` and ``ragtune index copy``: the workspace
and its index."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ragtune.cli.common import (
    JsonOption,
    QuietOption,
    RayOption,
    WorkspaceOption,
    console,
    err_console,
    fail,
    resolve_workspace,
    split_names,
)
from ragtune.cli.render import shown
from ragtune.errors import RagtuneError
from ragtune.workspace import Workspace

logger = logging.getLogger(__name__)

index_app = typer.Typer(help="Administer the index: copy it to another backend.", no_args_is_help=True)


def init(workspace: WorkspaceOption = None) -> None:
    """Create a workspace with a commented ragtune.toml."""
    ws = resolve_workspace(workspace)
    created = ws.init()
    state = "created" if created else "already exists"
    console.print(f"{ws.config_path} {state}")


def show_config(workspace: WorkspaceOption = None) -> None:
    """Print the effective configuration (defaults merged with ragtune.toml) as JSON."""
    ws = resolve_workspace(workspace)
    try:
        config = ws.load_config()
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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
        ray: RayOption = None,
    ) -> None:
        _run_ingest(paths, groups, users, include, exclude, strict, as_json, workspace, sync=sync, ray=ray)

    command.__doc__ = help_text
    return command


ingest = _ingest_command(
    False, "Load, chunk, embed and index documents; unchanged ones are skipped, changed ones replaced.")
sync = _ingest_command(
    True, "Like ingest, and also delete indexed documents that vanished from these paths.")


def _run_ingest(paths, groups, users, include, exclude, strict, as_json, workspace, sync: bool,  # type: ignore[no-untyped-def]
                ray: str | None = None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ragtune.ingest.api import ingest as run_ingest

    ws = resolve_workspace(workspace)
    try:
        config = ws.load_config()
        if include:
            config.ingest.include = include
        if exclude:
            config.ingest.exclude = [*config.ingest.exclude, *exclude]
        if ray:
            config.ingest.ray_address = ray
            config.ingest.executor = "ray"
        if config.ingest.executor == "ray":
            from ragtune.ingest.ray_executor import writer_note

            note = writer_note(config)  # also refuses a writer the backend cannot have
            if not as_json:
                err_console.print(note)
    except (RagtuneError, ValueError) as exc:
        raise fail(str(exc)) from None
    if not paths and not config.sql_sources:
        raise fail("nothing to ingest: give files or folders, or configure [[sql_sources]]")
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
                ws, paths or [], config=config, groups=split_names(groups), users=split_names(users),
                sync=sync,
                on_start=lambda total: progress.update(files, total=total),
                on_progress=lambda _r: progress.advance(files),
                on_embedded=on_embedded,
            )
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, ws)
    if strict and report.has_failures:
        raise typer.Exit(1)


# Up to this many sources, successes are listed one per line too; beyond, only counted.
LIST_SUCCESSES_UP_TO = 50


def _print_report(report, ws: Workspace) -> None:  # type: ignore[no-untyped-def]
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    list_ok = verbose or len(report.sources) <= LIST_SUCCESSES_UP_TO
    for source in report.sources:
        if source.status == "ok" and list_ok:
            console.print(
                f"[green]✓ ok[/]      {shown(source.source)}: {source.documents} document(s), "
                f"{source.chunks} chunk(s)", highlight=False,
            )
        elif source.status == "failed":
            console.print(f"[red]✗ failed[/]  {shown(source.source)}: {source.reason}", highlight=False)
            for error in source.errors[1:]:
                console.print(f"           {error}", highlight=False)
        elif source.status == "partial":
            console.print(
                f"[yellow]! partial[/] {shown(source.source)}: {source.documents} document(s) kept, "
                f"{source.reason}", highlight=False,
            )
            for error in source.errors:
                console.print(f"           {error.record or ''}: {error.reason}", highlight=False)
        elif source.status == "skipped" and verbose:
            console.print(f"[dim]- skipped {shown(source.source)}: {source.reason}[/]", highlight=False)
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


def status(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """Counts, embedder and vector-index freshness of the workspace index."""
    from ragtune.retrieve.api import index_status

    try:
        state = index_status(resolve_workspace(workspace))
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps(state.to_dict(), indent=2))
        return
    table = Table(title="index", show_header=False, box=None)
    table.add_row("backend", state.backend)
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
        config = resolve_workspace(workspace).load_config()
        result = inspect_file(file, config, split_names(groups))
    except RagtuneError as exc:
        raise fail(str(exc)) from None
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
    listed = chunks if max_chunks <= 0 else chunks[:max_chunks]
    for number, chunk in enumerate(listed, start=1):
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
    if len(listed) < len(chunks):
        console.print(f"… {len(chunks) - len(listed)} more chunk(s); use --max-chunks 0 for all")


ToOption = Annotated[
    str,
    typer.Option("--to", help="Where to copy: a PostgreSQL URL (postgresql://user@host:5432/db), or a folder for "
                 "SQLite (sqlite:PATH or a plain path)."),
]
SchemaOption = Annotated[
    Optional[str],
    typer.Option("--schema", help="PostgreSQL target: the schema to copy into. [default: the workspace's \\[index] schema]"),
]
ReplaceOption = Annotated[
    bool,
    typer.Option("--replace", help="Copy into a target that holds documents: it ends equal to the source (documents "
                 "the source lacks are deleted). Also how an interrupted copy is finished."),
]
# The variable the printed [index] lines name, as `make pg` suggests: the password stays out of ragtune.toml.
URL_ENV = "RAGTUNE_PG_URL"


@index_app.command("copy")
def copy_command(
    to: ToOption,
    schema: SchemaOption = None,
    replace: ReplaceOption = False,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Copy the workspace's index to another backend or place, vectors included: nothing is re-embedded.

    The target is created for the index's embedder, or must be empty (or --replace). Each batch of documents is one
    transaction: an interrupted copy leaves whole documents only, and the same command with --replace finishes it.

    ragtune index copy --to postgresql://ragtune@db:5432/rag --schema team_a

    ragtune index copy --to sqlite:/srv/other-workspace/index

    Then point a workspace at the copy with the \\[index] lines printed at the end.
    """
    from ragtune.index.factory import build_store, is_postgres_url, open_index_at

    ws = resolve_workspace(workspace)
    try:
        config = ws.load_config()
        source = build_store(ws, config, None)  # the vectors are copied: no embedder needed
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    try:
        try:
            target = open_index_at(to, config, source.embedder, source.dimension, schema)
        except RagtuneError as exc:
            raise fail(str(exc)) from None
        try:
            report = _run_copy(source, target, replace, show_progress=not (as_json or quiet))
        finally:
            target.close()
    finally:
        source.close()
    schema_used = schema or config.index.schema_name
    toml, note = _postgres_lines(to, schema_used) if is_postgres_url(to) else _sqlite_lines(report.target)
    if as_json:
        print(json.dumps({**report.to_dict(), "config": toml, "config_note": note}, indent=2, ensure_ascii=False))
    else:
        console.print(f"copied {report.documents} document(s), {report.chunks} chunk(s) in {report.seconds:.2f} s",
                      highlight=False)
        if report.deleted:
            console.print(f"deleted {report.deleted} target document(s) the source does not hold", highlight=False)
        console.print(f"from {report.source}\nto   {report.target}\n\n{note}\n\n{toml}", highlight=False, markup=False)
    for problem in report.problems:
        err_console.print(f"[red]✗ target:[/] {problem}", highlight=False)
    if report.problems:
        raise typer.Exit(1)


def _run_copy(source, target, replace: bool, show_progress: bool):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ragtune.index.copy import copy_index

    progress = Progress(TextColumn("copying documents"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=err_console, transient=True, disable=not show_progress)
    task = progress.add_task("copy", total=source.status().documents)
    try:
        with progress:
            return copy_index(source, target, replace=replace, on_progress=lambda n: progress.advance(task, n))
    except RagtuneError as exc:
        raise fail(f"--to: {exc}") from None
    except Exception as exc:
        # A dropped connection or a full disk mid-copy: committed batches stay whole, so say how to finish.
        logger.info("index copy failed", exc_info=True)
        done = int(progress.tasks[0].completed)
        raise fail(f"the copy stopped after {done} document(s): {exc}. The target holds whole documents only; "
                   "run the same command with --replace to finish it") from None


def _postgres_lines(url: str, schema: str) -> tuple[str, str]:
    """The ragtune.toml lines that read the PostgreSQL copy, with a note: the URL stays out of the
    file (in the variable) and is shown masked."""
    from ragtune.index.postgres_store import masked_url

    toml = f'[index]\nbackend = "postgres"\nurl_env = "{URL_ENV}"\nschema = "{schema}"'
    note = (f"To use it from a workspace, set {URL_ENV} to the URL ({masked_url(url)}, its password where *** is "
            "shown) and put in its ragtune.toml:")
    return toml, note


def _sqlite_lines(folder: str) -> tuple[str, str]:
    """SQLite has no location setting: a workspace reads ``<workspace>/index/``."""
    path = Path(folder)
    if path.name == "index":
        note = f"A workspace at {path.parent} reads this copy with, in its ragtune.toml:"
    else:
        note = (f"A workspace reads its SQLite index from <workspace>/index/: move {path} there, and put in its "
                "ragtune.toml:")
    return '[index]\nbackend = "sqlite"', note
