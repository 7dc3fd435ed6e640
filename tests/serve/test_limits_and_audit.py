"""The rate limiter's arithmetic, the audit log's rotation and the replica id on its lines."""

from __future__ import annotations

import json
import os
import socket

import pytest

from ragtune.config import ServeConfig
from ragtune.errors import ConfigError
from ragtune.serve.audit import AuditLog
from ragtune.serve.ratelimit import RateLimiter
from ragtune.serve.replica import REPLICA_ENV, replica_id


def test_token_bucket_allows_a_burst_then_refills_evenly():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one per second, burst of 60
    assert all(limiter.take("k") == 0.0 for _ in range(60))
    wait = limiter.take("k")
    assert wait == 1.0  # empty: the next token is one second away
    now[0] += wait
    assert limiter.take("k") == 0.0  # exactly one token refilled
    assert limiter.take("k") > 0
    assert limiter.take("other") == 0.0  # buckets are per key
    assert RateLimiter(0).take("k") == 0.0  # 0 turns it off


def test_audit_log_rotates_by_size_and_every_line_is_json(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", max_bytes=2_000, backups=3, replica="web-1")
    for n in range(100):
        log.write("ask", user="erik", question=f"question {n} " + "é" * 20, retrieved=["a", "b"])
    log.close()
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2", "audit.jsonl.3"]
    lines = [json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines()]
    assert all(line["event"] == "ask" and line["time"] and line["replica"] == "web-1" for line in lines)
    # the handler compares characters, not bytes, before writing a line: a file ends within a line
    # (here < 200 bytes) of the limit
    assert all(f.stat().st_size < 2_000 + 200 for f in files)
    newest = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()]
    assert newest[-1]["question"].startswith("question 99 ")


def test_the_replica_id_is_the_setting_else_the_environment_else_host_and_pid(monkeypatch):
    monkeypatch.delenv(REPLICA_ENV, raising=False)
    assert replica_id(ServeConfig()) == f"{socket.gethostname()}-{os.getpid()}"
    monkeypatch.setenv(REPLICA_ENV, "web-7")  # e.g. the pod name
    assert replica_id(ServeConfig()) == "web-7"
    assert replica_id(ServeConfig(replica_id="eu-1")) == "eu-1"
    monkeypatch.setenv(REPLICA_ENV, "bad name")
    with pytest.raises(ConfigError, match="RAGTUNE_REPLICA_ID"):
        replica_id(ServeConfig())
