"""Users' own evaluation sets: JSONL, one question per line.

    {"question": "...", "answers": ["..."], "relevant_doc_ids": ["hr/leave.md"],
     "principal": {"user": "hanna", "groups": ["staff", "hr"]}, "id": "q1"}

Behaviour fields (docs/evaluation.md): ``"label": "billing"`` (the routing label the answer should
state) and ``"format": {"json_schema": "ticket.schema.json", "sections": ["Summary:"], "max_words":
80}`` (this item's own format, replacing ``[eval.behaviour.format]``).

Only ``question`` is required; ``"expect_refusal": true`` marks a question the assistant must
refuse (for that principal). A malformed line is reported with its number and left out; the
rest of the set is still evaluated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ragtune.config import FormatConfig
from ragtune.errors import EvalDataError
from ragtune.evaluate.items import EvalItem
from ragtune.types import Principal


@dataclass(frozen=True, slots=True)
class EvalSet:
    path: Path
    items: tuple[EvalItem, ...]
    errors: tuple[str, ...]
    """One message per line left out, naming the file, the line and the field."""


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ValueError(f"'{field}' must be a string or a list of strings")
    return tuple(str(v) for v in value)


def _relevant(value: Any) -> dict[str, int]:
    if isinstance(value, dict):  # graded: {"doc": 2}
        if not all(isinstance(g, int) and not isinstance(g, bool) for g in value.values()):
            raise ValueError("'relevant_doc_ids' grades must be integers")
        return {str(k): int(g) for k, g in value.items()}
    return {doc: 1 for doc in _strings(value, "relevant_doc_ids")}


def _principal(value: Any) -> Principal | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("user"), str) or not value["user"].strip():
        raise ValueError("'principal' must be an object with a non-empty 'user' and optional 'groups'")
    return Principal(value["user"].strip(), frozenset(_strings(value.get("groups"), "principal.groups")))


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError(f"'{field}' must be true or false, found {json.dumps(value)}")
    return value


def _label(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'label' must be a non-empty string, found {json.dumps(value)}")
    return value.strip()


def _format(value: Any) -> FormatConfig | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("'format' must be an object (json_schema, regex, sections, min_words, max_words)")
    try:
        return FormatConfig.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"'format.{'.'.join(str(p) for p in first['loc'])}': {first['msg']}") from None


def parse_item(record: Any, default_id: str) -> EvalItem:
    if not isinstance(record, dict):
        raise ValueError(f"expected an object, found {type(record).__name__}")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' is missing or empty")
    return EvalItem(
        id=str(record.get("id", default_id)),
        question=question.strip(),
        answers=tuple(a.strip() for a in _strings(record.get("answers"), "answers") if a.strip()),
        relevant=_relevant(record.get("relevant_doc_ids")),
        principal=_principal(record.get("principal")),
        expect_refusal=_flag(record.get("expect_refusal"), "expect_refusal"),
        label=_label(record.get("label")),
        format=_format(record.get("format")),
    )


def load_evalset(path: Path) -> EvalSet:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: cannot read the eval set: {exc}") from None
    items: list[EvalItem] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = parse_item(json.loads(line), default_id=f"line-{number}")
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except ValueError as exc:
            errors.append(f"{path}:{number}: {exc}")
            continue
        if item.id in seen:
            errors.append(f"{path}:{number}: duplicate id '{item.id}'")
            continue
        seen.add(item.id)
        items.append(item)
    if not items:
        detail = f": {errors[0]}" if errors else ""
        raise EvalDataError(f"{path}: no usable question in the eval set{detail}")
    return EvalSet(path, tuple(items), tuple(errors))
