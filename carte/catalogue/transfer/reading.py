"""The first step of an import: stream the file into raw rows, refusing what is not a
catalogue (size, damaged or encrypted files, unknown tables or columns, formulas). A
problem of the file as a whole raises `Refused`; the others go to the `Sink` and reading
goes on, so that every problem is listed at once."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from carte.catalogue.transfer import xlsx
from carte.catalogue.transfer.report import Problem
from carte.catalogue.transfer.shapes import FORMAT, HEADERS, VERSION, unneutralise
from carte.core.errors import DomainError

MAX_BYTES = 50 * 1024 * 1024
# A zip (xlsx or CSV) may unpack to at most this many times the file limit: a guard
# against "zip bombs" that are small on disk and huge once read.
MAX_UNPACK_RATIO = 20
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted OOXML file, or a legacy .xls
FILE = "file"  # the table named in problems of the file as a whole


class Refused(Exception):
    """The file cannot be read at all; carries the one problem to report."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(FILE, None, None, message)


# ---------------------------------------------------------------- reading

RawRows = Iterator[tuple[str, int, dict[str, Any]]]


def _size(source: IO[bytes]) -> int:
    position = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(position)
    return size


def too_large_message(limit: int) -> str:
    """What to tell someone whose file is over `limit` bytes."""
    if limit >= 1024 * 1024:
        return f"The file is over {limit // (1024 * 1024)} MB: split it."
    return f"The file is over {limit} bytes: split it."


def check_file(name: str, head: bytes) -> None:
    """Refuse at once, on the `file` field, what cannot be a catalogue by its name or its
    first bytes (an import in the background is checked so before it is queued)."""
    try:
        _detect(name, head)
    except Refused as exc:
        raise DomainError.field("file", exc.problem.message) from exc


def _detect(name: str, head: bytes) -> str:
    if head.startswith(OLE_MAGIC):
        raise Refused(
            "This file is password-protected or an old .xls workbook: save it as an "
            "unprotected .xlsx file."
        )
    suffix = Path(name).suffix.lower()
    formats = {".xlsx": "xlsx", ".zip": "csv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
    if suffix == ".csv":
        raise Refused("Import CSV as a .zip holding one CSV file per table (as exported).")
    if suffix not in formats:
        raise Refused("Use an .xlsx, .zip (of CSV files), .json or .yaml file.")
    return formats[suffix]


def _check_zip(source: IO[bytes], limit: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(source)
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise Refused("The file is damaged or truncated: it is not a readable archive.") from exc
    if unpacked > limit * MAX_UNPACK_RATIO:
        raise Refused("The file unpacks to too much data.")
    return archive


@dataclass
class Sink:
    """What reading found besides rows: problems of the shape, and the tables met."""

    problems: list[Problem]
    seen: set[str] = field(default_factory=set)

    def missing(self) -> None:
        # A missing table would read as "no rows" and remove every such part: refuse it.
        for table in HEADERS:
            if table not in self.seen:
                self.problems.append(
                    Problem(table, None, None, "This sheet or table is missing (it may be empty).")
                )


def _headers(table: str, given: list[str], sink: Sink) -> bool:
    """Whether the header row is exactly the table's columns (in any order)."""
    expected = HEADERS[table]
    ok = True
    seen: set[str] = set()
    for name in given:
        if name not in expected:
            sink.problems.append(Problem(table, 1, name or "(empty)", "Unknown column."))
            ok = False
        elif name in seen:
            sink.problems.append(Problem(table, 1, name, "This column appears twice."))
            ok = False
        seen.add(name)
    for name in expected:
        if name not in seen:
            sink.problems.append(Problem(table, 1, name, "This column is missing."))
            ok = False
    return ok


def _unknown_table(table: str, sink: Sink) -> bool:
    """Whether to skip this sheet or table: unknown, or met twice (both are reported)."""
    if table not in HEADERS:
        sink.problems.append(
            Problem(table, None, None, f"Unknown sheet or table: use {', '.join(HEADERS)}.")
        )
        return True
    if table in sink.seen:
        sink.problems.append(Problem(table, None, None, "This sheet or table appears twice."))
        return True
    sink.seen.add(table)
    return False


def _spreadsheet_row(
    table: str, number: int, header: list[str], values: list[Any], sink: Sink
) -> dict[str, Any] | None:
    """A data row of a spreadsheet as {column: value}, quotes removed; None when empty."""
    if all(v is None or v == "" for v in values):
        return None
    for extra in values[len(header) :]:
        if extra not in (None, ""):
            sink.problems.append(Problem(table, number, None, "A value is outside the columns."))
            break
    row: dict[str, Any] = {}
    for i, name in enumerate(header):
        value = values[i] if i < len(values) else None
        row[name] = unneutralise(value) if isinstance(value, str) else value
    return row


def _read_xlsx(source: IO[bytes], limit: int, sink: Sink) -> RawRows:
    _check_zip(source, limit).close()
    source.seek(0)
    try:
        book = xlsx.Workbook(source)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        raise Refused(
            "The file is damaged or truncated: it is not a readable .xlsx workbook."
        ) from exc
    try:
        for sheet in book.sheets:
            table = sheet.title
            if _unknown_table(table, sink):
                continue
            header: list[str] | None = None
            for stored in book.rows(sheet):
                number, values = stored.number, stored.values
                for i in stored.formulas:
                    column = header[i] if header and i < len(header) else f"#{i + 1}"
                    sink.problems.append(
                        Problem(table, number, column, "A formula is not accepted: type the value.")
                    )
                if header is None:
                    # The header is row 1: a sheet whose first row is empty has none.
                    cells = values if number == 1 else []
                    while cells and cells[-1] in (None, ""):
                        cells.pop()
                    header = [str(v).strip() if v is not None else "" for v in cells]
                    if not _headers(table, header, sink):
                        break
                    if number == 1:
                        continue
                row = _spreadsheet_row(table, number, header, values, sink)
                if row is not None and not stored.formulas:
                    yield table, number, row
    except Refused:
        raise
    except Exception as exc:  # a truncated sheet fails only when it is read
        raise Refused(
            "The file is damaged or truncated: a sheet cannot be read to its end."
        ) from exc
    finally:
        book.close()


def _read_csv_zip(source: IO[bytes], limit: int, sink: Sink) -> RawRows:
    archive = _check_zip(source, limit)
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = Path(info.filename).name
            table = name[:-4] if name.lower().endswith(".csv") else name
            if _unknown_table(table, sink):
                continue
            try:
                with archive.open(info) as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                    header: list[str] | None = None
                    # Rows are numbered as a spreadsheet shows them: the header is row 1.
                    for number, values in enumerate(csv.reader(text), start=1):
                        if header is None:
                            header = [v.strip() for v in values]
                            if not _headers(table, header, sink):
                                break
                            continue
                        row = _spreadsheet_row(table, number, header, list(values), sink)
                        if row is not None:
                            yield table, number, row
            except (UnicodeDecodeError, csv.Error, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise Refused(f"{info.filename} cannot be read: {exc}.") from exc


def _read_document(source: IO[bytes], fmt: str, sink: Sink) -> RawRows:
    try:
        data = json.load(source) if fmt == "json" else yaml.safe_load(source)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if fmt == "json" else "YAML"
        raise Refused(f"The file is not valid {kind} (damaged or truncated).") from exc
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(data.get("tables"), dict)
    ):
        raise Refused(f'Not a catalogue export: expected {{"format": "{FORMAT}", "tables": ...}}.')
    if data.get("version") != VERSION:
        raise Refused(f"Unsupported version {data.get('version')!r}: this Carte reads {VERSION}.")
    for table, rows in data["tables"].items():
        if _unknown_table(str(table), sink):
            continue
        if not isinstance(rows, list):
            sink.problems.append(Problem(table, None, None, "Expected a list of rows."))
            continue
        columns = set(HEADERS[table])
        # Rows of JSON and YAML are numbered from 1, in the order of the list.
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                sink.problems.append(
                    Problem(table, number, None, "Expected a row of named values.")
                )
                continue
            bad = False
            for name in row.keys() - columns:
                sink.problems.append(Problem(table, number, str(name), "Unknown column."))
                bad = True
            for name in columns - row.keys():
                sink.problems.append(Problem(table, number, name, "This column is missing."))
                bad = True
            if not bad:
                yield table, number, row


def read(source: IO[bytes], name: str, sink: Sink, *, max_bytes: int = MAX_BYTES) -> RawRows:
    """Raw rows of the file, streamed; problems of its shape go to `sink`."""
    size = _size(source)
    if size > max_bytes:
        raise Refused(f"The file is over {max_bytes // (1024 * 1024)} MB: split it.")
    if size == 0:
        raise Refused("The file is empty.")
    head = source.read(8)
    source.seek(0)
    fmt = _detect(name, head)
    if fmt == "xlsx":
        return _read_xlsx(source, max_bytes, sink)
    if fmt == "csv":
        return _read_csv_zip(source, max_bytes, sink)
    return _read_document(source, fmt, sink)
