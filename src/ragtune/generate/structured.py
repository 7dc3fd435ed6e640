"""JSON-schema output: loading a schema, checking the model's JSON against it, and reaching the
strings inside it (where citations live)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ragtune.errors import ConfigError, GenerationError


def load_schema(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the JSON schema: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    check_schema(schema, str(path))
    return schema


def check_schema(schema: Any, where: str = "json_schema") -> None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, Mapping):
        raise ConfigError(f"{where}: a JSON schema must be an object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ConfigError(f"{where}: not a valid JSON schema: {exc.message}") from None


def parse_against(text: str, schema: Mapping[str, Any]) -> Any:
    """The JSON value in ``text``, checked against ``schema``; a clear error naming the first
    violation otherwise."""
    from jsonschema import Draft202012Validator

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GenerationError(f"the model's output is not valid JSON ({exc.msg} at character {exc.pos})") from None
    errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise GenerationError(f"the model's JSON does not match the schema at {where}: {first.message}")
    return value


def leaves_in(value: Any) -> Iterator[str | int | float]:
    """Every string and number inside a JSON value, depth first (booleans and null are not
    statements a source could support)."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from leaves_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves_in(item)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield value


def strings_in(value: Any) -> Iterator[str]:
    """Every string value inside a JSON value, depth first."""
    return (leaf for leaf in leaves_in(value) if isinstance(leaf, str))
