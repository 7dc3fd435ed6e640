"""``ragtune keys`` and the refusals of ``ragtune serve`` (which exit before loading a model)."""

from __future__ import annotations

import json

from tests.test_cli import fast_workspace, run


def test_keys_create_list_revoke(tmp_path):
    ws = fast_workspace(tmp_path / "ws")
    created = run("keys", "create", "--user", "hanna", "--groups", "hr,staff", "--admin", "--json",
                  "--workspace", str(ws), cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["key"].startswith("rt-") and key["groups"] == ["hr", "staff"] and key["admin"]
    listed = run("keys", "list", "--json", "--workspace", str(ws), cwd=tmp_path)
    assert key["key"] not in listed.stdout and json.loads(listed.stdout)[0]["id"] == key["id"]
    assert run("keys", "revoke", key["id"], "--workspace", str(ws), cwd=tmp_path).returncode == 0
    assert json.loads(run("keys", "list", "--json", "--workspace", str(ws), cwd=tmp_path).stdout)[0]["revoked"]
    missing = run("keys", "revoke", "nope", "--workspace", str(ws), cwd=tmp_path)
    assert missing.returncode == 2 and "no API key with id 'nope'" in missing.stderr


def test_serve_refuses_to_run_without_keys_unless_open_on_loopback(tmp_path):
    ws = fast_workspace(tmp_path / "ws")
    public = run("serve", "--host", "0.0.0.0", "--workspace", str(ws), cwd=tmp_path)
    assert public.returncode == 2 and "no API keys on the non-loopback address '0.0.0.0'" in public.stderr
    local = run("serve", "--workspace", str(ws), cwd=tmp_path)
    assert local.returncode == 2 and "--open" in local.stderr and "ragtune keys create" in local.stderr
    opened = run("serve", "--host", "0.0.0.0", "--open", "--workspace", str(ws), cwd=tmp_path)
    assert opened.returncode == 2 and "only on a loopback address" in opened.stderr


def test_keys_on_a_postgres_workspace_name_the_unreachable_database_and_mask_its_password(tmp_path):
    ws = fast_workspace(tmp_path / "ws", '\n[index]\nbackend = "postgres"\nurl_env = "RAGTUNE_TEST_PG"\n')
    listed = run("keys", "list", "--workspace", str(ws), cwd=tmp_path,
                 env={"RAGTUNE_TEST_PG": "postgresql://ragtune:hunter2@127.0.0.1:1/rag"})
    assert listed.returncode == 2 and "hunter2" not in listed.stderr, listed.stderr
    assert "postgresql://ragtune:***@127.0.0.1:1/rag" in listed.stderr and "[index] url_env (RAGTUNE_TEST_PG)" in listed.stderr
    unset = run("keys", "list", "--workspace", str(ws), cwd=tmp_path, env={"RAGTUNE_TEST_PG": ""})
    assert unset.returncode == 2 and "url_env = 'RAGTUNE_TEST_PG': that environment variable is not set" in unset.stderr
