from __future__ import annotations

from ragtune.evaluate.items import document_key, ranked_documents
from ragtune.index.base import Hit


def hit(source: str) -> Hit:
    return Hit(f"c-{source}", f"d-{source}", source, "text", 0, 4, None, None, (), {}, 1.0)


def test_relevant_ids_match_records_sources_and_trailing_paths() -> None:
    relevant = {"42": 1, "hr/leave.md": 2, "price-list.csv": 1, "/abs/exact.txt": 1}
    assert document_key(hit("/data/corpus.jsonl#_id=42"), relevant) == "42"
    assert document_key(hit("/work/docs/hr/leave.md"), relevant) == "hr/leave.md"
    assert document_key(hit("/work/docs/products/price-list.csv#row=3"), relevant) == "price-list.csv"
    assert document_key(hit("/abs/exact.txt"), relevant) == "/abs/exact.txt"
    # Not a suffix at a path boundary, and unjudged documents keep their full, unique source.
    assert document_key(hit("/work/docs/hr/sick-leave.md"), {"leave.md": 1}) == "/work/docs/hr/sick-leave.md"
    assert document_key(hit("/a.csv#row=3"), relevant) != document_key(hit("/b.csv#row=3"), relevant)


def test_a_document_ranks_where_its_best_chunk_ranks() -> None:
    hits = [hit("/x/a.md"), hit("/y/b.md"), hit("/x/a.md"), hit("/z/c.md")]
    assert ranked_documents(hits, {"c.md": 1}) == ["/x/a.md", "/y/b.md", "c.md"]
