"""Tiny generated evaluation sets (BEIR layout, eval JSONL) for fast tests of the eval stack."""

from __future__ import annotations

import json
import random
from pathlib import Path

from ragtune.testing.store import WORDS


def write_beir(root: Path, docs: int = 40, queries: int = 24, seed: int = 0) -> Path:
    """Each query takes four words of its relevant document (graded 2) and one of a second
    document (graded 1), so lexical search ranks well but not perfectly."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "qrels").mkdir(exist_ok=True)
    texts = {f"d{i}": " ".join(rng.choices(WORDS, k=40)) for i in range(docs)}
    with (root / "corpus.jsonl").open("w") as handle:
        for doc_id, text in texts.items():
            handle.write(json.dumps({"_id": doc_id, "title": f"Document {doc_id}", "text": text}) + "\n")
    lines_q, qrels = [], {"test": [], "dev": []}
    for q in range(queries):
        main, other = rng.sample(sorted(texts), 2)
        words = rng.sample(texts[main].split(), 4) + rng.sample(texts[other].split(), 1)
        lines_q.append(json.dumps({"_id": f"q{q}", "text": " ".join(words)}))
        split = "test" if q % 2 == 0 else "dev"
        qrels[split] += [f"q{q}\t{main}\t2", f"q{q}\t{other}\t1"]
    (root / "queries.jsonl").write_text("\n".join(lines_q) + "\n")
    for split, rows in qrels.items():
        (root / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")
    return root


HASHING_TOML = """\
[embedder]
backend = "hashing"
dimension = 256

[chunking]
chunk_tokens = 64   # a comment tune retrieval must keep

[retrieval]
mode = "hybrid"
"""
