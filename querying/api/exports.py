"""Query results as streamed CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A write-only file whose write() returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> Any:
    """One value for a CSV cell; text that a spreadsheet would run as a formula gets a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_lines(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """The header line, then one line per row."""
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def csv_response(outcome: Any, filename: str = "query.csv") -> StreamingHttpResponse:
    """Stream an allowed QueryOutcome as CSV; truncation and warnings travel in headers."""
    response = StreamingHttpResponse(
        csv_lines(outcome.columns, outcome.rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Query-Row-Count"] = str(outcome.row_count)
    response["X-Query-Truncated"] = "true" if outcome.truncated else "false"
    response["X-Query-Masked-Columns"] = ",".join(outcome.masked_columns)
    response["Cache-Control"] = "no-store"
    return response
