"""Two ``ragtune serve`` processes over one PostgreSQL database, each with its own workspace
folder, as replicas behind a load balancer run: a document uploaded through one is answered by the
other; a key created or revoked with ``ragtune keys`` on one workspace counts at once on the other
replica; the rate limit holds for both together; each replica names itself on /health and on
every audit line."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ragtune.serve.keys import KeyStore
from ragtune.workspace import Workspace
from tests.llm_fixtures import free_port, running_server
from tests.pg_fixtures import new_schema
from tests.serve.conftest import RAGTUNE, bearer

pytestmark = pytest.mark.integration

URL_ENV = "RAGTUNE_TEST_PG"
RATE_LIMIT = 8
"""Requests per minute per key, for both replicas together (a token back every 7.5 s)."""


@dataclass(frozen=True)
class Replica:
    name: str
    workspace: Workspace
    url: str
    log: Path


@dataclass(frozen=True)
class Replicas:
    one: Replica
    two: Replica
    env: dict[str, str]
    """What the servers and ``ragtune keys`` run with: the database URL, never in ragtune.toml."""
    stale_key: str
    """A key in workspace two's keys.json, from before the move to PostgreSQL."""

    def keys(self, replica: Replica, *args: str) -> str:
        """``ragtune keys ARGS`` against ``replica``'s workspace: its stdout."""
        done = subprocess.run([str(RAGTUNE), "keys", *args, "--workspace", str(replica.workspace.root)],
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def new_key(self, replica: Replica, user: str, *flags: str) -> dict[str, object]:
        return json.loads(self.keys(replica, "create", "--user", user, "--groups", "staff", "--json", *flags))


def _replica(name: str, root: Path, schema: str, serve: str = "") -> Replica:
    ws = Workspace(root / name)
    ws.root.mkdir()
    ws.config_path.write_text(
        f'[embedder]\nbackend = "hashing"\n\n[index]\nbackend = "postgres"\nurl_env = "{URL_ENV}"\n'
        f'schema = "{schema}"\n\n[serve]\nrate_limit_per_minute = {RATE_LIMIT}\n{serve}'
    )
    return Replica(name, ws, f"http://127.0.0.1:{free_port()}", root / f"{name}.log")


@pytest.fixture(scope="module")
def replicas(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Replica one is named by its ragtune.toml, replica two by $RAGTUNE_REPLICA_ID (which the
    setting of replica one overrides)."""
    root, schema = tmp_path_factory.mktemp("replicas"), new_schema()
    one = _replica("one", root, schema, 'replica_id = "one"\n')
    two = _replica("two", root, schema)
    stale_key, _ = KeyStore.for_workspace(two.workspace.root).create("stale", [])
    env = {**os.environ, URL_ENV: postgres_url, "RAGTUNE_REPLICA_ID": "two"}
    started = Replicas(one, two, env, stale_key)
    started.new_key(one, "boot")  # a server refuses to start without a key
    with pytest.MonkeyPatch.context() as patch:
        for name in (URL_ENV, "RAGTUNE_REPLICA_ID"):
            patch.setenv(name, env[name])  # inherited by the servers
        servers = [running_server([str(RAGTUNE), "serve", "--port", r.url.rsplit(":", 1)[1],
                                   "--workspace", str(r.workspace.root)], f"{r.url}/health", r.log) for r in (one, two)]
        with servers[0], servers[1]:
            yield started


def test_an_upload_through_one_replica_is_answered_by_the_other(replicas: Replicas) -> None:
    admin = str(replicas.new_key(replicas.one, "root", "--admin")["key"])
    reader = str(replicas.new_key(replicas.two, "erik")["key"])
    one, two = replicas.one.url, replicas.two.url
    text = "The Commuter 200 Belt costs 899 EUR including the belt drive service."
    uploaded = httpx.post(f"{one}/documents", headers=bearer(admin), data={"groups": "staff"},
                          files={"files": ("prices.md", text.encode())}, timeout=60)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["report"]["documents"] == 1
    found = httpx.post(f"{two}/search", headers=bearer(reader), json={"query": "Commuter 200 Belt price"}, timeout=60)
    assert found.status_code == 200, found.text
    assert [h["source"].rsplit("/", 1)[-1] for h in found.json()["hits"]] == ["prices.md"]
    answer = httpx.post(f"{two}/ask", headers=bearer(reader),
                        json={"question": "What does the Commuter 200 Belt cost?", "answer_mode": "extract"},
                        timeout=60)
    assert answer.status_code == 200, answer.text
    assert "899 EUR" in answer.json()["answer"], answer.json()


def test_a_key_created_on_workspace_one_works_on_replica_two_and_revoking_it_counts_at_once(
        replicas: Replicas) -> None:
    created = replicas.new_key(replicas.one, "erik")
    key = str(created["key"])
    me = httpx.get(f"{replicas.two.url}/me", headers=bearer(key), timeout=30)
    assert me.status_code == 200 and me.json()["user"] == "erik", me.text
    listed = json.loads(replicas.keys(replicas.two, "list", "--json"))
    assert created["id"] in [k["id"] for k in listed] and all("sha256" not in k for k in listed)

    replicas.keys(replicas.one, "revoke", str(created["id"]))
    # the promise (docs/scaling.md): refused from the next request on every replica, no cache
    for replica in (replicas.two, replicas.one):
        refused = httpx.get(f"{replica.url}/me", headers=bearer(key), timeout=30)
        assert refused.status_code == 401, (replica.name, refused.text)


def test_a_key_file_from_before_the_move_to_postgres_is_not_read(replicas: Replicas) -> None:
    refused = httpx.get(f"{replicas.two.url}/me", headers=bearer(replicas.stale_key), timeout=30)
    assert refused.status_code == 401, refused.text
    assert "holds 1 active key(s) that this server does not read" in replicas.two.log.read_text()


def test_the_rate_limit_holds_for_both_replicas_together(replicas: Replicas) -> None:
    key = str(replicas.new_key(replicas.one, "busy")["key"])
    started = time.monotonic()
    answers = [httpx.get(f"{(replicas.one, replicas.two)[n % 2].url}/me", headers=bearer(key), timeout=30)
               for n in range(2 * RATE_LIMIT)]
    refilled = int((time.monotonic() - started) * RATE_LIMIT / 60)
    statuses = [a.status_code for a in answers]
    assert statuses[:RATE_LIMIT] == [200] * RATE_LIMIT, statuses
    assert statuses.count(200) <= RATE_LIMIT + refilled, statuses  # not 2 × RATE_LIMIT
    limited = [a for a in answers if a.status_code == 429]
    assert {replicas.one.url, replicas.two.url} == {str(a.request.url).rsplit("/", 1)[0] for a in limited}
    assert all(int(a.headers["retry-after"]) >= 1 for a in limited)


def test_each_replica_names_itself_on_health_and_on_every_audit_line(replicas: Replicas) -> None:
    key = str(replicas.new_key(replicas.one, "auditor")["key"])
    for replica in (replicas.one, replicas.two):
        health = httpx.get(f"{replica.url}/health", timeout=30)
        assert health.status_code == 200 and health.json()["replica"] == replica.name
        searched = httpx.post(f"{replica.url}/search", headers=bearer(key), json={"query": "belt"}, timeout=60)
        assert searched.status_code == 200, searched.text
    for replica in (replicas.one, replicas.two):
        lines = [json.loads(line) for line in replica.workspace.audit_log.read_text().splitlines()]
        assert any(line["event"] == "search" and line["user"] == "auditor" for line in lines)
        assert {line["replica"] for line in lines} == {replica.name}
