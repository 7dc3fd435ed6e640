"""``ragtune serve`` and ``ragtune keys``: the HTTP service and its API keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from ragtune.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    err_console,
    fail,
    resolve_workspace,
    split_names,
)
from ragtune.errors import RagtuneError

if TYPE_CHECKING:
    from ragtune.serve.keys import KeyBackend

keys_app = typer.Typer(help="API keys of the server: each maps to a user and groups.", no_args_is_help=True)


def serve_command(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on. [default: serve.host, 127.0.0.1]")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port. [default: serve.port, 8000]")] = None,
    open_access: Annotated[bool, typer.Option(
        "--open", help="Loopback only: answer requests without a key as the anonymous public user.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the workspace over HTTP: OpenAI-compatible /v1 endpoints, search, ask, documents, the web UI.

    Every request runs as its API key's principal. Without keys the server starts only with
    --open on a loopback address. With the postgres index backend, keys and rate limits are in the
    database, shared by every replica over the same index.
    """
    import uvicorn

    from ragtune.serve.app import create_app, is_loopback
    from ragtune.serve.keys import KeyRing
    from ragtune.serve.service import Service
    from ragtune.serve.stores import key_store_for, open_state_database, rate_limiter_for, unread_key_file

    ws = resolve_workspace(workspace)
    with ExitStack() as opened:  # closed in reverse order however the command ends
        try:
            config = ws.load_config()
            host = host or config.serve.host
            port = config.serve.port if port is None else port
            database = open_state_database(config)  # None on SQLite: keys.json and buckets in memory
            if database is not None:
                opened.callback(database.close)
            keys = KeyRing(key_store_for(ws, config, database))
            stranded = unread_key_file(ws, config)
            if stranded:
                err_console.print(f"note: {ws.keys_path} holds {len(stranded)} active key(s) that this server does not "
                                  f"read: with [index] backend postgres the keys live in {keys.store.where}; create "
                                  "them there with 'ragtune keys create'", markup=False, highlight=False, soft_wrap=True)
            if open_access and not is_loopback(host):
                raise fail(f"--open serves without keys and is refused on '{host}': only on a loopback address")
            if not len(keys) and not open_access:
                where = "" if is_loopback(host) else f" on the non-loopback address '{host}'"
                raise fail(f"no API keys{where}: create one with 'ragtune keys create --user NAME [--groups a,b] "
                           "[--admin]'" + (", or pass --open to serve without keys on loopback" if is_loopback(host) else ""))
            service = Service(ws, config)
            opened.callback(service.close)
            app = create_app(service, keys, settings=config.serve, open_access=open_access,
                             limiter=rate_limiter_for(config.serve, database))
        except RagtuneError as exc:
            raise fail(str(exc)) from None
        err_console.print(f"ragtune serving {ws.root} on http://{host}:{port} as replica {app.state.ragtune.replica} "
                          f"({len(keys)} active key(s) in {keys.store.where}{', open on loopback' if open_access else ''}); "
                          "web UI at /, API schema at /openapi.json", markup=False, highlight=False, soft_wrap=True)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10)


@contextmanager
def _key_store(workspace: Optional[Path]) -> Iterator[KeyBackend]:
    """The workspace's keys: its keys.json, or the database on [index] backend postgres."""
    from ragtune.config import RagtuneConfig
    from ragtune.serve.stores import key_store_for

    ws = resolve_workspace(workspace)
    # the settings as written: only [index] and [serve] matter here, no model reference is resolved
    store = key_store_for(ws, RagtuneConfig.load(ws.config_path))
    try:
        yield store
    finally:
        store.close()


@keys_app.command("create")
def keys_create(
    user: Annotated[str, typer.Option("--user", "-u", help="The user this key acts as.")],
    groups: Annotated[Optional[list[str]], typer.Option("--groups", "-g", help="The user's groups (comma-separated).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May upload and delete documents.")] = False,
    label: Annotated[str, typer.Option("--label", help="A note to recognise the key by.")] = "",
    as_json: JsonOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Create a key. It is printed once: only its hash is stored."""
    try:
        with _key_store(workspace) as store:
            secret, entry = store.create(user, split_names(groups), admin=admin, label=label)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps({"key": secret, **entry.public()}))
        return
    console.print(f"key {entry.id} for user '{entry.user}' (groups: {', '.join(entry.groups) or '-'}"
                  f"{'; admin' if entry.admin else ''}). Store it now; it is not shown again:", highlight=False)
    print(secret)


@keys_app.command("list")
def keys_list(as_json: JsonOption = False, workspace: WorkspaceOption = None) -> None:
    """The keys with their users, groups and state (never the keys themselves)."""
    try:
        with _key_store(workspace) as store:
            keys = store.keys()
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(json.dumps([k.public() for k in keys], indent=2))
        return
    table = Table("id", "user", "groups", "admin", "created", "revoked", "label")
    for k in keys:
        table.add_row(k.id, k.user, ",".join(k.groups), "yes" if k.admin else "", k.created, k.revoked or "", k.label)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id (ragtune keys list).")],
                workspace: WorkspaceOption = None) -> None:
    """Revoke a key; every running server using these keys refuses it from its next request."""
    try:
        with _key_store(workspace) as store:
            entry = store.revoke(key_id)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    console.print(f"key {entry.id} ({entry.user}) revoked at {entry.revoked}", highlight=False)
