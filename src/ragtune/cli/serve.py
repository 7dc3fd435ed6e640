"""``ragtune serve`` and ``ragtune keys``: the HTTP service and its API keys."""

from __future__ import annotations

import json
from typing import Annotated, Optional

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
    --open on a loopback address.
    """
    import uvicorn

    from ragtune.serve.app import create_app, is_loopback
    from ragtune.serve.keys import KeyRing, KeyStore
    from ragtune.serve.service import Service

    ws = resolve_workspace(workspace)
    try:
        config = ws.load_config()
        host = host or config.serve.host
        port = config.serve.port if port is None else port
        keys = KeyRing(KeyStore.for_workspace(ws.root))
        if open_access and not is_loopback(host):
            raise fail(f"--open serves without keys and is refused on '{host}': only on a loopback address")
        if not len(keys) and not open_access:
            where = "" if is_loopback(host) else f" on the non-loopback address '{host}'"
            raise fail(f"no API keys{where}: create one with 'ragtune keys create --user NAME [--groups a,b] "
                        "[--admin]'" + (", or pass --open to serve without keys on loopback" if is_loopback(host) else ""))
        service = Service(ws, config)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    app = create_app(service, keys, settings=config.serve, open_access=open_access)
    err_console.print(f"ragtune serving {ws.root} on http://{host}:{port} ({len(keys)} active key(s)"
                      f"{', open on loopback' if open_access else ''}); web UI at /, API schema at /openapi.json")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=10)
    finally:
        service.close()


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
    from ragtune.serve.keys import KeyStore

    try:
        secret, entry = KeyStore.for_workspace(resolve_workspace(workspace).root).create(
            user, split_names(groups), admin=admin, label=label)
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
    from ragtune.serve.keys import KeyStore

    try:
        keys = KeyStore.for_workspace(resolve_workspace(workspace).root).keys()
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
    """Revoke a key; a running server refuses it from its next request."""
    from ragtune.serve.keys import KeyStore

    try:
        entry = KeyStore.for_workspace(resolve_workspace(workspace).root).revoke(key_id)
    except RagtuneError as exc:
        raise fail(str(exc)) from None
    console.print(f"key {entry.id} ({entry.user}) revoked at {entry.revoked}", highlight=False)
