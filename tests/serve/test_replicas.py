"""Two ``ragtune serve`` processes over one PostgreSQL store: a document uploaded through one is
found and answered by the other (each replica has its own workspace folder for keys and logs)."""

from __future__ import annotations

import httpx
import pytest

from ragtune.serve.keys import KeyStore
from ragtune.workspace import Workspace
from tests.llm_fixtures import free_port, running_server
from tests.pg_fixtures import new_schema
from tests.serve.conftest import RAGTUNE, bearer

pytestmark = pytest.mark.integration


def _replica(root, url: str, schema: str) -> Workspace:  # type: ignore[no-untyped-def]
    ws = Workspace(root)
    root.mkdir()
    ws.config_path.write_text(
        f'[embedder]\nbackend = "hashing"\n\n[index]\nbackend = "postgres"\nurl_env = "RAGTUNE_TEST_PG"\n'
        f'schema = "{schema}"\n\n[serve]\nrate_limit_per_minute = 0\n'
    )
    return ws


def test_an_upload_through_one_replica_is_answered_by_the_other(postgres_url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RAGTUNE_TEST_PG", postgres_url)  # inherited by the servers: no URL in ragtune.toml
    schema = new_schema()
    one, two = _replica(tmp_path / "one", postgres_url, schema), _replica(tmp_path / "two", postgres_url, schema)
    admin, _ = KeyStore.for_workspace(one.root).create("root", ["staff"], admin=True)
    reader, _ = KeyStore.for_workspace(two.root).create("erik", ["staff"])
    ports = free_port(), free_port()
    commands = [[str(RAGTUNE), "serve", "--port", str(p), "--workspace", str(ws.root)] for p, ws in zip(ports, (one, two))]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    with running_server(commands[0], f"{urls[0]}/health", tmp_path / "one.log"), \
            running_server(commands[1], f"{urls[1]}/health", tmp_path / "two.log"):
        text = "The Commuter 200 Belt costs 899 EUR including the belt drive service."
        uploaded = httpx.post(f"{urls[0]}/documents", headers=bearer(admin), data={"groups": "staff"},
                              files={"files": ("prices.md", text.encode())}, timeout=60)
        assert uploaded.status_code == 200, uploaded.text
        assert uploaded.json()["report"]["documents"] == 1
        found = httpx.post(f"{urls[1]}/search", headers=bearer(reader), json={"query": "Commuter 200 Belt price"},
                           timeout=60)
        assert found.status_code == 200, found.text
        assert [h["source"].rsplit("/", 1)[-1] for h in found.json()["hits"]] == ["prices.md"]
        answer = httpx.post(f"{urls[1]}/ask", headers=bearer(reader),
                            json={"question": "What does the Commuter 200 Belt cost?", "answer_mode": "extract"},
                            timeout=60)
        assert answer.status_code == 200, answer.text
        assert "899 EUR" in answer.json()["answer"], answer.json()
