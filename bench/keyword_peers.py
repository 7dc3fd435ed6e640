"""BM25 keyword search alone: SQLite FTS5 (what the store runs today) vs tantivy, same chunks, same queries.

    .venv/bin/python bench/ann_scale.py --sizes --store 100000 --store-dir /tmp/store100k   # builds the store once
    .venv/bin/python bench/keyword_peers.py --store-dir /tmp/store100k                       # needs: pip install tantivy

Reads the chunk texts of a store built by ``bench/ann_scale.py --store`` and the same query
generator (four content words + one very common word, OR-ed), and times top-10 BM25 with no
visibility filter on each engine: FTS5 ``bm25()`` over every match vs tantivy (block-max WAND,
in RAM). Prints p50/p95 and the top-10 overlap of the two rankings (tokenisers and BM25 details
differ slightly: porter vs tantivy's English stemmer).

    .venv/bin/python bench/keyword_peers.py --scifact   # ranking quality: nDCG@10 of each engine

With ``--scifact`` both engines index SciFact's 5,183 abstracts whole (title as a 0.3-weighted
field, as the store weights headings) and answer its 300 test claims; nDCG@10 per engine.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ann_scale import query_texts  # noqa: E402


def percentiles(latencies: list[float]) -> tuple[float, float]:
    return round(float(np.percentile(latencies, 50)) * 1000, 3), round(float(np.percentile(latencies, 95)) * 1000, 3)


SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "scifact"


def scifact() -> None:
    import re

    import tantivy

    from ragtune.evaluate.retrieval_metrics import ndcg

    if not SCIFACT.exists():
        raise SystemExit(f"SciFact is not at {SCIFACT} (see ../shared/datasets/README.md)")
    docs = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").open())}
    qrels: dict[str, dict[str, int]] = {}
    for line in list((SCIFACT / "qrels" / "test.tsv").open())[1:]:
        qid, did, grade = line.split()
        qrels.setdefault(qid, {})[did] = int(grade)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(id UNINDEXED, heading, text, tokenize='porter unicode61')")
    db.executemany("INSERT INTO f VALUES (?, ?, ?)", [(d["_id"], d["title"], d["text"]) for d in docs])
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("heading", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    index = tantivy.Index(builder.build())
    writer = index.writer(heap_size=100_000_000, num_threads=1)
    for d in docs:
        writer.add_document(tantivy.Document(id=d["_id"], heading=d["title"], text=d["text"]))
    writer.commit()
    index.reload()
    searcher = index.searcher()
    scores: dict[str, list[float]] = {"fts5": [], "tantivy": []}
    for qid, grades in qrels.items():
        words = list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", queries[qid])))
        fts = [r for (r,) in db.execute(
            "SELECT id FROM f WHERE f MATCH ? ORDER BY bm25(f, 0.0, 0.3, 1.0) LIMIT 10",
            (" OR ".join(f'"{w}"' for w in words),),
        )]
        query = index.parse_query(" ".join(words), ["heading", "text"], field_boosts={"heading": 0.3})
        tan = [searcher.doc(a)["id"][0] for _s, a in searcher.search(query, 10).hits]
        scores["fts5"].append(ndcg(fts, grades, 10))
        scores["tantivy"].append(ndcg(tan, grades, 10))
    print(json.dumps({f"{name} nDCG@10": round(float(np.mean(v)), 4) for name, v in scores.items()}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store-dir", type=Path)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--scifact", action="store_true")
    args = parser.parse_args()
    if args.scifact:
        scifact()
        return
    if args.store_dir is None:
        parser.error("--store-dir (a store built by bench/ann_scale.py --store) or --scifact")
    import tantivy

    db = sqlite3.connect(args.store_dir / "ragtune.db")
    rows = db.execute("SELECT rowid, text FROM chunks").fetchall()
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    schema = builder.build()
    index = tantivy.Index(schema)
    started = time.perf_counter()
    writer = index.writer(heap_size=200_000_000, num_threads=2)
    for rowid, text in rows:
        writer.add_document(tantivy.Document(rowid=rowid, text=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    build_s = time.perf_counter() - started
    searcher = index.searcher()
    texts = query_texts(args.queries)
    fts, tan, overlap = [], [], []
    for text in texts:
        match = " OR ".join(f'"{w}"' for w in text.split())
        started = time.perf_counter()
        a = [r for (r,) in db.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts, 0.3, 1.0) LIMIT 10", (match,)
        )]
        fts.append(time.perf_counter() - started)
        started = time.perf_counter()
        query = index.parse_query(text, ["text"])
        hits = searcher.search(query, 10).hits
        b = [searcher.doc(address)["rowid"][0] for _score, address in hits]
        tan.append(time.perf_counter() - started)
        overlap.append(len(set(a) & set(b)) / 10)
    fts_p = percentiles(fts)
    tan_p = percentiles(tan)
    print(json.dumps({
        "chunks": len(rows),
        "tantivy_build_s": round(build_s, 1),
        "fts5 p50/p95 ms": fts_p,
        "tantivy p50/p95 ms": tan_p,
        "fts5 / tantivy p50": round(fts_p[0] / tan_p[0], 1),
        "top10 overlap": round(float(np.mean(overlap)), 3),
    }, indent=1))


if __name__ == "__main__":
    main()
