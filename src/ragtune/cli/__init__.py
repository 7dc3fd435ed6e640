"""The ``ragtune`` command: one thin command per use case over the Python API.

The root ``app`` is assembled here from an explicit list: the commands of each command-group
module (``index``, ``ask``, ``models``, ``serve``, ``compare``, ``advise``) and the sub-apps
(``index``, ``eval``, ``tune``, ``data``, ``models``, ``keys``). Command modules share ``cli.common``
(options, consoles, error exits) and ``cli.render`` (progress, summaries), never each other.

Heavy libraries are imported inside commands, so ``ragtune --help`` stays fast.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from ragtune import __version__
from ragtune.cli import advise, ask, compare, data, index, models, serve, tune
from ragtune.cli import eval as evaluation  # not bound as `eval`, which would hide the builtin
from ragtune.cli.common import State, WorkspaceOption, console

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
    State.workspace = workspace
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# The top-level commands, in the order `ragtune --help` lists them.
COMMANDS = (
    ("init", index.init),
    ("config", index.show_config),
    ("ingest", index.ingest),
    ("sync", index.sync),
    ("search", ask.search),
    ("ask", ask.ask),
    ("status", index.status),
    ("inspect", index.inspect),
    ("classify", models.classify_command),
    ("serve", serve.serve_command),
    ("compare", compare.compare_command),
    ("advise", advise.advise_command),
)

# The command groups (listed after the commands), each a sub-app of its module.
GROUPS = (
    ("index", index.index_app),
    ("eval", evaluation.eval_app),
    ("tune", tune.tune_app),
    ("data", data.data_app),
    ("models", models.models_app),
    ("keys", serve.keys_app),
)


def _assemble() -> None:
    for name, command in COMMANDS:
        app.command(name)(command)
    for name, group in GROUPS:
        app.add_typer(group, name=name)


_assemble()


def main() -> None:
    app()
