"""A served workspace: the sample corpus (staff documents and an HR-only folder), keys for an
employee, an HR user and an admin, the bundled MiniLM embedder and SmolLM2 through llama.cpp."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ragtune.serve.audit import AuditLog
from ragtune.serve.keys import KeyRing, KeyStore
from ragtune.workspace import Workspace
from tests.llm_fixtures import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "examples" / "sample_corpus"
RAGTUNE = Path(sys.executable).parent / "ragtune"
CONFIG = """\
[llm]
max_tokens = 48
threads = 2

[serve]
rate_limit_per_minute = 0
"""


@dataclass(frozen=True)
class Keys:
    employee: str
    hr: str
    admin: str


@dataclass(frozen=True)
class Served:
    workspace: Workspace
    keys: Keys


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    from ragtune.ingest.api import ingest

    ws = Workspace(tmp_path_factory.mktemp("served"))
    ws.config_path.write_text(CONFIG)
    report = ingest(ws, [CORPUS], groups=["staff"])
    assert report.failed == 0 and report.documents >= 8
    store = KeyStore.for_workspace(ws.root)
    keys = Keys(
        employee=store.create("erik", ["staff"])[0],
        hr=store.create("hanna", ["staff", "hr"])[0],
        admin=store.create("root", ["staff", "hr"], admin=True)[0],
    )
    return Served(ws, keys)


@pytest.fixture(scope="session")
def service(served: Served):  # type: ignore[no-untyped-def]
    from ragtune.serve.service import Service

    svc = Service(served.workspace)
    yield svc
    svc.close()


def make_app(service, tmp_path: Path, *, open_access: bool = False, keys: KeyRing | None = None,  # type: ignore[no-untyped-def]
             **settings):
    """The app over ``service``, auditing to ``tmp_path`` as replica ``test-replica``; ``keys``:
    default the served workspace's keys.json."""
    from ragtune.serve.app import create_app

    config = service.config.serve.model_copy(update=settings)
    audit = AuditLog(tmp_path / "audit.jsonl", max_bytes=config.audit_max_bytes, backups=config.audit_backups,
                     replica="test-replica")
    return create_app(service, keys or KeyRing(KeyStore.for_workspace(service.workspace.root)), settings=config,
                      open_access=open_access, audit=audit)


@pytest.fixture
def client(service, tmp_path: Path):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(make_app(service, tmp_path)) as test_client:
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def server(served: Served) -> Iterator[str]:
    """``ragtune serve`` as a user runs it, on a free loopback port; stopped by PID."""
    port = free_port()
    command = [str(RAGTUNE), "serve", "--port", str(port), "--workspace", str(served.workspace.root)]
    url = f"http://127.0.0.1:{port}"
    with running_server(command, f"{url}/health", served.workspace.root / "server.log"):
        yield url
