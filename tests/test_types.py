from __future__ import annotations

from ragtune.types import AccessList, Chunk, Document, Heading, Principal


def test_page_lookup():
    doc = Document("d", "s", "aaa\n\nbbb\n\nccc", "pdf", page_starts=[0, 5, 10])
    assert [doc.page_at(i) for i in (0, 4, 5, 9, 10, 12)] == [1, 1, 2, 2, 3, 3]
    assert Document("d", "s", "x", "text").page_at(0) is None


def test_heading_path_pops_siblings_and_deeper_levels():
    outline = [Heading(1, "A", 0), Heading(2, "A.1", 10), Heading(3, "A.1.a", 20), Heading(2, "A.2", 30),
               Heading(1, "B", 40)]
    doc = Document("d", "s", "x" * 50, "markdown", outline=outline)
    assert doc.heading_path_at(5) == ("A",)
    assert doc.heading_path_at(25) == ("A", "A.1", "A.1.a")
    assert doc.heading_path_at(35) == ("A", "A.2")
    assert doc.heading_path_at(45) == ("B",)


def test_public_documents_are_visible_to_everyone():
    assert AccessList.public().visible_to(Principal("anyone"))
    hr_only = AccessList(allowed_groups=frozenset({"hr"}))
    assert not hr_only.visible_to(Principal("bob", frozenset({"sales"})))
    assert hr_only.visible_to(Principal("ana", frozenset({"hr"})))
    assert AccessList(allowed_users=frozenset({"bob"}), allowed_groups=frozenset()).visible_to(Principal("bob"))


def test_chunk_ids_depend_on_document_and_span_only():
    assert Chunk.make_id("d", 0, 10) == Chunk.make_id("d", 0, 10)
    assert len({Chunk.make_id("d", 0, 10), Chunk.make_id("d", 0, 11), Chunk.make_id("e", 0, 10)}) == 3
