"""JSON and JSONL files: one document per record, fields chosen by ``[ingest.json]``.

A malformed JSONL line is reported with its line number and the other lines are kept.
"""

from __future__ import annotations

import json
from typing import Any

from ragtune.config import IngestConfig, JsonConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult
from ragtune.ingest.files import SourceFile, decode_text
from ragtune.ingest.records import get_path, record_document
from ragtune.types import IngestError


def _collect(
    file: SourceFile, records: list[tuple[str, Any]], settings: JsonConfig, format: str,
    result: LoadResult,
) -> LoadResult:
    seen: set[str] = set()
    for label, record in records:
        try:
            document = record_document(
                record,
                container=file.uri,
                label=label,
                format=format,
                text_fields=settings.text_fields,
                id_field=settings.id_field,
                metadata_fields=settings.metadata_fields,
                groups_field=settings.allowed_groups_field,
                users_field=settings.allowed_users_field,
            )
        except LoadError as exc:
            result.errors.append(IngestError(file.uri, str(exc), label))
            continue
        if document.id in seen:
            result.errors.append(IngestError(file.uri, f"duplicate record id ({document.source})", label))
            continue
        seen.add(document.id)
        result.documents.append(document)
    if not result.documents:
        reasons = "; ".join(f"{e.record}: {e.reason}" for e in result.errors[:3])
        raise LoadError(f"no usable records ({reasons})" if reasons else "no records")
    return result


class JsonlLoader:
    name = "jsonl"
    extensions = (".jsonl", ".ndjson")
    mime_types = ("application/jsonl", "application/x-ndjson")

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        text, _ = decode_text(data)
        result = LoadResult()
        records: list[tuple[str, Any]] = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                result.errors.append(
                    IngestError(file.uri, f"invalid JSON: {exc.msg} (column {exc.colno})", f"line {number}")
                )
        return _collect(file, records, config.json_records, self.name, result)


class JsonLoader:
    name = "json"
    extensions = (".json",)
    mime_types = ("application/json",)

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        text, _ = decode_text(data)
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        settings = config.json_records
        if settings.records_path:
            if not isinstance(value, dict):
                raise LoadError(f"records_path '{settings.records_path}' needs a top-level object")
            value = get_path(value, settings.records_path)
            if not isinstance(value, list | dict):
                raise LoadError(f"records_path '{settings.records_path}' does not lead to a list")
        items = value if isinstance(value, list) else [value]
        records = [(f"record {i}", item) for i, item in enumerate(items)]
        return _collect(file, records, settings, self.name, LoadResult())
