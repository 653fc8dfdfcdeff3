"""Importing people's capacity from one .xlsx workbook: their assessed competences, their
contracts and the months these do not hold, and their allocations; all or nothing, with
a report of every problem by sheet, row and column.

The workbook has one sheet per kind, each optional, named (whatever the case):
- "Assessments": person, competence, level, assessed on, assessed by, evidence;
- "Availability": person, contracted FTE, from, until;
- "Exceptions": person, reason, from month, to month, FTE available, note;
- "Allocations": person, service, work, kind, competence, FTE, from month, to month, note.
Each sheet has a header row naming its columns (in any order, whatever the case; the
first three of each list, FTE, and the months are required). Rows are numbered as a
spreadsheet shows them.

People are named by e-mail, as the catalogue's files name them (a cell without "@" is
taken as a person's name, accepted when exactly one person of the organisation has
it); "assessed by" is a person too. A competence is named by its name, a service by its
code (empty for other work), a level by its number (1 to 5) or its name ("Expert"), a
reason and a kind by their label ("Leave", "Business as usual") or code. Months are
"YYYY-MM" text or a date cell (any day of the month); "assessed on", "from" and "until"
are dates (a date cell or "YYYY-MM-DD"). A person, competence or service of another
organisation is not found: a problem of its row.

How it is all or nothing: every row goes through the one write path (the services
`assessment_create`, `availability_set`, `exception_create`, `allocation_create`, with
their own checks, each in its own savepoint) inside one transaction, so a row sees the
rows before it (a duplicate assessment within the file is refused as one in the
database would be); any problem, or a dry run, rolls the whole transaction back.
Sheets are written in the order above.

The file is read by `core.tabular`, with the same refusals as every import (a damaged
or hostile file, a formula, a value outside the columns, a wrong header).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction

from carte.capacity import services
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.catalogue.models import Service
from carte.core import tabular
from carte.core.errors import DomainError
from carte.core.permissions import ADD, ActorLike, require
from carte.core.tabular.cells import unneutralise
from carte.organisations.choices import CompetenceLevel
from carte.organisations.models import Competence, Person

MAX_BYTES = 10 * 1024 * 1024
MAX_SHOWN = 200  # problems kept in the report (all are counted)

# The sheets, in the order they are written: their columns (required first) and, for
# each field a service may refuse, the column it came from.
ASSESSMENTS, AVAILABILITY, EXCEPTIONS, ALLOCATIONS = (
    "Assessments",
    "Availability",
    "Exceptions",
    "Allocations",
)


@dataclass(frozen=True)
class SheetSpec:
    title: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    fields: dict[str, str]  # a service's field -> the column

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


SHEETS = (
    SheetSpec(
        ASSESSMENTS,
        ("person", "competence", "level"),
        ("assessed on", "assessed by", "evidence"),
        {
            "person": "person",
            "competence": "competence",
            "level": "level",
            "assessed_on": "assessed on",
            "assessed_by": "assessed by",
            "evidence": "evidence",
        },
    ),
    SheetSpec(
        AVAILABILITY,
        ("person", "contracted fte"),
        ("from", "until"),
        {
            "person": "person",
            "contracted_fte": "contracted fte",
            "starts_on": "from",
            "leaves_on": "until",
        },
    ),
    SheetSpec(
        EXCEPTIONS,
        ("person", "reason", "from month", "to month", "fte available"),
        ("note",),
        {
            "person": "person",
            "reason": "reason",
            "starts_on": "from month",
            "ends_on": "to month",
            "available_fte": "fte available",
            "note": "note",
        },
    ),
    SheetSpec(
        ALLOCATIONS,
        ("person", "fte", "from month", "to month"),
        ("service", "work", "kind", "competence", "note"),
        {
            "person": "person",
            "service": "service",
            "work": "work",
            "kind": "kind",
            "competence": "competence",
            "fte": "fte",
            "starts_on": "from month",
            "ends_on": "to month",
            "note": "note",
        },
    ),
)
SPECS = {spec.title.lower(): spec for spec in SHEETS}
# How a column is shown in the report: as the header names it.
SHOWN_COLUMN = {"contracted fte": "contracted FTE", "fte available": "FTE available", "fte": "FTE"}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: the sheet ("" for the whole file), the row (None for the
    whole sheet) and the column ("" for the whole row)."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = [part for part in (self.sheet, f"row {self.row}" if self.row else "") if part]
        if self.column:
            where.append(SHOWN_COLUMN.get(self.column, self.column))
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ImportReport:
    """How an import went: the rows read and written per sheet, and the problems (none:
    it was written, unless a dry run)."""

    dry_run: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    total_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.total_problems

    def add(self, problem: Problem) -> None:
        self.total_problems += 1
        if len(self.problems) < MAX_SHOWN:
            self.problems.append(problem)

    def data(self) -> dict[str, Any]:
        """The report as JSON, as an import's job keeps it."""
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "written": self.written,
            "total_problems": self.total_problems,
            "problems": [
                {
                    "sheet": p.sheet,
                    "row": p.row,
                    "column": SHOWN_COLUMN.get(p.column, p.column),
                    "message": p.message,
                }
                for p in self.problems
            ],
        }


@dataclass
class _Row:
    sheet: SheetSpec
    number: int
    cells: dict[str, Any]

    def text(self, column: str) -> str:
        return _text(self.cells.get(column))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return unneutralise(value.strip())
    return str(value).strip()


def _normal(name: str) -> str:
    return " ".join(name.lower().split())


# ---------------------------------------------------------------- reading


def read_rows(source: IO[bytes], report: ImportReport) -> list[_Row]:
    """The data rows of every sheet, in writing order; the file's, sheets' and rows'
    reading problems go to `report` (`tabular.Unreadable` for a file not readable)."""
    tabular.check_size(source, MAX_BYTES)
    found: dict[str, list[_Row]] = {}
    with tabular.open_workbook(source, MAX_BYTES) as book:
        for sheet in book.sheets:
            spec = SPECS.get(_normal(sheet.title))
            if spec is None:
                report.add(
                    Problem(
                        sheet.title,
                        None,
                        "",
                        "Unknown sheet: name the sheets "
                        + ", ".join(s.title for s in SHEETS)
                        + ".",
                    )
                )
                continue
            if spec.title in found:
                report.add(Problem(spec.title, None, "", "This sheet appears twice."))
                continue
            found[spec.title] = _sheet_rows(book, sheet, spec, report)
    if not found and not report.total_problems:
        report.add(
            Problem(
                "",
                None,
                "",
                "The workbook has none of the sheets " + ", ".join(s.title for s in SHEETS) + ".",
            )
        )
    rows: list[_Row] = []
    for spec in SHEETS:
        if spec.title in found:
            report.rows[spec.title] = len(found[spec.title])
            rows.extend(found[spec.title])
    return rows


def _sheet_rows(
    book: tabular.Workbook, sheet: tabular.Sheet, spec: SheetSpec, report: ImportReport
) -> list[_Row]:
    header: list[str] | None = None
    rows: list[_Row] = []
    for row in tabular.sheet_rows(book, sheet):
        values = row.values
        if header is None:
            if not any(v not in (None, "") for v in values) and row.outside is None:
                continue
            header = [_normal(name) for name in tabular.header_of(values)]
            wrong = tabular.header_problems(header, spec.required, optional=spec.optional)
            for column, message in wrong:
                report.add(Problem(spec.title, row.number, column, message))
            if wrong:
                return []
            continue
        width = len(header)
        if row.formulas:
            first = row.formulas[0]
            column = header[first] if first < width else tabular.column_letters(first)
            report.add(Problem(spec.title, row.number, column, tabular.FORMULA))
            continue
        if tabular.outside(row, width):
            report.add(Problem(spec.title, row.number, "", tabular.OUTSIDE))
            continue
        if all(v is None or v == "" for v in values):
            continue  # blank lines are not rows
        cells = {name: values[i] if i < len(values) else None for i, name in enumerate(header)}
        rows.append(_Row(spec, row.number, cells))
    if header is None:
        report.add(Problem(spec.title, None, "", "The sheet is empty: it needs a header row."))
    return rows


# ---------------------------------------------------------------- resolving names


def _better(new: Any, held: Any) -> bool:
    """Whether `new` should stand for a name rather than `held`: a live row wins over an
    archived one (which is kept only so that its service says why it refuses it)."""
    return held is None or (held.archived_at is not None and new.archived_at is None)


class _Names:
    """The organisation's people, competences and services by how a file names them,
    read once (archived ones too, so the services say why they refuse them)."""

    def __init__(self, actor: ActorLike) -> None:
        org = actor.organisation.pk
        self.by_email: dict[str, Person] = {}
        self.by_name: dict[str, list[Person]] = {}
        for person in Person.objects.filter(organisation_id=org).order_by("pk"):
            key = person.email.lower()
            if _better(person, self.by_email.get(key)):
                self.by_email[key] = person
            self.by_name.setdefault(_normal(person.name), []).append(person)
        self.competences: dict[str, Competence] = {}
        for competence in Competence.objects.filter(organisation_id=org).order_by("pk"):
            if _better(competence, self.competences.get(_normal(competence.name))):
                self.competences[_normal(competence.name)] = competence
        self.services: dict[str, Service] = {}
        for service in Service.objects.filter(organisation_id=org).order_by("pk"):
            if _better(service, self.services.get(service.code.upper())):
                self.services[service.code.upper()] = service

    def person(self, text: str, column: str) -> Person:
        if "@" in text:
            found = self.by_email.get(text.lower())
            if found is None:
                raise DomainError.field(column, f"No person {text!r} in this organisation.")
            return found
        named = [p for p in self.by_name.get(_normal(text), []) if p.archived_at is None]
        named = named or self.by_name.get(_normal(text), [])
        if not named:
            raise DomainError.field(column, f"No person {text!r} in this organisation.")
        if len(named) > 1:
            raise DomainError.field(
                column, f"{len(named)} people are named {text!r}: give the e-mail."
            )
        return named[0]

    def competence(self, text: str, column: str = "competence") -> Competence:
        found = self.competences.get(_normal(text))
        if found is None:
            raise DomainError.field(column, f"No competence {text!r} in the framework.")
        return found

    def service(self, text: str) -> Service:
        found = self.services.get(text.upper())
        if found is None:
            raise DomainError.field("service", f"No service {text!r} in this organisation.")
        return found


def _choice(text: str, choices: list[tuple[str, str]]) -> str:
    """A choice's code from its label or its code, whatever the case; else the text as
    given, for the service to refuse with its own message."""
    wanted = _normal(text)
    for value, label in choices:
        if wanted in (_normal(value), _normal(str(label))):
            return value
    return text


def _level(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    for number, label in CompetenceLevel.choices:
        if _normal(text) in (str(number), _normal(str(label))):
            return number
    return text


def _day(value: Any) -> Any:
    """A date cell as a date; text as given (the service reads ISO dates and months)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return _text(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return _text(value)
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return _text(value)


# ---------------------------------------------------------------- writing


def _write(actor: ActorLike, names: _Names, row: _Row, contracts: dict[int, int]) -> None:
    """Write one row through its service; a `DomainError` names what is wrong."""
    title = row.sheet.title
    person = names.person(row.text("person"), "person") if row.text("person") else None
    if person is None:
        raise DomainError.field("person", "Name the person (their e-mail).")
    if title == ASSESSMENTS:
        data: dict[str, Any] = {
            "competence": names.competence(row.text("competence"))
            if row.text("competence")
            else None,
            "level": _level(row.cells.get("level")),
        }
        if row.text("assessed on"):
            data["assessed_on"] = _day(row.cells.get("assessed on"))
        if row.text("assessed by"):
            data["assessed_by"] = names.person(row.text("assessed by"), "assessed_by")
        if "evidence" in row.cells:
            data["evidence"] = row.text("evidence")
        services.assessment_create(actor=actor, person=person, data=data)
    elif title == AVAILABILITY:
        earlier = contracts.get(person.pk)
        if earlier is not None:
            raise DomainError.field(
                "person", f"{person.name}'s contract is already given on row {earlier}."
            )
        contracts[person.pk] = row.number
        services.availability_set(
            actor=actor,
            person=person,
            data={
                "contracted_fte": _number(row.cells.get("contracted fte")),
                "starts_on": _day(row.cells.get("from")),
                "leaves_on": _day(row.cells.get("until")),
            },
        )
    elif title == EXCEPTIONS:
        services.exception_create(
            actor=actor,
            person=person,
            data={
                "reason": _choice(row.text("reason"), ExceptionReason.choices),
                "starts_on": _day(row.cells.get("from month")),
                "ends_on": _day(row.cells.get("to month")),
                "available_fte": _number(row.cells.get("fte available")),
                "note": row.text("note"),
            },
        )
    else:
        code = row.text("service")
        kind = row.text("kind")
        services.allocation_create(
            actor=actor,
            data={
                "person": person,
                "service": names.service(code) if code else None,
                "work": row.text("work"),
                "kind": _choice(kind, AllocationKind.choices)
                if kind
                else (AllocationKind.SERVICE if code else ""),
                "competence": names.competence(row.text("competence"))
                if row.text("competence")
                else None,
                "fte": _number(row.cells.get("fte")),
                "starts_on": _day(row.cells.get("from month")),
                "ends_on": _day(row.cells.get("to month")),
                "note": row.text("note"),
            },
        )


def _problems(row: _Row, exc: DomainError) -> list[Problem]:
    """A service's refusal as the row's problems, one per column it names."""
    fields = row.sheet.fields
    found = [
        Problem(row.sheet.title, row.number, fields.get(name, ""), messages[0])
        for name, messages in exc.errors.items()
        if messages
    ]
    return found or [Problem(row.sheet.title, row.number, "", exc.message)]


def import_capacity(
    *,
    actor: ActorLike,
    source: IO[bytes],
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Read the workbook and write every row of it, or none (see the module docstring).
    With `dry_run`, check everything and write nothing. `progress(done, total, doing)`
    hears how far it is."""
    for model in (Assessment, Availability, AvailabilityException, Allocation):
        require(actor, ADD, model)
    report = ImportReport(dry_run=dry_run)
    if not (hasattr(source, "seekable") and source.seekable()):
        source = io.BytesIO(source.read())
    try:
        rows = read_rows(source, report)
    except tabular.Unreadable as exc:
        report.add(Problem("", None, "", exc.message))
        return report
    if not rows:
        if not report.total_problems:
            report.add(Problem("", None, "", "The workbook has no rows to import."))
        return report
    # Rows read well are checked through the services even when others could not be
    # read (a formula, a wrong header), so the report lists every problem at once; any
    # problem rolls everything back.
    names = _Names(actor)
    contracts: dict[int, int] = {}
    written: dict[str, int] = {}
    verb = "Checking" if dry_run else "Checking and recording"
    with transaction.atomic():
        for done, row in enumerate(rows):
            if progress is not None and done % 50 == 0:
                progress(done, len(rows), f"{verb} {len(rows):,} rows")
            try:
                with transaction.atomic():
                    _write(actor, names, row, contracts)
            except DomainError as exc:
                for problem in _problems(row, exc):
                    report.add(problem)
                continue
            written[row.sheet.title] = written.get(row.sheet.title, 0) + 1
        if report.total_problems or dry_run:
            transaction.set_rollback(True)
    if not report.total_problems:
        report.written = written
    if progress is not None:
        ended = "Recorded" if not (dry_run or report.total_problems) else "Checked"
        progress(len(rows), len(rows), ended)
    return report
