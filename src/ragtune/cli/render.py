"""Display shared by the command groups: progress bars, run summaries, excluded rows, and where
trainers' log lines go."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from rich.table import Table

from ragtune.cli.common import console, err_console

T = TypeVar("T")


def shown(source: str) -> str:
    """A source as the user typed it: relative to the current folder when inside it."""
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source


@contextmanager
def progress_display(enabled: bool) -> Iterator[tuple[Any, Any]]:
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


def print_summary(run) -> None:  # type: ignore[no-untyped-def]
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
        if name == "numeric_match":
            table.add_row("  questions with a numeric gold", *(str(run.summary[v].get("numeric_questions", 0)) for v in variants))
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


def print_excluded(data) -> None:  # type: ignore[no-untyped-def]
    """The first rows a training set left out, with their line numbers, on stderr."""
    for error in data.errors[:20]:
        err_console.print(f"[yellow]excluded[/] {data.source}:{error.line}: {error.message}", highlight=False)
    if len(data.errors) > 20:
        err_console.print(f"[yellow]… {len(data.errors) - 20} more excluded row(s): see dataset.json[/]")


def training_output():  # type: ignore[no-untyped-def]
    """Trainers print their log lines to stdout; they belong on stderr, beside the progress bars,
    so stdout carries only the result (and --json stays parseable)."""
    import contextlib
    import sys

    return contextlib.redirect_stdout(sys.stderr)
