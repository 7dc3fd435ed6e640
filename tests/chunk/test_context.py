"""Contextual chunk headers: what a header says for files, records and odd metadata."""

from __future__ import annotations

from ragtune.chunk.context import context_header, document_label, readable_name
from ragtune.types import Document, stable_id


def _file_document(name: str, **metadata) -> Document:
    source = f"/corpus/{name}"
    return Document(stable_id("file", source), source, "text", "pdf", metadata={"file_name": name, **metadata})


def test_file_names_are_made_readable():
    assert readable_name("3M_2018_10K.pdf") == "3M 2018 10K"
    assert readable_name("travel-policy.md") == "travel policy"
    assert readable_name("FOOTLOCKER_2022_8K_dated-2022-05-20.pdf") == "FOOTLOCKER 2022 8K dated 2022 05 20"


def test_a_file_is_named_by_title_and_file_name_with_type_and_period():
    document = _file_document("acme_fy22.pdf", title="Annual Report", doc_type="10-K", fiscal_year=2022)
    assert document_label(document) == "Annual Report, acme fy22, 10-K, 2022"
    # a title that only repeats the file name, or a generator's placeholder, is not said twice
    assert document_label(_file_document("leave_policy.md", title="Leave policy")) == "Leave policy"
    assert document_label(_file_document("q3.pdf", title="Microsoft Word - q3.docx")) == "q3"


def test_serially_numbered_files_are_not_named_by_their_number():
    for name in ("context_0001.txt", "scan0042.pdf", "page-3.md"):
        assert document_label(_file_document(name)) == "", name
    assert document_label(_file_document("invoice_2022_03.pdf")) == "invoice 2022 03"


def test_records_of_a_file_are_not_named_by_it():
    record = Document("record-7", "/corpus/corpus.jsonl", "text", "json", metadata={"file_name": "corpus.jsonl"})
    assert document_label(record) == ""
    assert context_header(document_label(record), ()) == ""  # nothing to say: nothing prefixed
    assert context_header("", ("FAQ", "Billing")) == "FAQ › Billing"


def test_headers_keep_the_innermost_headings_and_stay_short():
    path = ("Part II", "Item 8", "Statements", "Consolidated Statement of Cash Flows")
    assert context_header("3M 2018 10K", path) == "3M 2018 10K — Item 8 › Statements › Consolidated Statement of Cash Flows"
    long = context_header("x" * 300, ())
    assert len(long) == 200 and long.endswith("…")
