"""What every ``ragtune`` command module shares: consoles, the workspace option, error exits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ragtune.workspace import WORKSPACE_ENV, Workspace

console = Console()
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Optional[Path],
    typer.Option(
        "--workspace", "-w", envvar=WORKSPACE_ENV, show_envvar=True,
        help="Workspace folder holding ragtune.toml and the index. [default: ./.ragtune]",
    ),
]


class _State:
    workspace: Path | None = None


def _workspace(option: Path | None) -> Workspace:
    return Workspace.resolve(option or _State.workspace)


def _split_names(values: list[str] | None) -> list[str]:
    """``--groups a,b --groups c`` -> [a, b, c]."""
    return [n.strip() for v in values or [] for n in v.split(",") if n.strip()]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
UserOption = Annotated[str, typer.Option("--user", "-u", help="Act as this user id.")]
PrincipalGroupsOption = Annotated[
    Optional[list[str]], typer.Option("--groups", "-g", help="The user's groups (comma-separated); 'public' is implied.")
]
