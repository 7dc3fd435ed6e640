"""``ragtune data prepare``: validate, de-duplicate, split and content-hash a training set.

The output folder is what every ``ragtune tune`` command reads and what the registry's lineage
points at: ``train.jsonl``, ``validation.jsonl``, ``test.jsonl`` in the canonical shape of
``dataset_formats``, and ``dataset.json`` with the hashes, statistics and the excluded rows.

Splits are reproducible: the same rows and seed always give the same split, whatever order the
duplicates were in. Labelled data is split per label, so each split keeps the label mix and every
label with at least one example per split appears in each.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.atomic_files import write_text_atomic
from ragtune.errors import LoadError
from ragtune.tune.dataset_formats import Example, Kind, RowError, read_examples

SPLITS = ("train", "validation", "test")
MANIFEST = "dataset.json"


@dataclass
class PreparedData:
    kind: Kind
    splits: dict[str, list[Example]]
    source: str
    seed: int
    fractions: tuple[float, float, float]
    errors: list[RowError] = field(default_factory=list)
    duplicates: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return sorted({e.label for rows in self.splits.values() for e in rows if e.label is not None})

    def split_hash(self, name: str) -> str:
        return _hash_rows(self.splits[name])

    @property
    def content_hash(self) -> str:
        """sha256 over every split's rows, in split order: the data set's identity."""
        digest = hashlib.sha256()
        for name in SPLITS:
            digest.update(f"{name}:{self.split_hash(name)}\n".encode())
        return digest.hexdigest()

    def manifest(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "seed": self.seed,
            "fractions": list(self.fractions),
            "sha256": self.content_hash,
            "splits": {n: {"rows": len(self.splits[n]), "sha256": self.split_hash(n)} for n in SPLITS},
            "labels": self.labels,
            "duplicates_removed": self.duplicates,
            "excluded": [{"line": e.line, "error": e.message} for e in self.errors],
            "stats": self.stats,
        }


def _canonical(example: Example) -> str:
    return json.dumps(example.data, ensure_ascii=False, sort_keys=True)


def _hash_rows(rows: Sequence[Example]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(_canonical(row).encode("utf-8") + b"\n")
    return digest.hexdigest()


_SPACE = re.compile(r"\s+")


def _dedupe_key(example: Example) -> str:
    """What makes two rows the same training signal: the input side, normalised for case and
    whitespace. For labelled text the label is left out so contradicting copies are found."""
    data = example.data
    if example.kind == "classification":
        basis = data["text"]
    else:
        basis = json.dumps(example.conversation(), ensure_ascii=False, sort_keys=True)
    return _SPACE.sub(" ", basis).strip().casefold()


def dedupe(examples: Sequence[Example]) -> tuple[list[Example], list[RowError], int]:
    """(kept, conflicts, exact duplicates dropped). A repeated row is dropped quietly (counted);
    the same text with a different label is excluded with an error naming both lines."""
    first: dict[str, Example] = {}
    kept: list[Example] = []
    errors: list[RowError] = []
    dropped = 0
    for example in examples:
        key = _dedupe_key(example)
        seen = first.get(key)
        if seen is None:
            first[key] = example
            kept.append(example)
        elif example.kind == "classification" and seen.label != example.label:
            errors.append(RowError(example.line, f"same text as line {seen.line} with a different label "
                                                 f"({example.label!r} vs {seen.label!r}); excluded"))
        else:
            dropped += 1
    return kept, errors, dropped


def _cut(count: int, fractions: Sequence[float]) -> list[int]:
    """Split sizes for ``count`` rows by largest remainder; a split with a non-zero fraction gets
    a row before train gets a second, so small labels still reach validation and test."""
    sizes = [int(count * f) for f in fractions]
    order = sorted(range(len(fractions)), key=lambda i: count * fractions[i] - sizes[i], reverse=True)
    for i in order[: count - sum(sizes)]:
        sizes[i] += 1
    for i in range(1, len(sizes)):
        if sizes[i] == 0 and fractions[i] > 0 and sizes[0] > 1:
            sizes[0] -= 1
            sizes[i] += 1
    return sizes


def split(examples: Sequence[Example], fractions: Sequence[float], seed: int) -> dict[str, list[Example]]:
    """Seeded, order-independent split; stratified by label when the rows have labels."""
    groups: dict[str | None, list[Example]] = {}
    for example in sorted(examples, key=_canonical):  # input order must not change the split
        groups.setdefault(example.label, []).append(example)
    out: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for label in sorted(groups, key=lambda g: "" if g is None else g):
        rows = groups[label]
        random.Random(f"{seed}:{label}").shuffle(rows)
        start = 0
        for name, size in zip(SPLITS, _cut(len(rows), fractions)):
            out[name].extend(rows[start : start + size])
            start += size
    for name in SPLITS:  # interleave labels, reproducibly
        random.Random(f"{seed}:{name}").shuffle(out[name])
    return out


def parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise LoadError(f"--split: expected three numbers like 0.8,0.1,0.1, got {text!r}") from None
    if len(parts) != 3 or any(p < 0 for p in parts) or sum(parts) <= 0:
        raise LoadError(f"--split: expected three non-negative shares (train, validation, test), got {text!r}")
    total = sum(parts)
    return (parts[0] / total, parts[1] / total, parts[2] / total)


TokenCounter = Callable[[Example], int]


def prepare(
    path: Path,
    kind: Kind | None = None,
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    text_column: str = "text",
    label_column: str = "label",
    count_tokens: TokenCounter | None = None,
    max_tokens: int | None = None,
    min_per_label: int = 1,
) -> PreparedData:
    """Read, validate, de-duplicate and split ``path``. Rows longer than ``max_tokens`` (counted
    by ``count_tokens``, the base model's chat template for conversations) are excluded with an
    error; labels with fewer than ``min_per_label`` rows are excluded and reported."""
    read = read_examples(path, kind, text_column=text_column, label_column=label_column)
    errors = list(read.errors)
    examples, conflicts, dropped = dedupe(read.examples)
    errors.extend(conflicts)
    lengths: list[int] = []
    if count_tokens is not None:
        fitting = []
        for example in examples:
            n = count_tokens(example)
            if max_tokens is not None and n > max_tokens:
                errors.append(RowError(example.line, f"{n} tokens, longer than the {max_tokens}-token limit; excluded"))
                continue
            lengths.append(n)
            fitting.append(example)
        examples = fitting
    if read.kind == "classification" and min_per_label > 1:
        counts = Counter(e.label for e in examples)
        rare = {label for label, n in counts.items() if n < min_per_label}
        for example in examples:
            if example.label in rare:
                errors.append(RowError(example.line, f"label {example.label!r} has only {counts[example.label]} "
                                                     f"row(s), fewer than {min_per_label}; excluded"))
        examples = [e for e in examples if e.label not in rare]
    if not examples:
        shown = "; ".join(str(e) for e in errors[:3])
        raise LoadError(f"{path}: no usable rows{': ' + shown if shown else ''}")
    errors.sort(key=lambda e: e.line)
    data = PreparedData(read.kind, split(examples, fractions, seed), str(path), seed, tuple(fractions),  # type: ignore[arg-type]
                        errors, dropped)
    data.stats = _stats(data, lengths)
    return data


def _stats(data: PreparedData, lengths: list[int]) -> dict[str, Any]:
    stats: dict[str, Any] = {"rows": sum(len(v) for v in data.splits.values())}
    if lengths:
        ordered = sorted(lengths)
        stats["tokens"] = {
            "min": ordered[0], "median": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "max": ordered[-1],
        }
    if data.kind == "classification":
        stats["labels"] = {
            label: {name: sum(1 for e in rows if e.label == label) for name, rows in data.splits.items()}
            for label in data.labels
        }
    return stats


def write_prepared(data: PreparedData, folder: Path) -> Path:
    """Write the three splits and the manifest; the manifest goes last (atomically), so a folder
    with a manifest is always complete."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SPLITS:
        write_text_atomic(folder / f"{name}.jsonl", "".join(_canonical(e) + "\n" for e in data.splits[name]))
    write_text_atomic(folder / MANIFEST, json.dumps(data.manifest(), indent=2, ensure_ascii=False) + "\n")
    return folder


def load_prepared(folder: Path) -> PreparedData:
    """A folder written by ``write_prepared``, with its hashes checked against the manifest."""
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        kind = manifest["kind"]
    except FileNotFoundError:
        raise LoadError(f"{folder}: not a prepared data set (no {MANIFEST}); run `ragtune data prepare` first") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise LoadError(f"{manifest_path}: unreadable manifest ({exc})") from None
    splits = {}
    for name in SPLITS:
        read = read_examples(folder / f"{name}.jsonl", kind)
        if read.errors:
            raise LoadError(f"{folder / (name + '.jsonl')}: {read.errors[0]} (the file was changed after preparing)")
        splits[name] = read.examples
    data = PreparedData(kind, splits, manifest.get("source", str(folder)), manifest.get("seed", 0),
                        tuple(manifest.get("fractions", (0.8, 0.1, 0.1))),
                        [RowError(e["line"], e["error"]) for e in manifest.get("excluded", [])],
                        manifest.get("duplicates_removed", 0), manifest.get("stats", {}))
    if data.content_hash != manifest.get("sha256"):
        raise LoadError(f"{folder}: the split files do not match the sha256 in {MANIFEST}; they were edited "
                        "after `ragtune data prepare` — prepare the data again")
    return data


def load_training_data(path: Path, kind: Kind | None = None, **options: Any) -> PreparedData:
    """A prepared folder as it is, or a raw file prepared in memory with ``options``."""
    if path.is_dir():
        data = load_prepared(path)
        if kind is not None and data.kind != kind:
            raise LoadError(f"{path}: holds {data.kind} data, this command trains on {kind} data")
        return data
    return prepare(path, kind, **options)
