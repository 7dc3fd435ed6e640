"""Reading training data: chat JSONL, instruction JSONL and labelled text (CSV or JSONL).

Every row becomes an ``Example`` in one canonical shape per kind, or a ``RowError`` naming the
file, the line and the field. A bad row never stops the rest of the file from being read.

- ``chat``: ``{"messages": [{"role": ..., "content": ...}, ...]}``; the last message is the
  assistant's answer the model learns to write.
- ``instruction``: ``{"prompt": ..., "completion": ...}`` (``system`` optional); the Alpaca
  spelling ``instruction``/``input``/``output`` is read as well.
- ``classification``: ``text,label`` in a CSV (other column names by option) or JSONL objects.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ragtune.errors import LoadError

Kind = Literal["chat", "instruction", "classification"]
KINDS: tuple[Kind, ...] = ("chat", "instruction", "classification")
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Example:
    kind: Kind
    data: dict[str, Any]
    """The canonical record (see the module docstring)."""
    line: int
    """Where it came from: line number in the file (CSV: the record's first line)."""

    @property
    def label(self) -> str | None:
        return self.data["label"] if self.kind == "classification" else None

    def conversation(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """(prompt messages, completion messages) as TRL's conversational prompt-completion
        format takes them: the loss is computed on the completion only."""
        if self.kind == "chat":
            messages = self.data["messages"]
            return messages[:-1], messages[-1:]
        if self.kind == "instruction":
            prompt = [{"role": "user", "content": self.data["prompt"]}]
            if self.data.get("system"):
                prompt.insert(0, {"role": "system", "content": self.data["system"]})
            return prompt, [{"role": "assistant", "content": self.data["completion"]}]
        raise ValueError("a classification example has no conversation")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ReadResult:
    kind: Kind
    examples: list[Example] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def detect_kind(path: Path) -> Kind:
    """CSV/TSV files hold labelled text; a JSONL file is recognised by its first object's keys."""
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    if path.suffix.lower() in (".csv", ".tsv"):
        return "classification"
    for _, obj in json_lines(path):
        if isinstance(obj, dict):
            if "messages" in obj:
                return "chat"
            if {"prompt", "completion"} & obj.keys() or {"instruction", "output"} <= obj.keys():
                return "instruction"
            if "text" in obj or "label" in obj:
                return "classification"
            raise LoadError(
                f"{path}: cannot tell the format from the keys {sorted(obj)[:8]}; expected 'messages' (chat), "
                "'prompt'/'completion' (instruction) or 'text'/'label' (classification); or pass --format"
            )
    raise LoadError(f"{path}: no JSON object found; the file is empty or not JSONL")


def read_examples(
    path: Path, kind: Kind | None = None, *, text_column: str = "text", label_column: str = "label"
) -> ReadResult:
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    kind = kind or detect_kind(path)
    result = ReadResult(kind)
    if kind == "classification" and path.suffix.lower() in (".csv", ".tsv"):
        rows: Iterator[tuple[int, Any]] = _csv_rows(path, text_column, label_column)
    else:
        rows = json_lines(path)
    parse = {"chat": _chat, "instruction": _instruction, "classification": _labelled}[kind]
    for line, obj in rows:
        if isinstance(obj, RowError):
            result.errors.append(obj)
            continue
        try:
            data = parse(obj, text_column, label_column)
        except ValueError as exc:
            result.errors.append(RowError(line, str(exc)))
            continue
        result.examples.append(Example(kind, data, line))
    return result


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value or the ``RowError`` saying why it is not JSON) per non-blank line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, RowError(number, f"not UTF-8 (byte {exc.start})")
                continue
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, RowError(number, f"malformed JSON: {exc.msg} at column {exc.colno}")


def _csv_rows(path: Path, text_column: str, label_column: str) -> Iterator[tuple[int, Any]]:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from None
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(content.splitlines(keepends=True), delimiter=delimiter)
    missing = [c for c in (text_column, label_column) if c not in (reader.fieldnames or [])]
    if missing:
        raise LoadError(
            f"{path}: no column {', '.join(repr(c) for c in missing)} in the header {reader.fieldnames}; "
            "name the columns with --text-column/--label-column"
        )
    line = 2
    for row in reader:
        start, line = line, reader.line_num + 1
        if None in row:
            width = len(reader.fieldnames or [])
            yield start, RowError(start, f"{width + len(row[None])} fields, the header has {width}")
            continue
        yield start, row


def _text(obj: dict[str, Any], key: str, where: str = "") -> str:
    value = obj.get(key)
    if value is None:
        raise ValueError(f"missing field '{where}{key}'")
    if not isinstance(value, str):
        raise ValueError(f"field '{where}{key}' must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"field '{where}{key}' is empty")
    return value


def _object(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _chat(obj: Any, *_: str) -> dict[str, Any]:
    messages = _object(obj).get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("field 'messages' must be a non-empty list")
    clean = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"messages[{i}] must be an object")
        role = message.get("role")
        if role not in ROLES:
            raise ValueError(f"messages[{i}].role must be one of {', '.join(ROLES)}, not {role!r}")
        clean.append({"role": role, "content": _text(message, "content", f"messages[{i}].")})
    if clean[-1]["role"] != "assistant":
        raise ValueError("the last message must be the assistant's (the answer to learn)")
    if not any(m["role"] == "user" for m in clean):
        raise ValueError("no user message")
    return {"messages": clean}


def _instruction(obj: Any, *_: str) -> dict[str, Any]:
    obj = _object(obj)
    if "prompt" not in obj and "instruction" in obj:  # Alpaca: instruction + optional input -> prompt
        prompt = _text(obj, "instruction")
        if isinstance(obj.get("input"), str) and obj["input"].strip():
            prompt = f"{prompt}\n\n{obj['input']}"
        data = {"prompt": prompt, "completion": _text(obj, "output")}
    else:
        data = {"prompt": _text(obj, "prompt"), "completion": _text(obj, "completion")}
    if obj.get("system") is not None:
        data["system"] = _text(obj, "system")
    return data


def _labelled(obj: Any, text_column: str, label_column: str) -> dict[str, Any]:
    obj = _object(obj)
    label = obj.get(label_column)
    if isinstance(label, (int, float)) and not isinstance(label, bool):
        label = str(label)
    if label is None:
        raise ValueError(f"missing field '{label_column}'")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"field '{label_column}' must be a non-empty string or number")
    return {"text": _text(obj, text_column), "label": label.strip()}
