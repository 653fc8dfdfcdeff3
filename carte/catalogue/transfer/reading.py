"""The first step of an import: stream the file into raw rows, refusing what is not a
catalogue (size, damaged or encrypted files, unknown tables or columns, formulas). A
problem of the file as a whole raises `Refused`; the others go to the `Sink` and reading
goes on, so that every problem is listed at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

from carte.catalogue.transfer.report import Problem
from carte.catalogue.transfer.shapes import FORMAT, HEADERS, VERSION, unneutralise
from carte.core import tabular
from carte.core.errors import DomainError
from carte.core.tabular import Unreadable, too_large_message

MAX_BYTES = 50 * 1024 * 1024
# The deepest a JSON or YAML catalogue nests: the document, its tables, a table's rows,
# a row, a list in a cell. Deeper is refused before anything walks it.
MAX_DEPTH = 5
FILE = "file"  # the table named in problems of the file as a whole


class Refused(Exception):
    """The file cannot be read at all; carries the one problem to report."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(FILE, None, None, message)


# ---------------------------------------------------------------- reading

RawRows = Iterator[tuple[str, int, dict[str, Any]]]


def check_file(name: str, head: bytes) -> None:
    """Refuse at once, on the `file` field, what cannot be a catalogue by its name or its
    first bytes (an import in the background is checked so before it is queued)."""
    try:
        _detect(name, head)
    except Refused as exc:
        raise DomainError.field("file", exc.problem.message) from exc


def _detect(name: str, head: bytes) -> str:
    try:
        tabular.check_not_encrypted(head)
    except Unreadable as exc:
        raise Refused(exc.message) from None
    suffix = Path(name).suffix.lower()
    formats = {".xlsx": "xlsx", ".zip": "csv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
    if suffix == ".csv":
        raise Refused("Import CSV as a .zip holding one CSV file per table (as exported).")
    if suffix not in formats:
        raise Refused("Use an .xlsx, .zip (of CSV files), .json or .yaml file.")
    return formats[suffix]


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
    problems = tabular.header_problems(given, HEADERS[table])
    for column, message in problems:
        sink.problems.append(Problem(table, 1, column, message))
    return not problems


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
    table: str, stored: tabular.Row, header: list[str], sink: Sink
) -> dict[str, Any] | None:
    """A data row of a spreadsheet as {column: value}, quotes removed; None when empty."""
    number, values = stored.number, stored.values
    if tabular.outside(stored, len(header)):
        sink.problems.append(Problem(table, number, None, tabular.OUTSIDE))
    if all(v is None or v == "" for v in values):
        return None
    row: dict[str, Any] = {}
    for i, name in enumerate(header):
        value = values[i] if i < len(values) else None
        row[name] = unneutralise(value) if isinstance(value, str) else value
    return row


def _read_xlsx(source: IO[bytes], limit: int, sink: Sink) -> RawRows:
    with tabular.open_workbook(source, limit) as book:
        for sheet in book.sheets:
            table = sheet.title
            if _unknown_table(table, sink):
                continue
            header: list[str] | None = None
            for stored in tabular.sheet_rows(book, sheet):
                number = stored.number
                for i in stored.formulas:
                    column = header[i] if header and i < len(header) else f"#{i + 1}"
                    sink.problems.append(Problem(table, number, column, tabular.FORMULA))
                if header is None:
                    # The header is row 1: a sheet whose first row is empty has none.
                    header = tabular.header_of(stored.values if number == 1 else [])
                    if stored.outside is not None:
                        header.append("")  # a name beyond the columns read: unknown
                    if not _headers(table, header, sink):
                        break
                    if number == 1:
                        continue
                row = _spreadsheet_row(table, stored, header, sink)
                if row is not None and not stored.formulas:
                    yield table, number, row


def _read_csv_zip(source: IO[bytes], limit: int, sink: Sink) -> RawRows:
    with tabular.open_zip(source, limit) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = Path(info.filename).name
            table = name[:-4] if name.lower().endswith(".csv") else name
            if _unknown_table(table, sink):
                continue
            with archive.open(info) as raw:
                header: list[str] | None = None
                # Rows are numbered as a spreadsheet shows them: the header is row 1.
                for stored in tabular.csv_rows(raw, info.filename):
                    if header is None:
                        header = tabular.header_of(stored.values)
                        if not _headers(table, header, sink):
                            break
                        continue
                    row = _spreadsheet_row(table, stored, header, sink)
                    if row is not None:
                        yield table, stored.number, row


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader refusing, as it composes, nodes nested deeper than a
    catalogue nests (its composer recurses: 20,000 levels overflow Python's stack) and
    aliases (a few bytes that stand for a copy of anything, however large)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise Refused("The file uses YAML aliases (*name): write each value out in full.")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:  # a scalar in the deepest list is one more
                raise Refused(_TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_TOO_DEEP = (
    f"The file nests values over {MAX_DEPTH} levels deep: a catalogue's cells hold text, "
    "numbers or lists of them."
)


def _check_depth(data: Any) -> None:
    """Refuse containers nested deeper than MAX_DEPTH, walked without recursion."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    raise Refused(_TOO_DEEP)
                stack.append((child, depth + 1))


def _read_document(source: IO[bytes], fmt: str, sink: Sink) -> RawRows:
    kind = "JSON" if fmt == "json" else "YAML"
    try:
        data = json.load(source) if fmt == "json" else yaml.load(source, Loader=_Loader)  # noqa: S506 - a safe loader
    except (ValueError, yaml.YAMLError) as exc:
        raise Refused(f"The file is not valid {kind} (damaged or truncated).") from exc
    except RecursionError:
        # JSON's parser recurses: a document nested thousands deep overflows it.
        raise Refused(_TOO_DEEP) from None
    if isinstance(data, dict | list):
        _check_depth(data)
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
                sink.problems.append(Problem(table, number, str(name), tabular.UNKNOWN_COLUMN))
                bad = True
            for name in columns - row.keys():
                sink.problems.append(Problem(table, number, name, tabular.COLUMN_MISSING))
                bad = True
            if not bad:
                yield table, number, row


def read(source: IO[bytes], name: str, sink: Sink, *, max_bytes: int = MAX_BYTES) -> RawRows:
    """Raw rows of the file, streamed; problems of its shape go to `sink`, a file that
    cannot be read raises `Refused`."""
    try:
        tabular.check_size(source, max_bytes)
    except Unreadable as exc:
        raise Refused(exc.message) from None
    head = source.read(8)
    source.seek(0)
    fmt = _detect(name, head)
    if fmt == "xlsx":
        rows = _read_xlsx(source, max_bytes, sink)
    elif fmt == "csv":
        rows = _read_csv_zip(source, max_bytes, sink)
    else:
        rows = _read_document(source, fmt, sink)
    return _refusing(rows)


def _refusing(rows: RawRows) -> RawRows:
    try:
        yield from rows
    except Unreadable as exc:
        raise Refused(exc.message) from None


__all__ = ["MAX_BYTES", "Refused", "Sink", "check_file", "read", "too_large_message"]
