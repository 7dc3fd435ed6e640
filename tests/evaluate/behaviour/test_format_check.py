import json

import pytest

from ragtune.config import FormatConfig
from ragtune.errors import ConfigError
from ragtune.evaluate.behaviour.format_check import FormatCheck, constrained_fields

SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": ["billing", "shipping"]},
        "priority": {"type": "string", "enum": ["low", "high"]},
        "meta": {"type": "object", "properties": {"source": {"const": "email"}}},
        "summary": {"type": "string", "maxLength": 20},
    },
    "required": ["category", "priority", "summary"],
    "additionalProperties": False,
}


@pytest.fixture
def json_check(tmp_path):
    (tmp_path / "ticket.schema.json").write_text(json.dumps(SCHEMA))
    return FormatCheck.from_config(FormatConfig(json_schema="ticket.schema.json"), tmp_path)


def test_constrained_fields_include_nested_const():
    assert dict(constrained_fields(SCHEMA)) == {("category",): ["billing", "shipping"], ("priority",): ["low", "high"],
                                                ("meta", "source"): ["email"]}


def test_valid_json_with_allowed_values(json_check):
    text = '{"category": "billing", "priority": "low", "summary": "refund", "meta": {"source": "email"}}'
    assert json_check.score(text) == {"json_valid": 1.0, "allowed_values": 1.0, "format_valid": 1.0}


def test_one_code_fence_is_not_a_format_error(json_check):
    text = '```json\n{"category": "billing", "priority": "low", "summary": "refund"}\n```'
    metrics = json_check.score(text)
    assert metrics["json_valid"] == 1.0
    assert metrics["allowed_values"] == pytest.approx(2 / 3)  # meta.source missing


def test_schema_violation_and_disallowed_value(json_check):
    metrics = json_check.score('{"category": "refunds", "priority": "low", "summary": "a summary far too long for it"}')
    assert metrics == {"json_valid": 0.0, "allowed_values": pytest.approx(1 / 3), "format_valid": 0.0}


def test_text_around_json_is_invalid(json_check):
    metrics = json_check.score('Sure! {"category": "billing", "priority": "low", "summary": "x"}')
    assert metrics == {"json_valid": 0.0, "allowed_values": 0.0, "format_valid": 0.0}


def test_template_regex_sections_and_length(tmp_path):
    check = FormatCheck.from_config(FormatConfig(regex=r"^Hi there,.*Northwind Support\s*$", sections=["Queue:"],
                                                 min_words=5, max_words=30), tmp_path)
    good = "Hi there,\n\nYour refund is on its way.\n\nQueue: billing\n— Northwind Support"
    assert check.score(good) == {"regex_match": 1.0, "sections_present": 1.0, "length_ok": 1.0, "format_valid": 1.0}
    bad = "Your refund is on its way and will arrive soon, we promise."
    assert check.score(bad) == {"regex_match": 0.0, "sections_present": 0.0, "length_ok": 1.0, "format_valid": 0.0}
    assert check.score("Hi there, ok. Queue: x Northwind Support")["sections_present"] == 0.0  # not at a line start
    assert check.score("Hi there,\n" + "word " * 40 + "\nQueue: x\nNorthwind Support")["length_ok"] == 0.0


def test_bad_settings_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match=r"eval.behaviour.format.regex: not a valid regular expression"):
        FormatCheck.from_config(FormatConfig(regex="(unclosed"), tmp_path)
    with pytest.raises(ConfigError, match=r"eval.behaviour.format.json_schema: .*missing.json: cannot read the JSON schema"):
        FormatCheck.from_config(FormatConfig(json_schema="missing.json"), tmp_path)
    (tmp_path / "bad.json").write_text('{"type": 12}')
    with pytest.raises(ConfigError, match=r"bad.json: not a valid JSON schema"):
        FormatCheck.from_config(FormatConfig(json_schema="bad.json"), tmp_path)
    with pytest.raises(ConfigError, match=r"min_words \(9\) exceeds max_words \(3\)"):
        FormatCheck.from_config(FormatConfig(min_words=9, max_words=3), tmp_path)
