"""JSON, JSONL and SQL sources: one document per record, bad records reported, good ones kept."""

from __future__ import annotations

import pytest

from ragtune.config import IngestConfig, JsonConfig, SqlSourceConfig
from ragtune.errors import LoadError
from ragtune.ingest.files import SourceFile
from ragtune.ingest.json_records import JsonlLoader, JsonLoader
from ragtune.ingest.sql import SqlSource, redacted_url
from ragtune.types import IngestError
from tests import samples


def test_jsonl_malformed_lines_are_reported_and_the_rest_kept(tmp_path):
    path = samples.write_jsonl(
        tmp_path / "faq.jsonl",
        [{"id": 1, "text": "one"}, {}, {"id": 3, "text": "three"}, {"id": 4, "body": "no text"}, ["list"]],
        raw_lines={2: '{"id": 2, "text": "broken'},
    )
    result = JsonlLoader().load(SourceFile(path), path.read_bytes(), IngestConfig())
    assert [d.text for d in result.documents] == ["one", "three"]
    by_line = {e.record: e.reason for e in result.errors}
    assert by_line["line 2"].startswith("invalid JSON")
    assert "no text in field(s) title, text" in by_line["line 4"]
    assert "expected an object" in by_line["line 5"]
    assert all(e.source == str(path.absolute()) for e in result.errors)


def test_json_fields_ids_metadata_and_access(tmp_path):
    config = IngestConfig(json=JsonConfig(
        text_fields=["q", "a.text"], id_field="key", metadata_fields=["lang"],
        allowed_groups_field="acl.groups", records_path="data.items",
    ))
    path = tmp_path / "kb.json"
    path.write_text(
        '{"data": {"items": ['
        '{"key": "k1", "q": "Q?", "a": {"text": "A."}, "lang": "en", "acl": {"groups": ["hr"]}},'
        '{"key": "k2", "q": "Open?", "lang": "de"},'
        '{"key": "k1", "q": "dup"},'
        '{"q": "no id"}]}}'
    )
    result = JsonLoader().load(SourceFile(path), path.read_bytes(), config)
    first, second = result.documents
    assert first.text == "Q?\n\nA." and first.metadata == {"lang": "en"}
    assert first.access.allowed_groups == {"hr"} and first.access.origin == "record fields"
    assert first.source.endswith("kb.json#key=k1")
    assert second.access.origin == "default"
    reasons = sorted(e.reason for e in result.errors)
    assert reasons[0].startswith("duplicate record id") and reasons[1] == "missing id field 'key'"
    again = JsonLoader().load(SourceFile(path), path.read_bytes(), config)
    assert [d.id for d in again.documents] == [first.id, second.id]


def test_json_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"text": "ok"},\n  {"text": oops}\n]')
    with pytest.raises(LoadError, match=r"invalid JSON at line 3, column 12"):
        JsonLoader().load(SourceFile(path), path.read_bytes(), IngestConfig())


def test_sql_rows_become_documents(tmp_path):
    url = samples.write_sqlite(tmp_path / "t.db", [
        (1, "VPN down", "Cannot connect to VPN since Monday.", "it"),
        (2, "Payslip", "My payslip shows the wrong tax class.", "hr"),
        (3, "", "", "it"),
    ])
    source = SqlSource(SqlSourceConfig(
        url=url, query="SELECT id, subject, body, team FROM tickets ORDER BY id", id_column="id",
        text_columns=["subject", "body"], metadata_columns=["team"], allowed_groups_column="team",
    ))
    items = list(source.documents())
    docs = [i for i in items if not isinstance(i, IngestError)]
    assert [d.text for d in docs] == ["VPN down\n\nCannot connect to VPN since Monday.",
                                      "Payslip\n\nMy payslip shows the wrong tax class."]
    assert docs[1].access.allowed_groups == {"hr"} and docs[1].metadata == {"team": "hr"}
    assert docs[0].source.endswith("#id=1")
    [error] = [i for i in items if isinstance(i, IngestError)]
    assert error.record == "row 3" and "no text" in error.reason


def test_sql_renders_all_columns_without_text_columns(tmp_path):
    url = samples.write_sqlite(tmp_path / "t.db", [(7, "Printer", "Out of toner", "it")])
    [doc] = SqlSource(SqlSourceConfig(url=url, query="SELECT * FROM tickets")).documents()
    assert doc.text == "id: 7 | subject: Printer | body: Out of toner | team: it"


def test_sql_errors_are_reported_and_passwords_hidden(tmp_path):
    url = samples.write_sqlite(tmp_path / "t.db", [])
    [error] = SqlSource(SqlSourceConfig(url=url, query="SELECT nope FROM missing")).documents()
    assert isinstance(error, IngestError) and error.reason.startswith("query failed")
    [error] = SqlSource(SqlSourceConfig(url=url, query="SELECT id FROM tickets", text_columns=["body"])).documents()
    assert "no column(s): body" in error.reason
    masked = redacted_url("postgresql://bob:hunter2@db.local/app")
    assert "hunter2" not in masked and "bob" in masked
    source = SqlSource(SqlSourceConfig(url="postgresql://bob:hunter2@127.0.0.1:1/app", query="SELECT 1"))
    assert "hunter2" not in source.name
    for item in source.documents():
        assert "hunter2" not in str(item)
