"""Records (JSON objects, SQL rows) to documents: text fields, id, metadata and access fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragtune.errors import LoadError
from ragtune.ingest.acl import parse_names
from ragtune.types import AccessList, Document, stable_id

_MISSING = object()
_SCALARS = (str, int, float, bool)


def get_path(record: Mapping[str, Any], path: str) -> Any:
    """``record['a']['b']`` for the path ``a.b``; a key that itself contains dots wins."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _as_text(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(t for t in (_as_text(v) for v in value) if t)
    if isinstance(value, Mapping):
        return ""
    return str(value).strip()


def record_document(
    record: Any,
    *,
    container: str,
    label: str,
    format: str,
    text_fields: list[str],
    id_field: str | None,
    metadata_fields: list[str] | None,
    groups_field: str | None,
    users_field: str | None,
) -> Document:
    """One record as a document. ``container`` is the file or query it came from; ``label`` names
    the record inside it (line, index) when it has no id field."""
    if not isinstance(record, Mapping):
        raise LoadError(f"expected an object, found {type(record).__name__}")
    parts = [_as_text(get_path(record, f)) for f in text_fields]
    text = "\n\n".join(p for p in parts if p)
    if not text:
        raise LoadError(f"no text in field(s) {', '.join(text_fields)}")
    if id_field:
        key = get_path(record, id_field)
        if key is _MISSING or key is None or (isinstance(key, str) and not key.strip()):
            raise LoadError(f"missing id field '{id_field}'")
        record_key = f"{id_field}={key}"
    else:
        record_key = label
    used = set(text_fields) | {f for f in (id_field, groups_field, users_field) if f}
    if metadata_fields is None:
        metadata = {k: v for k, v in record.items() if k not in used and isinstance(v, _SCALARS)}
    else:
        metadata = {f: v for f in metadata_fields if (v := get_path(record, f)) is not _MISSING}
    document = Document(
        id=stable_id("record", container, record_key),
        source=f"{container}#{record_key}",
        text=text,
        format=format,
        metadata=metadata,
    )
    access = record_access(record, groups_field, users_field)
    if access is not None:
        document.access = access
    return document


def record_access(
    record: Mapping[str, Any], groups_field: str | None, users_field: str | None
) -> AccessList | None:
    groups = get_path(record, groups_field) if groups_field else _MISSING
    users = get_path(record, users_field) if users_field else _MISSING
    if groups is _MISSING and users is _MISSING:
        return None
    allowed_groups = parse_names(None if groups is _MISSING else groups, groups_field or "groups")
    allowed_users = parse_names(None if users is _MISSING else users, users_field or "users")
    if not allowed_groups and not allowed_users:
        raise LoadError("record's access fields grant access to no one")
    return AccessList(allowed_users=allowed_users, allowed_groups=allowed_groups, origin="record fields")
