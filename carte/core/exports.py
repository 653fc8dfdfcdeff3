"""A list as a download: the registers, the heat map and the breaches as .xlsx or CSV.

A page that offers its rows as a file asks `export_format(request)` (the `format` of the
query string: "xlsx" or "csv", anything else is the page itself), then answers with
`table_download()`: the column titles people read and the rows as values (text, numbers,
`Decimal`, dates and times, booleans, `None`). The file keeps its values typed in a
workbook (a date is a date, an amount a number) and written as people read them in CSV
(dates ISO 8601, "Yes"/"No"); text a spreadsheet would run as a formula is made harmless
(`core.tabular.cells.neutralise`), as in every export. The links are
`core/_export_links.html`, given the page's query string.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from carte.core.tabular.cells import neutralise

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# Column widths in a workbook: as wide as the title or the longest value, within these.
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def export_format(request: HttpRequest) -> str | None:
    """The file format the query string asks for, or None for the page itself."""
    fmt = request.GET.get("format", "")
    return fmt if fmt in FORMATS else None


def _plain(value: Any) -> Any:
    """A value as a cell holds it: aware times in the local zone (a workbook has no zone)."""
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, microsecond=0)
    return value


def _sheet_cell(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return neutralise(value) if value else None
    return value


def _csv_cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _dated(sheet: Any, value: Any) -> Any:
    """A date or time shown as one (a workbook stores both as numbers)."""
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm" if isinstance(value, dt.datetime) else "yyyy-mm-dd"
        return cell
    return value


def _width(value: Any) -> int:
    text = value if isinstance(value, str) else str(value) if value is not None else ""
    return max((len(line) for line in text.splitlines()), default=0)


def workbook_bytes(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """One sheet named `title`: a bold header row, then the rows, columns sized to fit."""
    cells = [[_sheet_cell(v) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(value))
    book = Workbook(write_only=True)
    # A sheet's name holds at most 31 characters, none of []:*?/\ .
    sheet = book.create_sheet("".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet")
    for i, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(
            _MAX_WIDTH, max(_MIN_WIDTH, width + 2)
        )
    sheet.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in cells:
        sheet.append([_dated(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    # utf-8-sig on the way out (the BOM): Excel reads accented names right only with it.
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def table_download(
    *,
    fmt: str,
    filename: str,
    title: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> HttpResponse:
    """The rows as a file to download, named `filename` plus the date and the extension."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    stamp = timezone.localdate().isoformat()
    body: bytes | str = (
        workbook_bytes(title, columns, rows) if fmt == "xlsx" else csv_text(columns, rows)
    )
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.{fmt}"'
    return response
