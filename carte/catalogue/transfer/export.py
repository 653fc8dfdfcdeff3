"""Write an organisation's catalogue as .xlsx, a .zip of CSV files, JSON or YAML.

Every format holds the same tables (`shapes.TABLES`). Spreadsheet formats (xlsx, CSV)
neutralise text a spreadsheet would run as a formula; JSON and YAML keep values as they
are, with decimals as strings so no precision is lost.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import IO, Any

import yaml
from openpyxl import Workbook  # type: ignore[import-untyped]

from carte.catalogue.transfer.shapes import (
    FORMAT,
    HEADERS,
    LIST_SEP,
    TABLES,
    VERSION,
    neutralise,
    table_rows,
)
from carte.core.errors import DomainError
from carte.core.permissions import VIEW, require
from carte.organisations.actor import Actor

FORMATS = ("xlsx", "csv", "json", "yaml")
EXTENSIONS = {"xlsx": "xlsx", "csv": "zip", "json": "json", "yaml": "yaml"}
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
    "json": "application/json",
    "yaml": "application/yaml",
}


def _sheet_cell(value: Any) -> Any:
    """A value as an xlsx cell: numbers, dates and booleans stay typed, text is made safe."""
    if isinstance(value, list):
        value = LIST_SEP.join(value)
    if isinstance(value, str):
        return neutralise(value) if value else None
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = LIST_SEP.join(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def _plain(value: Any) -> Any:
    """A value for JSON or YAML: decimals and dates as strings, the rest as is."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def _check(actor: Actor, fmt: str) -> None:
    from carte.catalogue.models import Service

    require(actor, VIEW, Service)
    if fmt not in FORMATS:
        raise DomainError.field("format", f"Choose one of: {', '.join(FORMATS)}.")


def export_name(actor: Actor, fmt: str) -> str:
    """`<org>-catalogue.<ext>`, the name an export is saved under."""
    return f"{actor.organisation.slug}-catalogue.{EXTENSIONS[fmt]}"


def export_catalogue(
    actor: Actor,
    fmt: str,
    out: IO[bytes],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write the live catalogue of the actor's organisation to `out` in format `fmt`;
    `progress(tables done, tables)` is called as each table is written."""
    _check(actor, fmt)
    org = actor.organisation
    total = len(HEADERS)

    def tables() -> Iterator[tuple[str, tuple[str, ...]]]:
        for done, (table, headers) in enumerate(HEADERS.items()):
            if progress is not None:
                progress(done, total)
            yield table, headers
        if progress is not None:
            progress(total, total)

    if fmt == "xlsx":
        # write_only streams rows to disk-backed XML instead of holding cells in memory.
        book = Workbook(write_only=True)
        for table, headers in tables():
            sheet = book.create_sheet(table)
            sheet.append(list(headers))
            for row in table_rows(table, org):
                sheet.append([_sheet_cell(row[h]) for h in headers])
        book.save(out)
    elif fmt == "csv":
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table, headers in tables():
                with archive.open(f"{table}.csv", "w") as raw:
                    # utf-8-sig: Excel reads the accented names right only with a BOM.
                    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                    writer = csv.writer(text)
                    writer.writerow(headers)
                    for row in table_rows(table, org):
                        writer.writerow([_csv_cell(row[h]) for h in headers])
                    text.flush()
                    text.detach()
    else:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "tables": {
                table: [{h: _plain(row[h]) for h in headers} for row in table_rows(table, org)]
                for table, headers in tables()
            },
        }
        if fmt == "json":
            out.write(json.dumps(document, ensure_ascii=False, indent=1).encode())
        else:
            out.write(yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode())


def export_bytes(actor: Actor, fmt: str) -> bytes:
    """The export as bytes (for tests and small catalogues)."""
    buffer = io.BytesIO()
    export_catalogue(actor, fmt, buffer)
    return buffer.getvalue()


__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "FORMATS",
    "TABLES",
    "export_bytes",
    "export_catalogue",
    "export_name",
]
