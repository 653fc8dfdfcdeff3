"""Import a catalogue from .xlsx, a .zip of CSV files, JSON or YAML: all or nothing.

Three steps. Read: stream the file into canonical rows, refusing what is not a catalogue
(size, damaged or encrypted files, unknown tables or columns, formulas, wrong types).
Plan: check every row against the file and the organisation (duplicates, references,
the rules of services and roles) and work out what would be created, changed or removed.
Apply: only when nothing is wrong and it is not a dry run, carry the plan out in one
transaction: new rows a table at a time through `carte.catalogue.bulk` (tables in
dependency order: categories, services, artefacts, then parts, inputs last), changes and
removals (rare in a large import) one row at a time through `carte.catalogue.services`;
either way permissions, audit and every domain rule apply, and any refusal rolls
everything back and is reported with its table and row.

Services in the file are matched by code: new ones are created, existing ones updated,
and their live parts are made to match the file (parts not in the file are removed).
Categories and artefacts are created or updated, never removed. Stage and published
version belong to the lifecycle and to publishing: the `stage` column is ignored.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import yaml
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction

from carte.catalogue import bulk
from carte.catalogue import services as catalogue
from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import (
    Artefact,
    Category,
    Service,
    ServiceOutput,
    Supplier,
    Symptom,
)
from carte.catalogue.transfer import xlsx
from carte.catalogue.transfer.shapes import (
    FORMAT,
    HEADERS,
    PART_KINDS,
    PART_MODELS,
    TABLES,
    VERSION,
    CellError,
    Row,
    artefact_row,
    convert,
    part_queryset,
    part_row,
    service_row,
    unneutralise,
)
from carte.core.bulk import gc_paused
from carte.core.errors import DomainError
from carte.core.permissions import ADD, require
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

MAX_BYTES = 50 * 1024 * 1024
# A zip (xlsx or CSV) may unpack to at most this many times the file limit: a guard
# against "zip bombs" that are small on disk and huge once read.
MAX_UNPACK_RATIO = 20
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # an encrypted OOXML file, or a legacy .xls
FILE = "file"  # the table named in problems of the file as a whole

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: table (sheet), row number, column."""

    table: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.table]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class Report:
    """The outcome of an import or a dry run: what was (or would be) done, or what is wrong."""

    dry_run: bool = False
    applied: bool = False
    created: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    changed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    removed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table: how many rows are created, changed and removed (only non-zero ones)."""
        out: dict[str, dict[str, int]] = {}
        for table in HEADERS:
            numbers = {
                "created": len(self.created.get(table, [])),
                "changed": len(self.changed.get(table, [])),
                "removed": len(self.removed.get(table, [])),
            }
            if any(numbers.values()):
                out[table] = numbers
        return out

    def summary(self) -> list[str]:
        """One line per table with something to do."""
        return [
            f"{table}: {n['created']} created, {n['changed']} changed, {n['removed']} removed"
            for table, n in self.counts().items()
        ]


class _Refused(Exception):
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


def _detect(name: str, head: bytes) -> str:
    if head.startswith(OLE_MAGIC):
        raise _Refused(
            "This file is password-protected or an old .xls workbook: save it as an "
            "unprotected .xlsx file."
        )
    suffix = Path(name).suffix.lower()
    formats = {".xlsx": "xlsx", ".zip": "csv", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
    if suffix == ".csv":
        raise _Refused("Import CSV as a .zip holding one CSV file per table (as exported).")
    if suffix not in formats:
        raise _Refused("Use an .xlsx, .zip (of CSV files), .json or .yaml file.")
    return formats[suffix]


def _check_zip(source: IO[bytes], limit: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(source)
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _Refused("The file is damaged or truncated: it is not a readable archive.") from exc
    if unpacked > limit * MAX_UNPACK_RATIO:
        raise _Refused("The file unpacks to too much data.")
    return archive


@dataclass
class _Sink:
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


def _headers(table: str, given: list[str], sink: _Sink) -> bool:
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


def _unknown_table(table: str, sink: _Sink) -> bool:
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
    table: str, number: int, header: list[str], values: list[Any], sink: _Sink
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


def _read_xlsx(source: IO[bytes], limit: int, sink: _Sink) -> RawRows:
    _check_zip(source, limit).close()
    source.seek(0)
    try:
        book = xlsx.Workbook(source)
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        raise _Refused(
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
    except _Refused:
        raise
    except Exception as exc:  # a truncated sheet fails only when it is read
        raise _Refused(
            "The file is damaged or truncated: a sheet cannot be read to its end."
        ) from exc
    finally:
        book.close()


def _read_csv_zip(source: IO[bytes], limit: int, sink: _Sink) -> RawRows:
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
                raise _Refused(f"{info.filename} cannot be read: {exc}.") from exc


def _read_document(source: IO[bytes], fmt: str, sink: _Sink) -> RawRows:
    try:
        data = json.load(source) if fmt == "json" else yaml.safe_load(source)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if fmt == "json" else "YAML"
        raise _Refused(f"The file is not valid {kind} (damaged or truncated).") from exc
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(data.get("tables"), dict)
    ):
        raise _Refused(f'Not a catalogue export: expected {{"format": "{FORMAT}", "tables": ...}}.')
    if data.get("version") != VERSION:
        raise _Refused(f"Unsupported version {data.get('version')!r}: this Carte reads {VERSION}.")
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


def read(source: IO[bytes], name: str, sink: _Sink, *, max_bytes: int = MAX_BYTES) -> RawRows:
    """Raw rows of the file, streamed; problems of its shape go to `sink`."""
    size = _size(source)
    if size > max_bytes:
        raise _Refused(f"The file is over {max_bytes // (1024 * 1024)} MB: split it.")
    if size == 0:
        raise _Refused("The file is empty.")
    head = source.read(8)
    source.seek(0)
    fmt = _detect(name, head)
    if fmt == "xlsx":
        return _read_xlsx(source, max_bytes, sink)
    if fmt == "csv":
        return _read_csv_zip(source, max_bytes, sink)
    return _read_document(source, fmt, sink)


# ---------------------------------------------------------------- planning


def _low(text: str) -> str:
    return text.strip().lower()


class _WriteRefused(Exception):
    """A refusal while writing, with the table and row it came from."""

    def __init__(self, table: str, row: int | None, error: DomainError) -> None:
        super().__init__(error.message)
        self.table, self.row, self.error = table, row, error


@dataclass
class _Op:
    """One write of one row (updates, removals, links between services)."""

    table: str
    row: int | None
    run: Callable[[], Any]

    @property
    def size(self) -> int:
        return 1

    def apply(self, progress: Callable[[int], None]) -> None:
        try:
            self.run()
        except DomainError as exc:
            raise _WriteRefused(self.table, self.row, exc) from exc
        progress(1)


@dataclass
class _Batch:
    """New rows of one table, consecutive in the plan, written BATCH at a time by one of
    the functions of `carte.catalogue.bulk` (called by `create` with the items' payloads)."""

    table: str
    create: Callable[[list[Any]], None]
    items: list[tuple[int, Any]] = field(default_factory=list)  # (row number, payload)

    @property
    def size(self) -> int:
        return len(self.items)

    def apply(self, progress: Callable[[int], None]) -> None:
        for start in range(0, len(self.items), bulk.BATCH):
            chunk = self.items[start : start + bulk.BATCH]
            try:
                self.create([payload for _, payload in chunk])
            except bulk.RowError as exc:
                raise _WriteRefused(self.table, chunk[exc.index][0], exc) from exc
            except DomainError as exc:
                raise _WriteRefused(self.table, None, exc) from exc
            progress(len(chunk))


# Model fields checked with clean_fields, by table: column -> model field.
_CLEAN: dict[str, tuple[type[models.Model], tuple[str, ...]]] = {
    "categories": (Category, ("name", "description", "position")),
    "services": (
        Service,
        (
            "code",
            "name",
            "summary",
            "description",
            "outcome",
            "rationale_note",
            "provider_name",
            "hours",
            "price",
            "currency",
            "price_unit",
        ),
    ),
    "levels": (
        PART_MODELS["levels"][0],
        ("name", "position", "description", "effort_hours", "price"),
    ),
    "symptoms": (PART_MODELS["symptoms"][0], ("weight",)),
    "suppliers": (Supplier, ("name", "position")),
    "inputs": (PART_MODELS["inputs"][0], ("name", "quality_criteria", "position")),
    "steps": (PART_MODELS["steps"][0], ("position", "name", "description", "performer")),
    "outputs": (ServiceOutput, ("name", "quality_criteria", "position")),
    "customers": (PART_MODELS["customers"][0], ("note",)),
    "competences": (PART_MODELS["competences"][0], ("competence", "fte")),
    "governance": (PART_MODELS["governance"][0], ("item",)),
    "artefacts": (Artefact, ("name", "description", "url")),
    "artefact_uses": (PART_MODELS["artefact_uses"][0], ("note",)),
}


def _fields_to_clean(table: str) -> list[tuple[str, models.Field[Any, Any]]]:
    """The model fields `_CLEAN` names for a table, in the model's order (as
    `Model.clean_fields` checks them)."""
    model, columns = _CLEAN[table]
    return [(f.name, f) for f in model._meta.fields if f.name in columns]


_FIELDS = {table: _fields_to_clean(table) for table in _CLEAN}

# Parts are removed first (inputs before the outputs and suppliers they name), then
# created or updated with inputs last, once every service's suppliers and outputs exist.
REMOVE_ORDER = (
    "inputs",
    "artefact_uses",
    "roles",
    "symptoms",
    "customers",
    "competences",
    "governance",
    "steps",
    "levels",
    "suppliers",
    "outputs",
)
WRITE_ORDER = (
    "levels",
    "roles",
    "symptoms",
    "suppliers",
    "outputs",
    "customers",
    "competences",
    "governance",
    "steps",
    "artefact_uses",
    "inputs",
)
# Parts whose rows are named by other rows: their names must be unique in a service.
_UNIQUE_NAMES = {"suppliers", "outputs"}


def _part_key(table: str, row: Row) -> tuple[str, ...]:
    """The natural key of a part within its service (an occurrence counter is added for
    parts whose names may repeat)."""
    if table == "roles":
        return (row["role"], _low(row["person_email"]), _low(row["pmo"]))
    if table == "symptoms":
        return (_low(row["statement"]),)
    if table == "customers":
        return (_low(row["customer_group"]),)
    if table == "artefact_uses":
        return (
            _low(row["artefact"]),
            row["artefact_owner_service"].strip().upper(),
            _low(row["artefact_owner_pmo"]),
        )
    name = {"competences": "competence", "governance": "item"}.get(table, "name")
    return (_low(row[name]),)


def _artefact_key(name: str, owner_service: str, owner_pmo: str) -> tuple[str, str, str]:
    return (_low(name), owner_service.strip().upper(), _low(owner_pmo))


def _differs(wanted: Row, existing: Row) -> bool:
    for column, value in wanted.items():
        if column in ("service", "stage"):
            continue
        if column == "position" and value is None:
            continue  # no position given: keep the stored one
        if existing.get(column) != value:
            return True
    return False


class _Plan:
    """Everything checked before anything is written, and the writes to make."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        org = actor.organisation
        self.problems: list[Problem] = []
        self.report = Report()
        self.rows: dict[str, list[tuple[int, Row]]] = {t: [] for t in HEADERS}
        live = {"organisation": org, "archived_at__isnull": True}
        self.people = {_low(p.email): p for p in Person.objects.filter(**live)}
        self.pmos = {_low(p.name): p for p in PMO.objects.filter(**live)}
        self.groups = {_low(g.name): g for g in CustomerGroup.objects.filter(**live)}
        self.categories = {_low(c.name): c for c in Category.objects.filter(**live)}
        self.services: dict[str, Service] = {
            s.code.upper(): s
            for s in Service.objects.filter(**live)
            .select_related("category", "replaces")
            .prefetch_related("delivering_pmos")
        }
        self.outputs: dict[tuple[str, str], ServiceOutput] = {
            (o.service.code.upper(), _low(o.name)): o
            for o in ServiceOutput.objects.filter(**live, service__archived_at__isnull=True)
            .select_related("service")
            .order_by("-id")  # the oldest wins when names repeat
        }
        self.suppliers: dict[tuple[str, str], Supplier] = {}
        self.artefacts: dict[tuple[str, str, str], Artefact] = {
            _artefact_key(
                a.name,
                a.owner_service.code if a.owner_service else "",
                a.owner_pmo.name if a.owner_pmo else "",
            ): a
            for a in Artefact.objects.filter(**live)
            .select_related("owner_service", "owner_pmo")
            .order_by("-id")
        }
        self.ops: list[_Op | _Batch] = []
        self.file_artefacts: set[tuple[str, str, str]] = set()
        # (service code, name) of the suppliers and outputs in the file, which inputs name.
        self.file_names: dict[str, set[tuple[str, str]]] = {}
        # Live symptoms by statement, read when the first symptom link is written.
        self.symptoms: dict[str, Symptom] | None = None

    # -- problems

    def error(self, table: str, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(table, row, column, message))

    # -- the writes

    def _create(
        self, table: str, number: int, payload: Any, create: Callable[[list[Any]], None]
    ) -> None:
        """Plan a new row: with the new rows of the same table just before it, it is
        written in one batch (keeping the plan's order, which defaults such as positions
        depend on)."""
        last = self.ops[-1] if self.ops else None
        if not (isinstance(last, _Batch) and last.table == table):
            last = _Batch(table, create)
            self.ops.append(last)
        last.items.append((number, payload))

    # -- reading into canonical rows

    def add(self, table: str, number: int, raw: dict[str, Any]) -> None:
        row: Row = {}
        ok = True
        for column in TABLES[table]:
            try:
                row[column.name] = convert(column, raw.get(column.name))
            except CellError as exc:
                self.error(table, number, column.name, str(exc))
                ok = False
        if ok and self._clean(table, number, row):
            self.rows[table].append((number, row))

    def _clean(self, table: str, number: int, row: Row) -> bool:
        """`Model.clean_fields` over the table's columns, without building an instance:
        each field's own checks (length, format, range, choices), blank cells skipped."""
        ok = True
        for name, model_field in _FIELDS.get(table, ()):
            value = row[name]
            if value is None and name == "position":
                continue  # not given: the model's default applies
            if model_field.blank and value in model_field.empty_values:
                continue
            try:
                model_field.clean(value, None)
            except ValidationError as exc:
                self.error(table, number, name, " ".join(exc.messages))
                ok = False
        return ok

    # -- references

    def _ref(
        self, lookup: dict[str, Any], value: str, table: str, number: int, column: str, what: str
    ) -> bool:
        if not value.strip() or _low(value) in lookup:
            return True
        self.error(table, number, column, f"No {what} {value!r} in this organisation.")
        return False

    # -- the plan

    def build(self) -> None:
        file_categories = self._categories()
        file_services = self._services(file_categories)
        self._artefacts(file_services)
        self._parts(file_services)

    def _categories(self) -> set[str]:
        seen: set[str] = set()
        for number, row in self.rows["categories"]:
            key = _low(row["name"])
            if key in seen:
                self.error("categories", number, "name", f"Duplicate category {row['name']!r}.")
                continue
            seen.add(key)
            existing = self.categories.get(key)
            if existing is None:
                self.report.created["categories"].append(row["name"])
                self._create("categories", number, row, self._categories_create)
            elif _differs(
                row,
                {
                    "name": existing.name,
                    "description": existing.description,
                    "position": existing.position,
                },
            ):
                self.report.changed["categories"].append(row["name"])
                self.ops.append(_Op("categories", number, self._category_update(existing, row)))
        return seen

    def _categories_create(self, rows: list[Row]) -> None:
        created = bulk.categories_create_many(
            actor=self.actor,
            rows=[
                {"name": r["name"], "description": r["description"], "position": r["position"]}
                for r in rows
            ],
        )
        for category in created:
            self.categories[_low(category.name)] = category

    def _category_update(self, category: Category, row: Row) -> Callable[[], Any]:
        data = {"name": row["name"], "description": row["description"]}
        if row["position"] is not None:
            data["position"] = row["position"]
        return lambda: catalogue.category_update(actor=self.actor, category=category, data=data)

    def _services(self, file_categories: set[str]) -> dict[str, Row]:
        table = "services"
        found: dict[str, Row] = {}
        numbers: dict[str, int] = {}
        for number, row in self.rows[table]:
            code = row["code"].upper()
            if code in found:
                self.error(table, number, "code", f"Duplicate service code {row['code']!r}.")
                continue
            found[code] = row
            numbers[code] = number
        for code, row in found.items():
            number = numbers[code]
            ok = True
            category = _low(row["category"])
            if category not in file_categories and category not in self.categories:
                self.error(table, number, "category", f"No category {row['category']!r}.")
                ok = False
            for name in row["delivering_pmos"]:
                ok &= self._ref(self.pmos, name, table, number, "delivering_pmos", "PMO")
            replaces = row["replaces"].strip().upper()
            if replaces and replaces == code:
                self.error(table, number, "replaces", "A service cannot replace itself.")
                ok = False
            elif replaces and replaces not in found and replaces not in self.services:
                self.error(table, number, "replaces", f"No service {row['replaces']!r}.")
                ok = False
            ok &= self._service_rules(number, row)
            if not ok:
                continue
            existing = self.services.get(code)
            if existing is None:
                self.report.created[table].append(row["code"])
                self._create(table, number, row, self._services_create)
            elif _differs(row, service_row(existing)):
                self.report.changed[table].append(row["code"])
                self.ops.append(_Op(table, number, self._service_update(existing, row)))
        # Links between services come once they all exist.
        for code, row in found.items():
            existing = self.services.get(code)
            before = existing.replaces.code.upper() if existing and existing.replaces else ""
            if row["replaces"].strip().upper() != before:
                self.ops.append(_Op(table, numbers[code], self._service_replaces(code, row)))
        return found

    def _service_rules(self, number: int, row: Row) -> bool:
        """The rules of services.py, checked here so every row's problems are listed."""
        problems = []
        if row["price"] is not None and not row["currency"]:
            problems.append(("currency", "A price needs a currency."))
        if row["pricing_basis"] == "free" and row["price"]:
            problems.append(("price", "A free service has no price."))
        if row["pricing_basis"] != "free" and row["price"] is None:
            problems.append(("price", "Give the price for this pricing basis."))
        if row["delivery_mode"] != "in_house" and not row["provider_name"]:
            problems.append(
                ("provider_name", "Name the provider when the service is not delivered in-house.")
            )
        if row["is_temporary"] and row["end_date"] is None:
            problems.append(("end_date", "A temporary service needs an end date."))
        for column, message in problems:
            self.error("services", number, column, message)
        return not problems

    def _service_data(self, row: Row) -> dict[str, Any]:
        data = {k: row[k] for k in catalogue.SERVICE_FIELDS if k not in ("category", "replaces")}
        data["category"] = self.categories[_low(row["category"])]
        data["delivering_pmos"] = [self.pmos[_low(n)] for n in row["delivering_pmos"]]
        return data

    def _services_create(self, rows: list[Row]) -> None:
        created = bulk.services_create_many(
            actor=self.actor, rows=[self._service_data(r) for r in rows]
        )
        for service in created:
            self.services[service.code.upper()] = service

    def _service_update(self, service: Service, row: Row) -> Callable[[], Any]:
        def run() -> None:
            catalogue.service_update(
                actor=self.actor, service=service, data=self._service_data(row)
            )

        return run

    def _service_replaces(self, code: str, row: Row) -> Callable[[], Any]:
        def run() -> None:
            target = row["replaces"].strip().upper()
            catalogue.service_update(
                actor=self.actor,
                service=self.services[code],
                data={"replaces": self.services[target] if target else None},
            )

        return run

    # -- artefacts

    def _artefacts(self, file_services: dict[str, Row]) -> None:
        table = "artefacts"
        seen: set[tuple[str, str, str]] = set()
        for number, row in self.rows[table]:
            key = _artefact_key(row["name"], row["owner_service"], row["owner_pmo"])
            if key in seen:
                self.error(
                    table, number, "name", f"Duplicate artefact {row['name']!r} for this owner."
                )
                continue
            seen.add(key)
            owner = key[1]
            if not owner and not key[2]:
                self.error(
                    table, number, "owner_service", "An artefact belongs to a service or a PMO."
                )
                continue
            if owner and owner not in file_services and owner not in self.services:
                self.error(table, number, "owner_service", f"No service {row['owner_service']!r}.")
                continue
            if not self._ref(self.pmos, row["owner_pmo"], table, number, "owner_pmo", "PMO"):
                continue
            existing = self.artefacts.get(key)
            label = row["name"]
            if existing is None:
                self.report.created[table].append(label)
                self._create(table, number, (key, row), self._artefacts_create)
            elif _differs(row, artefact_row(existing)):
                self.report.changed[table].append(label)
                data = {k: row[k] for k in ("kind", "description", "url")}
                self.ops.append(
                    _Op(
                        table,
                        number,
                        partial(
                            catalogue.artefact_update,
                            actor=self.actor,
                            artefact=existing,
                            data=data,
                        ),
                    )
                )
        self.file_artefacts = seen

    def _artefacts_create(self, items: list[tuple[tuple[str, str, str], Row]]) -> None:
        created = bulk.artefacts_create_many(
            actor=self.actor,
            rows=[
                {
                    "name": row["name"],
                    "kind": row["kind"],
                    "description": row["description"],
                    "url": row["url"],
                    "owner_service": self.services[key[1]] if key[1] else None,
                    "owner_pmo": self.pmos[key[2]] if key[2] else None,
                }
                for key, row in items
            ],
        )
        for (key, _), artefact in zip(items, created, strict=True):
            self.artefacts[key] = artefact

    # -- parts

    def _parts(self, file_services: dict[str, Row]) -> None:
        # Names inputs refer to, per service: a set, so each check is one look-up.
        self.file_names = {
            table: {(r["service"].strip().upper(), _low(r["name"])) for _, r in self.rows[table]}
            for table in ("suppliers", "outputs")
        }
        # Rows of each part by service, checked, keyed.
        wanted: dict[str, dict[str, dict[tuple[str, ...], tuple[int, Row]]]] = {}
        for table in PART_MODELS:
            wanted[table] = defaultdict(dict)
            occurrences: Counter[tuple[str, tuple[str, ...]]] = Counter()
            for number, row in self.rows[table]:
                code = row["service"].strip().upper()
                if code not in file_services:
                    self.error(
                        table,
                        number,
                        "service",
                        f"No service {row['service']!r} in the services table.",
                    )
                    continue
                key = _part_key(table, row)
                occurrences[(code, key)] += 1
                if occurrences[(code, key)] > 1:
                    if table in _UNIQUE_NAMES or table in (
                        "roles",
                        "symptoms",
                        "customers",
                        "artefact_uses",
                        "levels",
                    ):
                        self.error(
                            table,
                            number,
                            HEADERS[table][1],
                            f"Duplicate row for service {row['service']!r}.",
                        )
                        continue
                    key = (*key, str(occurrences[(code, key)]))
                if self._check_part(table, number, code, row, file_services):
                    wanted[table][code][key] = (number, row)
        self._owners(wanted["roles"])
        # Existing live parts of the services in the file, keyed the same way.
        existing: dict[str, dict[str, dict[tuple[str, ...], Any]]] = {}
        codes = [c for c in file_services if c in self.services]
        for table in PART_MODELS:
            existing[table] = defaultdict(dict)
            occurrences = Counter()
            # All the organisation's parts, skipping other services' ones: a filter on
            # thousands of services would pass SQLite's limit of query parameters.
            qs = part_queryset(table, self.actor.organisation)
            for part in qs.iterator(chunk_size=2000):
                code = part.service.code.upper()
                if code not in file_services:
                    continue
                row = part_row(table, part)
                key = _part_key(table, row)
                occurrences[(code, key)] += 1
                if occurrences[(code, key)] > 1:
                    key = (*key, str(occurrences[(code, key)]))
                existing[table][code][key] = part
                if table == "suppliers":
                    self.suppliers.setdefault((code, _low(part.name)), part)
        if self.problems:
            return
        for table in REMOVE_ORDER:
            for code in codes:
                for key, part in existing[table][code].items():
                    if key not in wanted[table][code]:
                        self.report.removed[table].append(f"{code}: {part}")
                        self.ops.append(
                            _Op(
                                table,
                                None,
                                partial(catalogue.part_archive, actor=self.actor, part=part),
                            )
                        )
        for table in WRITE_ORDER:
            for code, rows in wanted[table].items():
                for key, (number, row) in rows.items():
                    part = existing[table][code].get(key)
                    label = f"{row['service']}: {' '.join(k for k in key if k)}"
                    if part is None:
                        self.report.created[table].append(label)
                        self._create(table, number, (code, row), partial(self._parts_create, table))
                    elif _differs(row, part_row(table, part)):
                        self.report.changed[table].append(label)
                        self.ops.append(_Op(table, number, self._part_update(table, part, row)))

    def _owners(self, roles: dict[str, dict[tuple[str, ...], tuple[int, Row]]]) -> None:
        for rows in roles.values():
            owners = [n for n, r in rows.values() if r["role"] == ServiceRoleKind.OWNER]
            for number in owners[1:]:
                self.error("roles", number, "role", "The service already has an Owner.")

    def _check_part(
        self, table: str, number: int, code: str, row: Row, file_services: dict[str, Row]
    ) -> bool:
        ok = True
        if "person_email" in row:
            ok &= self._ref(
                self.people,
                row["person_email"],
                table,
                number,
                "person_email",
                "person with e-mail",
            )
        if "customer_group" in row:
            ok &= self._ref(
                self.groups,
                row["customer_group"],
                table,
                number,
                "customer_group",
                "customer group",
            )
        for name in row.get("customers") or []:
            ok &= self._ref(self.groups, name, table, number, "customers", "customer group")
        if table == "roles":
            ok &= self._ref(self.pmos, row["pmo"], table, number, "pmo", "PMO")
            pmo = _low(row["pmo"])
            delivering = {_low(n) for n in file_services[code]["delivering_pmos"]}
            if row["role"] == ServiceRoleKind.MANAGER:
                if not pmo:
                    self.error(
                        table, number, "pmo", "Choose the PMO this Service Manager manages it for."
                    )
                    ok = False
                elif pmo not in delivering:
                    self.error(table, number, "pmo", "This PMO does not deliver the service.")
                    ok = False
            elif pmo and row["role"] == ServiceRoleKind.OWNER:
                self.error(table, number, "pmo", "Only a Service Manager is tied to a PMO.")
                ok = False
        if table == "inputs":
            ok &= self._check_input(number, code, row, file_services)
        if table == "artefact_uses":
            key = _artefact_key(
                row["artefact"], row["artefact_owner_service"], row["artefact_owner_pmo"]
            )
            if key not in self.file_artefacts and key not in self.artefacts:
                self.error(
                    table, number, "artefact", f"No artefact {row['artefact']!r} with this owner."
                )
                ok = False
        return ok

    def _check_input(self, number: int, code: str, row: Row, file_services: dict[str, Row]) -> bool:
        table = "inputs"
        ok = True
        supplier = _low(row["supplier"])
        if supplier and (code, supplier) not in self.file_names["suppliers"]:
            self.error(
                table, number, "supplier", f"No supplier {row['supplier']!r} in this service."
            )
            ok = False
        source, output = row["source_service"].strip().upper(), _low(row["source_output"])
        if bool(source) != bool(output):
            column = "source_output" if source else "source_service"
            self.error(table, number, column, "Give both the source service and its output.")
            return False
        if not source:
            return ok
        if source == code:
            self.error(
                table,
                number,
                "source_output",
                "An input cannot come from an output of its own service.",
            )
            return False
        if source in file_services:
            known = (source, output) in self.file_names["outputs"]
        elif source in self.services:
            known = (source, output) in self.outputs
        else:
            self.error(
                table,
                number,
                "source_service",
                f"No service {row['source_service']!r} in this organisation.",
            )
            return False
        if not known:
            self.error(
                table,
                number,
                "source_output",
                f"Service {row['source_service']!r} has no output {row['source_output']!r}.",
            )
            ok = False
        return ok

    def _part_data(self, table: str, code: str, row: Row, *, new: bool = False) -> dict[str, Any]:
        """The arguments of part_create (`new`) / part_update: natural keys resolved to
        rows."""
        skip = {
            "service",
            "person_email",
            "customer_group",
            "customers",
            "supplier",
            "source_service",
            "source_output",
            "statement",
            "artefact",
            "artefact_owner_service",
            "artefact_owner_pmo",
        }
        data = {
            k: v for k, v in row.items() if k not in skip and not (k == "position" and v is None)
        }
        if table == "roles":
            data["person"] = self.people[_low(row["person_email"])]
            data["pmo"] = self.pmos[_low(row["pmo"])] if row["pmo"].strip() else None
        elif table == "symptoms" and new and self.symptoms is not None:
            # Found or made by _symptoms_for. A link that is updated keeps its symptom:
            # the statement is its key.
            data["symptom"] = self.symptoms[_low(row["statement"])]
        elif table == "suppliers":
            email, group = _low(row["person_email"]), _low(row["customer_group"])
            data["person"] = self.people[email] if email else None
            data["customer_group"] = self.groups[group] if group else None
        elif table == "inputs":
            supplier = _low(row["supplier"])
            data["supplier"] = self.suppliers[(code, supplier)] if supplier else None
            source = row["source_service"].strip().upper()
            data["source_output"] = (
                self.outputs[(source, _low(row["source_output"]))] if source else None
            )
        elif table == "outputs":
            data["customers"] = [self.groups[_low(n)] for n in row["customers"]]
        elif table == "customers":
            data["customer_group"] = self.groups[_low(row["customer_group"])]
        elif table == "artefact_uses":
            data["artefact"] = self.artefacts[
                _artefact_key(
                    row["artefact"], row["artefact_owner_service"], row["artefact_owner_pmo"]
                )
            ]
        return data

    def _remember(self, table: str, code: str, part: Any) -> None:
        if table == "outputs":
            self.outputs[(code, _low(part.name))] = part
        elif table == "suppliers":
            self.suppliers[(code, _low(part.name))] = part

    def _parts_create(self, table: str, items: list[tuple[str, Row]]) -> None:
        if table == "symptoms":
            self._symptoms_for([row["statement"] for _, row in items])
        created = bulk.parts_create_many(
            actor=self.actor,
            kind=PART_KINDS[table],
            rows=[
                (self.services[code], self._part_data(table, code, row, new=True))
                for code, row in items
            ],
        )
        for (code, _), part in zip(items, created, strict=True):
            self._remember(table, code, part)

    def _symptoms_for(self, statements: list[str]) -> None:
        """Find (or create, in one batch) the symptoms new links name: what
        `symptom_get_or_create` does for each link, with two queries for them all."""
        if self.symptoms is None:
            self.symptoms = {
                _low(s.statement): s
                for s in Symptom.objects.filter(
                    organisation=self.actor.organisation, archived_at__isnull=True
                )
            }
        missing = list(dict.fromkeys(_low(s) for s in statements if _low(s) not in self.symptoms))
        if not missing:
            return
        first: dict[str, str] = {}
        for s in statements:
            first.setdefault(_low(s), s)
        for symptom in bulk.symptoms_create_many(
            actor=self.actor, statements=[first[key] for key in missing]
        ):
            self.symptoms[_low(symptom.statement)] = symptom

    def _part_update(self, table: str, part: Any, row: Row) -> Callable[[], Any]:
        def run() -> None:
            code = part.service.code.upper()
            data = self._part_data(table, code, row)
            catalogue.part_update(actor=self.actor, part=part, data=data)
            self._remember(table, code, part)

        return run


# ---------------------------------------------------------------- the entry point


def _column_of(table: str, exc: DomainError) -> str | None:
    for name in exc.errors:
        if name in HEADERS.get(table, ()):
            return name
    aliases = {"person": "person_email", "symptom": "statement", "source_output": "source_output"}
    for name in exc.errors:
        if name in aliases:
            return aliases[name]
    return None


def import_catalogue(
    actor: Actor,
    source: IO[bytes] | str | Path,
    *,
    name: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
) -> Report:
    """Check the file and, when nothing is wrong and it is not a dry run, write it all.

    `source` is a path or a binary file opened for reading; `name` (the file's name)
    tells the format when `source` is a file object. `progress(done, total)` is called
    as rows are written (with total 0, every 500 rows, while the file is read).
    Raises DomainError (forbidden) when the actor may not add services.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            return import_catalogue(
                actor,
                handle,
                name=name or str(source),
                dry_run=dry_run,
                progress=progress,
                max_bytes=max_bytes,
            )
    require(actor, ADD, Service)
    with gc_paused():
        return _import(actor, source, name, dry_run, progress, max_bytes)


def _import(
    actor: Actor,
    source: IO[bytes],
    name: str | None,
    dry_run: bool,
    progress: Progress | None,
    max_bytes: int,
) -> Report:
    plan = _Plan(actor)
    plan.report.dry_run = dry_run
    sink = _Sink(plan.problems)
    try:
        for count, (table, number, raw) in enumerate(
            read(source, name or str(getattr(source, "name", "")), sink, max_bytes=max_bytes),
            start=1,
        ):
            plan.add(table, number, raw)
            if progress is not None and count % 500 == 0:
                progress(count, 0)
    except _Refused as exc:
        plan.report.errors = [exc.problem]
        return plan.report
    sink.missing()
    if not plan.problems:
        plan.build()
    report = plan.report
    if plan.problems:
        report.errors = plan.problems
        return report
    if dry_run:
        return report
    total = sum(op.size for op in plan.ops)
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, total)

    try:
        with transaction.atomic():
            for op in plan.ops:
                op.apply(advance)
    except _WriteRefused as exc:
        report.errors = [
            Problem(exc.table, exc.row, _column_of(exc.table, exc.error), exc.error.message)
        ]
        return report
    report.applied = True
    _refresh_statistics()
    return report


def _refresh_statistics() -> None:
    """After a large write, let PostgreSQL's planner see the new rows at once: until
    autovacuum gets round to it, searches over fresh tables run ten times slower."""
    if connection.vendor != "postgresql":
        return
    models_: list[type[models.Model]] = [Service, *catalogue.PARTS.values()]
    tables = {model._meta.db_table for model in models_}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")  # names from metadata


__all__ = ["MAX_BYTES", "Problem", "Report", "import_catalogue"]
