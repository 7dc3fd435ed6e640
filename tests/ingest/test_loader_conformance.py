"""The Loader suite of ragtune.testing.loader, run against every loader ragtune ships (each found
through the registry by its sample's file name).

Add a sample to SAMPLES, a broken file to BAD and a subclass below when adding a loader; the
registry test fails until you do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.ingest.formats import LOADERS, loader_for_name
from ragtune.testing.loader import LoaderConformance
from tests import samples

LONG = " ".join(f"Sentence {i} explains one more detail of the leave policy." for i in range(120))


def _md(p: Path) -> Path:
    p.write_text(f"---\ntitle: Leave\n---\n# Leave\n\n{LONG}\n\n## Carry over\n\nFive days.\n")
    return p


def _text(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


SAMPLES = {
    "markdown": ("leave.md", _md),
    "text": ("notes.txt", lambda p: _text(p, LONG + "\n\nSecond paragraph.")),
    "html": ("travel.html", lambda p: _text(p, samples.HTML_PAGE)),
    "pdf": ("policy.pdf", lambda p: samples.write_pdf(p, [LONG[:1500], "Page two text.", LONG[1500:3000]])),
    "docx": ("handbook.docx", lambda p: samples.write_docx(
        p, [("h1", "Handbook"), ("p", LONG), ("h2", "Table"), ("table", [["a", "b"], ["1", "2"]])])),
    "csv": ("prices.csv", lambda p: _text(p, "sku,name,price\n" + "".join(f"S{i},Item {i},{i}.5\n" for i in range(80)))),
    "xlsx": ("prices.xlsx", lambda p: samples.write_xlsx(
        p, {"Prices": [["sku", "price"], *[[f"S{i}", i] for i in range(50)]], "Notes": [["note"], ["hi"]]})),
    "json": ("faq.json", lambda p: _text(p, '[{"title": "Q1", "text": "' + LONG[:600] + '"}]')),
    "jsonl": ("faq.jsonl", lambda p: samples.write_jsonl(p, [{"text": LONG[:900]}, {"text": "short"}])),
}


def _bytes(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


# A file of each format with nothing usable in it (as in samples.make_bad_corpus), and the reason.
BAD = {
    "markdown": ("bad_yaml.md", lambda p: _text(p, "---\ntitle: [unclosed\n---\n# Body\n"),
                 "front matter is not valid YAML"),
    "text": ("binary.txt", lambda p: _bytes(p, bytes(range(256)) * 40), "binary content"),
    "html": ("chrome_only.html", lambda p: _text(p, "<html><body><nav>Home</nav><script>x()</script></body></html>"),
             "no visible main content"),
    "pdf": ("not_a_pdf.pdf", lambda p: _text(p, "just text pretending to be a PDF"), "not a PDF"),
    "docx": ("text.docx", lambda p: _text(p, "plain text with a docx name"), "not a valid DOCX"),
    "csv": ("header_only.csv", lambda p: _text(p, "sku,name,price\n"), "no data rows"),
    "xlsx": ("broken.xlsx", lambda p: _bytes(p, b"PK\x03\x04garbage"), "not a valid XLSX workbook"),
    "json": ("syntax.json", lambda p: _text(p, '{"text": "a",}'), "invalid JSON at line 1"),
    "jsonl": ("all_bad.jsonl", lambda p: _text(p, '{"text": "unterminated\n{oops}\n'), "no usable records"),
}


def test_every_registered_loader_has_a_sample():
    assert {loader.name for loader in LOADERS} == set(SAMPLES) == set(BAD)
    assert {loader.name for loader in LOADERS} == {cls.format for cls in ShippedLoader.__subclasses__()}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_registry_picks_the_loader_by_file_name(name):
    for filename in (SAMPLES[name][0], BAD[name][0]):
        loader = loader_for_name(filename)
        assert loader is not None and loader.name == name


class ShippedLoader(LoaderConformance):
    format: str
    """The loader's registry name: its key in SAMPLES and BAD."""

    @property
    def bad_reason(self) -> str:  # type: ignore[override]
        return BAD[self.format][2]

    @pytest.fixture
    def loader(self):  # type: ignore[no-untyped-def]
        return loader_for_name(SAMPLES[self.format][0])

    def make_sample(self, folder: Path) -> Path:
        filename, make = SAMPLES[self.format]
        return make(folder / filename)

    def make_bad_sample(self, folder: Path) -> Path:
        filename, make, _ = BAD[self.format]
        return make(folder / filename)


class TestMarkdownLoader(ShippedLoader):
    format = "markdown"


class TestTextLoader(ShippedLoader):
    format = "text"


class TestHtmlLoader(ShippedLoader):
    format = "html"


class TestPdfLoader(ShippedLoader):
    format = "pdf"


class TestDocxLoader(ShippedLoader):
    format = "docx"


class TestCsvLoader(ShippedLoader):
    format = "csv"


class TestXlsxLoader(ShippedLoader):
    format = "xlsx"


class TestJsonLoader(ShippedLoader):
    format = "json"

    def make_partial_sample(self, folder: Path) -> Path:
        return _text(folder / "mixed.json", '[{"text": "kept"}, 5, {"text": "also kept"}]')


class TestJsonlLoader(ShippedLoader):
    format = "jsonl"

    def make_partial_sample(self, folder: Path) -> Path:
        return _text(folder / "partial.jsonl", '{"text": "kept"}\n{broken\n{"text": "also kept"}\n')
