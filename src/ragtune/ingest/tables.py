"""CSV/TSV and Excel files, table-aware: every row is rendered as ``column: value`` pairs.

A chunk of any rows therefore never loses its column names; the table splitter packs whole
rows. In workbooks each sheet is a heading, so chunks carry the sheet name as heading path.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from typing import Any

from ragtune.config import IngestConfig
from ragtune.errors import LoadError
from ragtune.ingest.base import LoadResult, TextBuilder, clean_header, file_document, render_row
from ragtune.ingest.files import SourceFile, decode_text
from ragtune.types import Heading


def _is_blank(row: Iterable[Any]) -> bool:
    return all(v is None or str(v).strip() == "" for v in row)


def _add_table(builder: TextBuilder, rows: Iterable[list[Any]], sheet: str | None) -> tuple[list[str], int]:
    """Render one table (first non-blank row = header); returns (header, data row count)."""
    header: list[str] | None = None
    lines: list[str] = []
    for row in rows:
        if _is_blank(row):
            continue
        if header is None:
            header = clean_header(list(row))
            continue
        line = render_row(header, list(row))
        if line:
            lines.append(line)
    if header is None or not lines:
        return header or [], 0
    start = builder.length + (2 if builder.length else 0)
    builder.rows(lines)
    if sheet is not None:
        builder.outline.append(Heading(level=1, title=sheet, start=start))
    return header, len(lines)


class CsvLoader:
    name = "csv"
    extensions = (".csv", ".tsv")
    mime_types = ("text/csv", "text/tab-separated-values")

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        text, encoding = decode_text(data)
        dialect = _sniff(text, tab=file.suffix == ".tsv")
        try:
            rows = list(csv.reader(io.StringIO(text), dialect))
        except csv.Error as exc:
            raise LoadError(f"malformed CSV: {exc}") from None
        builder = TextBuilder()
        header, count = _add_table(builder, rows, sheet=None)
        if count == 0:
            raise LoadError("no data rows: the table is empty or has only a header")
        metadata = {"encoding": encoding, "columns": header, "rows": count}
        return LoadResult(
            [file_document(file, builder.text(), "table", metadata=metadata, row_spans=builder.row_spans)]
        )


def _sniff(text: str, tab: bool) -> type[csv.Dialect] | csv.Dialect:
    if tab:
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(text[:16384], delimiters=",;\t|")
    except csv.Error:
        pass
    # The sniffer wants equally long rows; ragged tables still have a telling header line.
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in ",;\t|"}
    delimiter = max(counts, key=counts.__getitem__)

    class Sniffed(csv.excel):
        pass

    Sniffed.delimiter = delimiter if counts[delimiter] else ","
    return Sniffed


class XlsxLoader:
    name = "xlsx"
    extensions = (".xlsx", ".xlsm")
    mime_types = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)

    def load(self, file: SourceFile, data: bytes, config: IngestConfig) -> LoadResult:
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as exc:
            raise LoadError(f"not a valid XLSX workbook: {exc}") from None
        except Exception as exc:  # openpyxl surfaces XML errors of many kinds
            raise LoadError(f"corrupt XLSX workbook: {type(exc).__name__}: {exc}") from None
        builder = TextBuilder()
        sheets: dict[str, list[str]] = {}
        total = 0
        try:
            for sheet in workbook.worksheets:
                header, count = _add_table(
                    builder, (list(r) for r in sheet.iter_rows(values_only=True)), sheet.title
                )
                if count:
                    sheets[sheet.title] = header
                    total += count
        finally:
            workbook.close()
        if total == 0:
            raise LoadError("no data rows in any sheet")
        metadata = {"sheets": list(sheets), "columns": sheets, "rows": total}
        return LoadResult(
            [
                file_document(
                    file, builder.text(), "table", metadata=metadata,
                    outline=builder.outline, row_spans=builder.row_spans,
                )
            ]
        )
