"""The ``format`` metrics: is the answer JSON valid against a schema, do its constrained fields hold
allowed values, does it match a template (a regular expression, required sections) and stay
within length bounds?

Per answer (only the checks that are configured are reported):

    json_valid        1 when the answer parses as JSON and validates against the schema
    allowed_values    share of the schema's enum/const fields whose value is allowed (0 if unparsable)
    regex_match       1 when the pattern matches
    sections_present  share of the required sections found at the start of a line
    length_ok         1 when the answer's word count lies within [min_words, max_words]
    format_valid      1 when every configured check passes

An answer wrapped in one Markdown code fence (```json … ```) is read without the fence: small
models add one, and the reader of a JSON answer does not see it as a format error. Anything else
around the JSON makes it invalid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.config import FormatConfig
from ragtune.errors import ConfigError
from ragtune.evaluate.behaviour.readability import word_count

_FENCE = re.compile(r"^\s*```[\w-]*\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)


def parse_json_answer(text: str) -> Any:
    """The JSON value the answer is (without one surrounding code fence); raises ValueError."""
    fenced = _FENCE.match(text)
    return json.loads(fenced.group(1) if fenced else text)


def constrained_fields(schema: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """(field path, allowed values) for every object property with ``enum`` or ``const``, nested
    objects included."""
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        if "enum" in sub:
            yield (*path, name), list(sub["enum"])
        elif "const" in sub:
            yield (*path, name), [sub["const"]]
        if sub.get("type") == "object" or "properties" in sub:
            yield from constrained_fields(sub, (*path, name))


def _lookup(value: Any, path: tuple[str, ...]) -> tuple[bool, Any]:
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


@dataclass(frozen=True)
class FormatCheck:
    schema: Mapping[str, Any] | None = None
    regex: re.Pattern[str] | None = None
    sections: tuple[str, ...] = ()
    min_words: int | None = None
    max_words: int | None = None
    _validator: Any = field(default=None, init=False, repr=False, compare=False)
    _fields: tuple[tuple[tuple[str, ...], list[Any]], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once per check, not per answer: a compare run scores hundreds of answers.
        if self.schema is not None:
            import jsonschema

            object.__setattr__(self, "_validator", jsonschema.validators.validator_for(self.schema)(self.schema))
            object.__setattr__(self, "_fields", tuple(constrained_fields(self.schema)))

    @classmethod
    def from_config(cls, config: FormatConfig, root: Path, where: str = "eval.behaviour.format") -> FormatCheck:
        """``root``: the folder a relative ``json_schema`` path is read from. Errors name ``where``."""
        schema = None
        if config.json_schema:
            schema = _load_schema(root / config.json_schema, f"{where}.json_schema")
        regex = None
        if config.regex:
            try:
                regex = re.compile(config.regex, re.MULTILINE | re.DOTALL)
            except re.error as exc:
                raise ConfigError(f"{where}.regex: not a valid regular expression ({exc})") from None
        if config.min_words is not None and config.max_words is not None and config.min_words > config.max_words:
            raise ConfigError(f"{where}: min_words ({config.min_words}) exceeds max_words ({config.max_words})")
        return cls(schema, regex, tuple(config.sections), config.min_words, config.max_words)

    def score(self, text: str) -> dict[str, float]:
        metrics: dict[str, float] = {}
        if self.schema is not None:
            metrics.update(self._json(text))
        if self.regex is not None:
            metrics["regex_match"] = float(bool(self.regex.search(text)))
        if self.sections:
            found = sum(1 for s in self.sections if re.search(r"(?im)^[\s#*_>-]*" + re.escape(s), text))
            metrics["sections_present"] = found / len(self.sections)
        if self.min_words is not None or self.max_words is not None:
            words = word_count(text)
            metrics["length_ok"] = float((self.min_words is None or words >= self.min_words)
                                         and (self.max_words is None or words <= self.max_words))
        passes = [metrics[k] == 1.0 for k in ("json_valid", "regex_match", "sections_present", "length_ok") if k in metrics]
        metrics["format_valid"] = float(all(passes))
        return metrics

    def _json(self, text: str) -> dict[str, float]:
        fields = self._fields
        try:
            value = parse_json_answer(text)
        except ValueError:
            return {"json_valid": 0.0, **({"allowed_values": 0.0} if fields else {})}
        metrics = {"json_valid": float(self._validator.is_valid(value))}
        if fields:
            allowed = 0
            for path, values in fields:
                present, found = _lookup(value, path)
                allowed += present and found in values
            metrics["allowed_values"] = allowed / len(fields)
        return metrics


def _load_schema(path: Path, where: str) -> Mapping[str, Any]:
    from ragtune.generate.structured import load_schema

    try:
        return load_schema(path)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
