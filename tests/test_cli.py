"""The installed ``ragtune`` console script, run as a user would run it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.samples import make_bad_corpus

RAGTUNE = Path(sys.executable).parent / "ragtune"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    environment.pop("RAGTUNE_WORKSPACE", None) if env is None else None
    return subprocess.run([str(RAGTUNE), *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=600)  # a hang guard, not a speed bound: training commands run here too


def fast_workspace(path: Path, extra: str = "") -> Path:
    """A workspace using the model-free hashing embedder, for CLI tests not about embedding."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "ragtune.toml").write_text('[embedder]\nbackend = "hashing"\n' + extra)
    return path


def indexed(workspace: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(workspace / "index" / "ragtune.db")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_help_and_version(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("init", "ingest", "sync", "search", "ask", "status", "inspect", "config"):
        assert command in result.stdout
    assert run("--version", cwd=tmp_path).stdout.strip() == "ragtune 0.1.0"


def test_inspect_csv_shows_rows_with_their_headers(tmp_path):
    (tmp_path / "prices.csv").write_text("sku,product,price_eur\nB-100,City bike,499\nH-7,Helmet,59\n")
    result = run("inspect", "prices.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sku: B-100 | product: City bike | price_eur: 499" in result.stdout
    assert "sku: H-7 | product: Helmet | price_eur: 59" in result.stdout
    assert "[0:" in result.stdout and "tokens" in result.stdout


def test_inspect_json_output_round_trips_spans(tmp_path):
    text = "# Title\n\n" + "\n\n".join(f"Paragraph {i} " + "words " * 60 for i in range(6))
    (tmp_path / "doc.md").write_text(text)
    result = run("inspect", "doc.md", "--json", cwd=tmp_path)
    payload = json.loads(result.stdout)
    [document] = payload["documents"]
    assert len(document["chunks"]) > 1
    for chunk in document["chunks"]:
        assert text[chunk["start"] : chunk["end"]] == chunk["text"]
        assert chunk["heading_path"] == ["Title"]


def test_ingest_bad_corpus_prints_one_line_per_bad_file_and_exits_0(tmp_path):
    bad, good = make_bad_corpus(tmp_path / "corpus")
    fast_workspace(tmp_path / "ws")
    result = run("ingest", "corpus", "--workspace", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    failed_lines = [line for line in result.stdout.splitlines() if line.startswith("✗ failed")]
    assert len(failed_lines) == len(bad)
    for name, reason in bad.items():
        [line] = [line for line in failed_lines if f"/{name}:" in line]
        assert reason in line
    assert "line 2: invalid JSON" in result.stdout  # the partial JSONL file's bad line
    assert f"files failed                      {len(bad)}" in result.stdout
    assert indexed(tmp_path / "ws", "SELECT count(*) FROM documents")[0][0] >= len(good)
    strict = run("ingest", "corpus", "--workspace", "ws", "--strict", cwd=tmp_path)
    assert strict.returncode == 1


def test_ingest_json_report_and_groups_option(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nOpen to staff.\n")
    fast_workspace(tmp_path / "envws")
    result = run("ingest", "docs", "--groups", "staff,contractors", "--json", cwd=tmp_path,
                 env={"RAGTUNE_WORKSPACE": str(tmp_path / "envws")})
    report = json.loads(result.stdout)
    assert report["succeeded"] == 1 and report["chunks"] == 1 and report["index"]["added"] == 1
    [(groups,)] = indexed(tmp_path / "envws", "SELECT allowed_groups FROM documents")
    assert json.loads(groups) == ["contractors", "staff"]


def test_ingest_sql_source_from_configuration(tmp_path):
    from tests.samples import write_sqlite

    url = write_sqlite(tmp_path / "t.db", [(1, "VPN", "VPN drops every hour", "it"), (2, "Pay", "Wrong tax", "hr")])
    fast_workspace(tmp_path / "ws",
        f'[[sql_sources]]\nurl = "{url}"\nquery = "SELECT * FROM tickets"\nid_column = "id"\n'
        'text_columns = ["subject", "body"]\nallowed_groups_column = "team"\n')
    result = run("ingest", "--workspace", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "✓ ok" in result.stdout and "2 document(s)" in result.stdout
    rows = indexed(tmp_path / "ws", "SELECT allowed_groups FROM documents ORDER BY rowid")
    assert [json.loads(r[0]) for r in rows] == [["it"], ["hr"]]
    empty = run("ingest", "--workspace", "other", cwd=tmp_path)
    assert empty.returncode == 2 and "nothing to ingest" in empty.stderr


def test_bad_configuration_is_a_clear_error(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "ragtune.toml").write_text("[chunking]\nsize = 3\n")
    result = run("ingest", "x", "--workspace", "ws", cwd=tmp_path)
    assert result.returncode == 2
    assert "chunking.size: Extra inputs are not permitted" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["init"], ["config"]])
def test_workspace_commands(tmp_path, command):
    result = run(*command, "--workspace", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    if command == ["config"]:
        assert json.loads(result.stdout)["chunking"]["chunk_tokens"] == 200
    else:
        assert (tmp_path / "ws" / "ragtune.toml").exists()


def test_help_does_not_import_torch(tmp_path):
    code = "import sys; from ragtune.cli import app; assert 'torch' not in sys.modules; print('ok')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "ok\n"


def test_ingest_search_sync_status_round_trip(tmp_path):
    docs = tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "prices.md").write_text("# Prices\n\nThe city bike costs 499 euros.\n")
    (docs / "old.md").write_text("# Old\n\nThe discontinued tandem cost 1200 euros.\n")
    (docs / "hr" / "pay.md").write_text("---\nallowed_groups: [hr]\n---\nSalary band B starts at 52,000 euros.\n")
    fast_workspace(tmp_path / "ws")
    assert run("ingest", "docs", "-w", "ws", cwd=tmp_path).returncode == 0
    anyone = json.loads(run("search", "euros", "-w", "ws", "--json", "--user", "sam", cwd=tmp_path).stdout)
    assert {h["source"].rsplit("/", 1)[1] for h in anyone["hits"]} == {"prices.md", "old.md"}
    hr = run("search", "salary band", "-w", "ws", "--user", "hanna", "--groups", "hr", "--mode", "bm25", cwd=tmp_path)
    assert "hr/pay.md" in hr.stdout and "52,000" in hr.stdout
    flt = '{"source": {"$ne": "x"}}'
    filtered = json.loads(run("search", "euros", "-w", "ws", "--json", "--filter", flt, "-k", "1", cwd=tmp_path).stdout)
    assert len(filtered["hits"]) == 1
    bad = run("search", "euros", "-w", "ws", "--filter", '{"year": {"$near": 1}}', cwd=tmp_path)
    assert bad.returncode == 2 and "year" in bad.stderr and "Traceback" not in bad.stderr
    (docs / "old.md").unlink()
    synced = json.loads(run("sync", "docs", "-w", "ws", "--json", cwd=tmp_path).stdout)
    assert synced["index"]["deleted"] == 1 and synced["index"]["unchanged"] == 2
    status = json.loads(run("status", "-w", "ws", "--json", cwd=tmp_path).stdout)
    assert status["documents"] == 2 and status["embedder"] == "hashing-256" and status["fresh"] is True
    assert "no index" in run("search", "x", "-w", "empty", cwd=tmp_path).stderr


def test_ask_streams_answers_with_sources_and_refuses_what_the_user_cannot_see(tmp_path):
    """The real console script with the bundled model: plain, streamed, JSON and schema output."""
    ws = fast_workspace(tmp_path / "ws", "[llm]\nmax_tokens = 48\nthreads = 2\n")
    docs = tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    (docs / "travel.md").write_text("# Travel\n\nMeals on travel days are refunded up to 40 EUR per day against receipts.\n")
    leave = "---\nallowed_groups: [hr]\n---\n# Leave\n\nEmployees get 27 days of paid annual leave.\n"
    (docs / "hr" / "leave.md").write_text(leave)
    assert run("ingest", str(docs), "--workspace", str(ws), cwd=tmp_path).returncode == 0

    plain = run("ask", "How much are meals refunded per day?", "--workspace", str(ws), "--user", "erik", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "llama-cpp:smollm2-135m" in plain.stdout and "tokens" in plain.stdout

    refused = run("ask", "How many days of paid annual leave do employees get?", "--workspace", str(ws), "--json", cwd=tmp_path)
    data = json.loads(refused.stdout)
    assert data["found"] is False and data["usage"]["prompt_tokens"] == 0 and "27 days" not in refused.stdout

    streamed = run("ask", "How many days of paid annual leave do employees get?", "--workspace", str(ws),
                   "--groups", "hr", "--stream", "--json", cwd=tmp_path)
    assert streamed.returncode == 0, streamed.stderr
    events = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert all("delta" in e for e in events[:-1]) and len(events) > 2
    final = events[-1]["answer"]
    assert final["found"] and any("leave.md" in s["source"] for s in final["sources"])

    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"euros": {"type": "integer", "minimum": 0, "maximum": 999}},
                                  "required": ["euros"], "additionalProperties": False}))
    structured = run("ask", "How much are meals refunded per day?", "--workspace", str(ws), "--json-schema", str(schema),
                     "--json", cwd=tmp_path)
    assert structured.returncode == 0, structured.stderr
    assert isinstance(json.loads(structured.stdout)["data"]["euros"], int)

    schema.write_text("{not json")
    broken = run("ask", "meals?", "--workspace", str(ws), "--json-schema", str(schema), cwd=tmp_path)
    assert broken.returncode == 2 and "schema.json: not valid JSON" in broken.stderr


def test_groups_help_says_what_groups_does_in_each_command(tmp_path: Path) -> None:
    """``ingest --groups`` sets who may see documents without an access list; ``search``/``ask``
    ``--groups`` are the asking user's groups. One help text for both was a bug."""
    for command, meaning in (("ingest", "Groups allowed to see documents that have no ACL"),
                             ("sync", "Groups allowed to see documents that have no ACL"),
                             ("search", "The user's groups"), ("ask", "The user's groups")):
        done = run(command, "--help", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert meaning in " ".join(done.stdout.split()), (command, done.stdout)


def test_tune_options_default_to_the_settings_model_and_invalid_ones_name_the_field(tmp_path: Path) -> None:
    """``tune`` commands take their defaults from the settings model they fill (stated once), and
    a value the model refuses exits 2 naming the field, before any data is read or model loaded."""
    from ragtune.tune.classifier_config import ClassifierTuneConfig

    shown = " ".join(run("tune", "classifier", "--help", cwd=tmp_path).stdout.split())
    assert f"--lr <float> [default: {ClassifierTuneConfig().learning_rate}]" in shown, shown
    done = run("tune", "classifier", "--train", "missing.csv", "--name", "c", "--epochs", "0", cwd=tmp_path)
    assert done.returncode == 2
    assert "epochs: Input should be greater than 0" in done.stderr, done.stderr
