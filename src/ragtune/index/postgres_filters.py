"""Metadata filters (``index/filters.py``'s language) compiled to PostgreSQL over JSONB.

The semantics are ``filters.evaluate``'s, which the conformance suite checks: a boolean equals
its integer (as in the SQLite store), a list or object is comparable only by ``$overlap``, a
missing or JSON-null field is absent, and an ordering comparison between a number and a string
is false. ``jnorm`` (created with the schema) states those rules once in SQL; values travel as
JSONB parameters, never as SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ragtune.index.filters import BUILTIN_FIELDS, COMPARISONS, clauses

JNORM_SQL = """
CREATE OR REPLACE FUNCTION {schema}.jnorm(j jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE jsonb_typeof(j)
        WHEN 'boolean' THEN to_jsonb((j::text)::boolean::int)
        WHEN 'array' THEN NULL WHEN 'object' THEN NULL WHEN 'null' THEN NULL
        ELSE j END
$$
"""


def _param(value: Any) -> str:
    return json.dumps(value)


def to_pg_sql(filters: Mapping[str, Any] | None, schema: str) -> tuple[str, list[Any]]:
    """A WHERE fragment over ``documents d`` and its parameters; ``("TRUE", [])`` for none."""
    if not filters:
        return "TRUE", []
    params: list[Any] = []
    parts: list[str] = []
    norm = f"{schema}.jnorm"
    for key, spec in clauses(filters):
        if key in ("$and", "$or"):
            subs = []
            for sub in spec:
                sql, sub_params = to_pg_sql(sub, schema)
                subs.append(f"({sql})")
                params.extend(sub_params)
            parts.append("(" + (" AND " if key == "$and" else " OR ").join(subs) + ")")
            continue
        if key in BUILTIN_FIELDS:
            raw, raw_params = f"to_jsonb({BUILTIN_FIELDS[key]})", []
        else:
            raw, raw_params = "(d.metadata -> %s)", [key]
        value = f"{norm}({raw})"
        for op, operand in spec:
            if op in ("$eq", "$ne"):
                sql = f"{value} = {norm}(%s::jsonb)"
                if op == "$eq":
                    parts.append(sql)
                    params.extend([*raw_params, _param(operand)])
                else:
                    parts.append(f"({value} IS NULL OR NOT {sql})")
                    params.extend([*raw_params, *raw_params, _param(operand)])
            elif op in COMPARISONS:  # ordering: only between values of one JSON type
                parts.append(f"(jsonb_typeof({value}) = jsonb_typeof({norm}(%s::jsonb)) "
                             f"AND {value} {COMPARISONS[op]} {norm}(%s::jsonb))")
                params.extend([*raw_params, _param(operand), *raw_params, _param(operand)])
            elif op in ("$in", "$nin"):
                marks = ", ".join(f"{norm}(%s::jsonb)" for _ in operand)
                sql = f"{value} IN ({marks})"
                if op == "$in":
                    parts.append(sql)
                    params.extend([*raw_params, *(_param(o) for o in operand)])
                else:
                    parts.append(f"({value} IS NULL OR NOT {sql})")
                    params.extend([*raw_params, *raw_params, *(_param(o) for o in operand)])
            else:  # $overlap: the field holds a list (or one value) sharing an element with operand
                marks = ", ".join(f"{norm}(%s::jsonb)" for _ in operand)
                items = f"CASE WHEN jsonb_typeof({raw}) = 'array' THEN {raw} ELSE jsonb_build_array({raw}) END"
                parts.append(f"EXISTS (SELECT 1 FROM jsonb_array_elements({items}) AS e(item) "
                             f"WHERE {norm}(e.item) IN ({marks}))")
                params.extend([*raw_params, *raw_params, *raw_params, *(_param(o) for o in operand)])
    return " AND ".join(parts), params
