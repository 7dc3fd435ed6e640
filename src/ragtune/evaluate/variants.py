"""Variants: named sets of configuration overrides (``retrieval.mode = "bm25"``) evaluated side by
side, and grids that expand into them."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ragtune.config import RagtuneConfig, format_validation_error
from ragtune.errors import ConfigError

MODE_PRESETS: dict[str, dict[str, Any]] = {
    "bm25": {"retrieval.mode": "bm25"},
    "dense": {"retrieval.mode": "dense"},
    "hybrid": {"retrieval.mode": "hybrid"},
}


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)


def apply_overrides(config: RagtuneConfig, overrides: Mapping[str, Any]) -> RagtuneConfig:
    """A validated copy of ``config`` with dotted keys (``section.field``) set."""
    raw = config.model_dump(mode="json", by_alias=True)
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        target = raw
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                break
        if not parents or not isinstance(target, dict):
            raise ConfigError(f"unknown setting '{key}': use section.field, e.g. retrieval.mode")
        target[leaf] = value  # an unknown section or field is refused by validation below, named
    try:
        return RagtuneConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error("overrides", exc)) from None


def variant_name(overrides: Mapping[str, Any]) -> str:
    if not overrides:
        return "configured"
    return " ".join(f"{k.split('.')[-1]}={v}" for k, v in overrides.items())


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[Variant]:
    """Every combination of the listed values, in order; a scalar counts as a one-value list."""
    keys = list(grid)
    values = [v if isinstance(v, (list, tuple)) else [v] for v in grid.values()]
    combos = [dict(zip(keys, combo)) for combo in itertools.product(*values)] if keys else [{}]
    return [Variant(variant_name(c), c) for c in combos]


def mode_variants(modes: Sequence[str]) -> list[Variant]:
    unknown = [m for m in modes if m not in MODE_PRESETS]
    if unknown:
        raise ConfigError(f"unknown mode(s) {', '.join(unknown)}: use {', '.join(MODE_PRESETS)}")
    return [Variant(m, MODE_PRESETS[m]) for m in modes]
