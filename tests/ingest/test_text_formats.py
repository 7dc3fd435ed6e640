"""Markdown, plain text and HTML loaders."""

from __future__ import annotations

import pytest

from ragtune.errors import LoadError
from ragtune.ingest.files import SourceFile, decode_text
from ragtune.ingest.html import HtmlLoader
from ragtune.ingest.markdown import MarkdownLoader, markdown_outline
from ragtune.ingest.text import TextLoader
from tests.samples import HTML_PAGE


def load(loader, tmp_path, name, data: bytes, config):
    path = tmp_path / name
    path.write_bytes(data)
    return loader.load(SourceFile(path), data, config).documents


def test_markdown_front_matter_becomes_metadata_and_access(tmp_path, ingest_config):
    text = "---\ntitle: Leave policy\nowner: hr-team\nupdated: 2026-01-05\nallowed_groups: [hr, managers]\n---\n# Leave\n\nBody.\n"
    [doc] = load(MarkdownLoader(), tmp_path, "leave.md", text.encode(), ingest_config)
    assert doc.text == "# Leave\n\nBody.\n"
    assert doc.metadata["title"] == "Leave policy"
    assert doc.metadata["owner"] == "hr-team"
    assert doc.metadata["updated"] == "2026-01-05"
    assert "allowed_groups" not in doc.metadata
    assert doc.access.allowed_groups == {"hr", "managers"}
    assert doc.access.origin == "front matter"


def test_markdown_invalid_front_matter_is_an_error(tmp_path, ingest_config):
    with pytest.raises(LoadError, match="front matter is not valid YAML"):
        load(MarkdownLoader(), tmp_path, "x.md", b"---\ntitle: [unclosed\n---\nBody\n", ingest_config)


def test_markdown_outline_ignores_code_fences_and_reads_setext():
    text = "Title\n=====\n\n```\n# not a heading\n```\n\nSub part\n--------\n\n#### Deep ###\n"
    outline = markdown_outline(text)
    assert [(h.level, h.title) for h in outline] == [(1, "Title"), (2, "Sub part"), (4, "Deep")]
    for h in outline:
        assert text[h.start :].startswith(h.title) or text[h.start :].lstrip("# ").startswith(h.title)


def test_text_loader_decodes_legacy_encodings(tmp_path, ingest_config):
    original = "Prüfung der Überstunden: Größe, Maße und Gebühren für Mitarbeiter in Köln.\n" * 5
    [doc] = load(TextLoader(), tmp_path, "de.txt", original.encode("cp1252"), ingest_config)
    assert doc.text == original
    assert doc.metadata["encoding"] != "utf-8"


def test_decode_text_handles_boms_and_crlf():
    assert decode_text("a\r\nb".encode("utf-16"))[0] == "a\nb"
    assert decode_text(b"\xef\xbb\xbfhello\r\n")[0] == "hello\n"


def test_html_keeps_main_text_only(tmp_path, ingest_config):
    [doc] = load(HtmlLoader(), tmp_path, "travel.html", HTML_PAGE.encode(), ingest_config)
    assert "Book trains for trips under 500 km." in doc.text
    assert "Item: Hotel | Limit: 120 EUR" in doc.text
    for junk in ("Home", "Site banner", "Copyright", "secret", "color: red", "hidden text"):
        assert junk not in doc.text
    assert doc.metadata["title"] == "Travel policy"
    assert [(h.level, h.title) for h in doc.outline] == [(1, "Travel policy"), (2, "Expenses")]
    assert doc.heading_path_at(doc.text.index("Meals")) == ("Travel policy", "Expenses")


def test_html_without_main_uses_body(tmp_path, ingest_config):
    page = b"<html><body><nav>menu</nav><p>First.</p><div>Second <i>part</i>.</div></body></html>"
    [doc] = load(HtmlLoader(), tmp_path, "p.htm", page, ingest_config)
    assert doc.text == "First.\n\nSecond part."
