"""The behaviour metrics of one evaluation, built once from ``[eval.behaviour]`` and the eval set,
then applied to every answer of every arm (so each arm is scored by the same style scorer)."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ragtune.config import BehaviourConfig, EmbedderConfig, RagtuneConfig, format_validation_error
from ragtune.embed.base import Embedder
from ragtune.errors import ConfigError, EvalDataError
from ragtune.evaluate.behaviour.format_check import FormatCheck
from ragtune.evaluate.behaviour.labels import stated_label
from ragtune.evaluate.behaviour.readability import reading_grade, word_count
from ragtune.evaluate.behaviour.style import StyleScorer, read_examples
from ragtune.evaluate.items import EvalItem

BEHAVIOUR_METRICS = ("format_valid", "json_valid", "allowed_values", "regex_match", "sections_present", "length_ok",
                     "style", "label_correct")
"""Per-answer behaviour metrics on a 0–1 scale (``words`` and ``reading_grade`` are statistics)."""


@dataclass
class BehaviourSuite:
    format: FormatCheck | None = None
    """The eval set's format; an item's own ``format`` replaces it (``item_formats``)."""
    style: StyleScorer | None = None
    labels: tuple[str, ...] = ()
    label_field: str = "label"
    item_formats: dict[str, FormatCheck] = field(default_factory=dict)

    @property
    def info(self) -> dict[str, Any]:
        """What the run was scored with, saved in its dataset description."""
        info: dict[str, Any] = {}
        if self.format is not None or self.item_formats:
            info["format"] = {"set": self.format is not None, "items_with_own_format": len(self.item_formats)}
        if self.style is not None:
            info["style"] = self.style.info
        if self.labels:
            info["labels"] = list(self.labels)
        return info

    def score(self, item: EvalItem, text: str, *, labels_only: bool = False) -> tuple[dict[str, float | None], dict[str, Any]]:
        """The metrics of one answer as shown (a refusal is scored as the text it is), and the
        row's extra fields (the gold and stated label). ``labels_only``: the answer is a bare label
        (a classifier's), so only the label is scored."""
        metrics: dict[str, float | None] = {}
        extras: dict[str, Any] = {}
        check = self.item_formats.get(item.id, self.format)
        if check is not None and not labels_only:
            metrics.update(check.score(text))
        if self.style is not None and not labels_only:
            metrics["style"] = float(self.style.score([text])[0])
            metrics["words"] = float(word_count(text))
            metrics["reading_grade"] = reading_grade(text)
        if item.label is not None:
            stated = stated_label(text, self.labels, self.label_field)
            metrics["label_correct"] = float(stated == item.label)
            extras["label"] = {"gold": item.label, "stated": stated}
        return metrics, extras


def load_behaviour_file(path: Path) -> BehaviourConfig:
    """A TOML file of behaviour settings: the keys of ``[eval.behaviour]`` at its top level, or
    under ``[eval.behaviour]`` as in ``ragtune.toml``. Relative paths in it are read from its folder."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--behaviour {path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--behaviour {path}: not valid TOML: {exc}") from None
    raw = raw.get("eval", {}).get("behaviour", raw) if "eval" in raw else raw
    try:
        return BehaviourConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from None


def behaviour_settings(config: RagtuneConfig, workspace_root: Path, file: Path | None) -> tuple[BehaviourConfig, Path]:
    """The settings to score with and the folder their relative paths start from: ``file`` (a
    ``--behaviour`` option) if given, else the workspace's ``[eval.behaviour]``."""
    if file is not None:
        return load_behaviour_file(file), file.resolve().parent
    return config.eval.behaviour, workspace_root


def open_behaviour(settings: BehaviourConfig, root: Path, items: Sequence[EvalItem], *,
                   items_root: Path | None = None, embedder_config: EmbedderConfig | None = None,
                   embedder: Embedder | None = None) -> BehaviourSuite | None:
    """The suite the settings and the items ask for, or None when they ask for nothing.

    ``root``: the folder the settings' relative paths are read from; ``items_root``: the folder of
    the eval set, for paths in an item's own ``format`` (default ``root``). The style scorer embeds
    with ``embedder`` (default: one built from ``embedder_config``, only when a style is set)."""
    items_root = items_root or root
    item_formats = {item.id: FormatCheck.from_config(item.format, items_root, f"eval item '{item.id}' format")
                    for item in items if item.format is not None}
    gold = sorted({item.label for item in items if item.label is not None})
    wants_style = bool(settings.style_examples or settings.neutral_examples)
    if not (settings.format.is_set() or item_formats or gold or wants_style):
        return None
    labels = tuple(settings.labels) or tuple(gold)
    unknown = [item.id for item in items if item.label is not None and item.label not in labels]
    if unknown:
        raise EvalDataError(f"eval item(s) {', '.join(unknown[:5])}: label not among eval.behaviour.labels "
                            f"({', '.join(labels)})")
    style = None
    if wants_style:
        if not (settings.style_examples and settings.neutral_examples):
            missing = "neutral_examples" if settings.style_examples else "style_examples"
            raise EvalDataError(f"eval.behaviour.{missing} is not set: the style scorer needs house-style and neutral texts")
        house = read_examples(root / settings.style_examples, "eval.behaviour.style_examples")
        neutral = read_examples(root / settings.neutral_examples, "eval.behaviour.neutral_examples")
        if embedder is None:
            from ragtune.embed.factory import build_embedder

            embedder = build_embedder(embedder_config or EmbedderConfig())
        style = StyleScorer.train(embedder, house, neutral)
    check = FormatCheck.from_config(settings.format, root) if settings.format.is_set() else None
    return BehaviourSuite(check, style, labels, settings.label_field, item_formats)
