"""Metadata filters: one small JSON-able language, compiled to SQL for the embedded store.

    {"year": {"$gte": 2020}, "lang": "en", "team": {"$in": ["a", "b"]},
     "tags": {"$overlap": ["x", "y"]}, "$or": [{...}, {...}]}

A bare value means equality. Fields name document metadata keys; ``source``, ``format`` and
``document_id`` name the document's own columns. ``evaluate`` states the same semantics in Python:
it is the reference the store conformance tests check every implementation against.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragtune.errors import RagtuneError

BUILTIN_FIELDS = {"source": "d.source", "format": "d.format", "document_id": "d.id"}
COMPARISONS = {"$eq": "=", "$ne": "!=", "$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
LIST_OPS = {"$in", "$nin", "$overlap"}
Scalar = str | int | float | bool


class FilterError(RagtuneError, ValueError):
    """A filter that cannot be understood; the message names the offending field."""


def _check_scalar(field: str, op: str, value: Any) -> None:
    if not isinstance(value, Scalar) or value is None:
        raise FilterError(f"filter field '{field}': {op} needs a string, number or boolean, got {value!r}")


def _check_list(field: str, op: str, value: Any) -> list[Scalar]:
    if not isinstance(value, list | tuple) or not value:
        raise FilterError(f"filter field '{field}': {op} needs a non-empty list, got {value!r}")
    for item in value:
        _check_scalar(field, op, item)
    return list(value)


def _conditions(field: str, spec: Any) -> list[tuple[str, Any]]:
    """(operator, operand) pairs for one field, validated."""
    if not isinstance(spec, Mapping):
        spec = {"$eq": spec}
    if not spec:
        raise FilterError(f"filter field '{field}': empty condition")
    pairs = []
    for op, value in spec.items():
        if op in COMPARISONS:
            _check_scalar(field, op, value)
        elif op in LIST_OPS:
            value = _check_list(field, op, value)
        else:
            raise FilterError(
                f"filter field '{field}': unknown operator {op!r} (use {sorted(COMPARISONS) + sorted(LIST_OPS)})"
            )
        pairs.append((op, value))
    return pairs


def clauses(filters: Mapping[str, Any]) -> list[tuple[str, Any]]:
    if not isinstance(filters, Mapping):
        raise FilterError(f"a filter must be a mapping of field to condition, got {filters!r}")
    out = []
    for key, spec in filters.items():
        if key in ("$and", "$or"):
            if not isinstance(spec, list) or not spec:
                raise FilterError(f"filter {key} needs a non-empty list of filters")
            out.append((key, spec))
        elif key.startswith("$"):
            raise FilterError(f"unknown filter operator {key!r} at the top level (use $and / $or)")
        elif not key or '"' in key:
            raise FilterError(f"invalid filter field name {key!r}")
        else:
            out.append((key, _conditions(key, spec)))
    return out


def to_sql(filters: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
    """A WHERE fragment over ``documents d`` and its parameters; ``("1", [])`` for no filter."""
    if not filters:
        return "1", []
    params: list[Any] = []
    parts = []
    for key, spec in clauses(filters):
        if key in ("$and", "$or"):
            subs = []
            for sub in spec:
                sql, sub_params = to_sql(sub)
                subs.append(f"({sql})")
                params.extend(sub_params)
            parts.append("(" + (" AND " if key == "$and" else " OR ").join(subs) + ")")
            continue
        column = BUILTIN_FIELDS.get(key, f"json_extract(d.metadata, '$.\"{key}\"')")
        for op, value in spec:
            if op in COMPARISONS:
                sql = f"{column} {COMPARISONS[op]} ?"
                parts.append(f"({column} IS NULL OR {sql})" if op == "$ne" else sql)
                params.append(value)
            elif op in ("$in", "$nin"):
                marks = ",".join("?" * len(value))
                sql = f"{column} IN ({marks})"
                parts.append(sql if op == "$in" else f"({column} IS NULL OR NOT {sql})")
                params.extend(value)
            else:  # $overlap: the field holds a list (or one value) sharing an element with value
                marks = ",".join("?" * len(value))
                source = f"json_array({column})" if key in BUILTIN_FIELDS else f"d.metadata, '$.\"{key}\"'"
                parts.append(f"EXISTS (SELECT 1 FROM json_each({source}) WHERE value IN ({marks}))")
                params.extend(value)
    return " AND ".join(parts), params


def _normalise(value: Any) -> Any:
    # SQLite's JSON functions give booleans as 1/0; compare the same way here.
    return int(value) if isinstance(value, bool) else value


def _field_value(key: str, metadata: Mapping[str, Any], document: Mapping[str, Any]) -> Any:
    if key in BUILTIN_FIELDS:
        return document.get(key)
    return metadata.get(key)


def evaluate(
    filters: Mapping[str, Any] | None, metadata: Mapping[str, Any], document: Mapping[str, Any] | None = None
) -> bool:
    """Whether a document with this metadata (and ``source``/``format``/``document_id``) matches."""
    if not filters:
        return True
    document = document or {}
    for key, spec in clauses(filters):
        if key == "$and":
            if not all(evaluate(sub, metadata, document) for sub in spec):
                return False
            continue
        if key == "$or":
            if not any(evaluate(sub, metadata, document) for sub in spec):
                return False
            continue
        raw = _field_value(key, metadata, document)
        value = None if isinstance(raw, dict) else raw
        for op, operand in spec:
            if not _holds(op, value, operand):
                return False
    return True


def _holds(op: str, value: Any, operand: Any) -> bool:
    if op == "$overlap":
        items = value if isinstance(value, list) else [] if value is None else [value]
        wanted = {_normalise(o) for o in operand}
        return any(_normalise(i) in wanted for i in items if not isinstance(i, list | dict))
    if isinstance(value, list):
        value = None  # a list is only comparable with $overlap, as in SQL where it is JSON text
    if op in ("$in", "$nin"):
        inside = value is not None and _normalise(value) in {_normalise(o) for o in operand}
        return inside if op == "$in" else not inside
    if op == "$ne":
        return value is None or _normalise(value) != _normalise(operand)
    if value is None:
        return False
    a, b = _normalise(value), _normalise(operand)
    try:
        return {"$eq": a == b, "$gt": a > b, "$gte": a >= b, "$lt": a < b, "$lte": a <= b}[op]
    except TypeError:
        return False
