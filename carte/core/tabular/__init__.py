"""Reading the files people import (.xlsx workbooks, CSV text, .zip archives) into rows,
with one set of refusals for every importer (the catalogue's, the KPI values').

It knows no app: an importer says how wide its tables are and what its header names,
and turns `Unreadable` (the file as a whole cannot be read) and the messages here into
its own report. Memory and time follow what the file holds, never what it claims: its
size is checked before anything is read, an archive's parts before they are unpacked
(their total, and how much each grows), and the .xlsx reader (`xlsx`) stores no cell
beyond the columns read and keeps one row in memory at a time.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
import zlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from carte.core.tabular.xlsx import Damaged, Row, Sheet, Workbook, column_letters

# A table is at most this wide: a value in a column beyond it is "outside the columns",
# and the reader stores nothing there (a cell may claim column XFD, or beyond).
MAX_COLUMNS = 256
# A part of an archive larger than RATIO_FLOOR may unpack to at most MAX_UNPACK_RATIO
# times its packed size (spreadsheets grow 5 to 20 times; "zip bombs" hundreds), and all
# the parts together to MAX_UNPACK_TOTAL times the largest file accepted.
MAX_UNPACK_RATIO = 100
RATIO_FLOOR = 1024 * 1024
MAX_UNPACK_TOTAL = 20
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted OOXML file, or a legacy .xls

# Problems of a row or a header, whatever the importer.
FORMULA = "A formula is not accepted: type the value."
OUTSIDE = "A value is outside the columns."
UNKNOWN_COLUMN = "Unknown column."
COLUMN_TWICE = "This column appears twice."
COLUMN_MISSING = "This column is missing."

DAMAGED_ARCHIVE = "The file is damaged or truncated: it is not a readable archive."
DAMAGED_WORKBOOK = "The file is damaged or truncated: it is not a readable .xlsx workbook."
DAMAGED_SHEET = "The file is damaged or truncated: a sheet cannot be read to its end."
ENCRYPTED = (
    "This file is password-protected or an old .xls workbook: save it as an unprotected .xlsx file."
)


class Unreadable(Exception):
    """The file cannot be read at all; the message says why, for its owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def too_large_message(limit: int) -> str:
    """What to tell someone whose file is over `limit` bytes."""
    if limit >= 1024 * 1024:
        return f"The file is over {limit // (1024 * 1024)} MB: split it."
    return f"The file is over {limit} bytes: split it."


def check_size(source: IO[bytes], max_bytes: int) -> None:
    """Refuse an empty file, or one over `max_bytes`, before reading it."""
    position = source.tell()
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(position)
    if size > max_bytes:
        raise Unreadable(too_large_message(max_bytes))
    if size == 0:
        raise Unreadable("The file is empty.")


def check_not_encrypted(head: bytes) -> None:
    """Refuse a file whose first bytes say it is encrypted or a legacy .xls."""
    if head.startswith(OLE_MAGIC):
        raise Unreadable(ENCRYPTED)


def open_zip(source: IO[bytes], max_bytes: int) -> zipfile.ZipFile:
    """The archive, once the sizes its parts declare are seen to be sane (a part is never
    unpacked past its declared size: `zipfile` stops there and checks the CRC)."""
    try:
        archive = zipfile.ZipFile(source)
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise Unreadable(DAMAGED_ARCHIVE) from exc
    total = 0
    for info in parts:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_UNPACK_RATIO * max(
            info.compress_size, 1
        ):
            archive.close()
            raise Unreadable(
                f"The file unpacks to too much data: {info.filename[:60]} grows over "
                f"{MAX_UNPACK_RATIO} times, which no spreadsheet does."
            )
    if total > max_bytes * MAX_UNPACK_TOTAL:
        archive.close()
        raise Unreadable("The file unpacks to too much data.")
    return archive


@contextmanager
def open_workbook(source: IO[bytes], max_bytes: int) -> Iterator[Workbook]:
    """An .xlsx workbook, checked as an archive first; closed on leaving."""
    check_not_encrypted(source.read(8))
    source.seek(0)
    open_zip(source, max_bytes).close()
    source.seek(0)
    try:
        book = Workbook(source)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        raise Unreadable(DAMAGED_WORKBOOK) from exc
    try:
        yield book
    finally:
        book.close()


def sheet_rows(book: Workbook, sheet: Sheet, width: int = MAX_COLUMNS) -> Iterator[Row]:
    """The rows of a sheet (see `xlsx.Workbook.rows`); a sheet that cannot be read to its
    end raises `Unreadable`."""
    try:
        yield from book.rows(sheet, width)
    except Damaged as exc:
        raise Unreadable(f"The file is damaged: in sheet {sheet.title!r}, {exc}.") from None
    except Exception as exc:  # the XML parser, zlib and zipfile raise many kinds
        raise Unreadable(DAMAGED_SHEET) from exc


def csv_rows(raw: IO[bytes], name: str = "The file") -> Iterator[Row]:
    """The rows of CSV text (UTF-8, with or without a BOM), numbered from 1; `raw` is
    left open. `name` says which file, in refusals."""
    # The C text reader, not codecs': a third of the time on a large file.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")
    try:
        for number, values in enumerate(csv.reader(text), start=1):
            yield Row(number, values)
    except UnicodeDecodeError:
        raise Unreadable(f"{name} is not UTF-8 text: save it as CSV UTF-8.") from None
    except csv.Error as exc:
        raise Unreadable(f"{name} is not a readable CSV: {exc}.") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        # A part of a damaged archive fails only when it is read.
        raise Unreadable(f"{name} cannot be read: the archive is damaged ({exc}).") from None
    finally:
        text.detach()


def header_of(values: Sequence[Any]) -> list[str]:
    """A header row's names: stripped, without the empty cells at its end."""
    names = [str(v).strip() if v is not None else "" for v in values]
    while names and not names[-1]:
        names.pop()
    return names


def header_problems(
    names: Sequence[str], expected: Collection[str], optional: Collection[str] = ()
) -> list[tuple[str, str]]:
    """(column, message) for each name not expected or given twice, and each expected
    column missing; none when the header is right (in any order)."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in names:
        if name not in expected and name not in optional:
            problems.append((name or "(empty)", UNKNOWN_COLUMN))
        elif name in seen:
            problems.append((name, COLUMN_TWICE))
        seen.add(name)
    problems.extend((name, COLUMN_MISSING) for name in expected if name not in seen)
    return problems


def outside(row: Row, width: int) -> bool:
    """Whether the row holds a value beyond its table's `width` columns."""
    if row.outside is not None:
        return True
    return any(v not in (None, "") for v in row.values[width:])


__all__ = [
    "COLUMN_MISSING",
    "COLUMN_TWICE",
    "FORMULA",
    "MAX_COLUMNS",
    "OUTSIDE",
    "UNKNOWN_COLUMN",
    "Row",
    "Sheet",
    "Unreadable",
    "Workbook",
    "check_not_encrypted",
    "check_size",
    "column_letters",
    "csv_rows",
    "header_of",
    "header_problems",
    "open_workbook",
    "open_zip",
    "outside",
    "sheet_rows",
    "too_large_message",
]
