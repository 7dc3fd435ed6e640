"""BEIR-layout data sets: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ragtune.config import JsonConfig
from ragtune.errors import EvalDataError
from ragtune.evaluate.items import EvalItem


@dataclass(frozen=True, slots=True)
class BeirSet:
    name: str
    corpus: Path
    split: str
    items: tuple[EvalItem, ...]
    skipped: int
    """Queries in the qrels with no relevant document or no text (they cannot be scored)."""

    @staticmethod
    def json_config() -> JsonConfig:
        """How the corpus is ingested: title + text, the record id ``_id`` ends each source."""
        return JsonConfig(text_fields=["title", "text"], id_field="_id")

    def corpus_texts(self, wanted: set[str] | None = None) -> dict[str, str]:
        """Each corpus record's title and text joined, by ``_id`` (only the ``wanted`` ids if given).

        Training code reads texts directly; evaluation ingests the corpus (``json_config``)."""
        texts: dict[str, str] = {}
        with self.corpus.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    doc_id = str(record["_id"])
                    if wanted is None or doc_id in wanted:
                        texts[doc_id] = " ".join(str(p) for p in (record.get("title"), record.get("text")) if p)
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                    raise EvalDataError(f"{self.corpus}:{number}: not a corpus record with '_id' ({exc})") from None
        return texts


def _queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: cannot read: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            queries[str(record["_id"])] = str(record["text"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvalDataError(f"{path}:{number}: not a query record with '_id' and 'text' ({exc})") from None
    return queries


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: cannot read: {exc}") from None
    for number, line in enumerate(lines, 1):
        cells = line.split("\t")
        header = number == 1 and len(cells) >= 3 and not cells[-1].strip().lstrip("-").isdigit()
        if not line.strip() or header:
            continue  # blank, or the header "query-id corpus-id score"
        if len(cells) not in (3, 4):  # BEIR has 3 columns; TREC qrels carry an unused iteration column
            raise EvalDataError(f"{path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score', found {len(cells)} columns")
        query, doc, grade = (cells[0], cells[1], cells[2]) if len(cells) == 3 else (cells[0], cells[2], cells[3])
        try:
            qrels.setdefault(query.strip(), {})[doc.strip()] = int(grade)
        except ValueError:
            raise EvalDataError(f"{path}:{number}: score '{grade}' is not an integer") from None
    return qrels


def load_beir(root: Path, split: str = "test") -> BeirSet:
    corpus, queries_path, qrels_path = root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / f"{split}.tsv"
    for needed in (corpus, queries_path, qrels_path):
        if not needed.is_file():
            splits = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
            hint = f" (splits here: {', '.join(splits)})" if splits and needed == qrels_path else ""
            raise EvalDataError(f"{root}: not a BEIR data set: {needed.relative_to(root)} is missing{hint}")
    queries = _queries(queries_path)
    items, skipped = [], 0
    for query_id, judged in _qrels(qrels_path).items():
        if query_id not in queries or not any(g > 0 for g in judged.values()):
            skipped += 1
            continue
        items.append(EvalItem(query_id, queries[query_id], relevant=judged))
    if not items:
        raise EvalDataError(f"{qrels_path}: no query with a relevant document and a text in queries.jsonl")
    return BeirSet(root.name, corpus, split, tuple(items), skipped)
