"""The competence framework as a file: export and import, as an .xlsx workbook or YAML.

A file holds one row per competence: its name, group, description and what each of the
five levels means for it. The workbook has one sheet with a header row of the titles
people read ("Name", "Group", "Description", "Awareness", "Working knowledge", ...); the
YAML is a list of mappings with the same columns as keys ("name", "group", ...,
"working_knowledge"). A header or key is matched whatever its case, with spaces,
underscores or hyphens alike, and `level_1`..`level_5` (the API's names) are taken too.
Only `name` is required: a column left out is left as it is.

Import is all or nothing: every row is read and checked first (each problem reported on
its row and column, rows numbered as a spreadsheet shows them, the header being row 1;
YAML's from 1 in the order of the list), and nothing is written when any is wrong or on
a dry run. A row whose name is a live competence's (any case, spaces collapsed) updates
it; the others are created; a row that changes nothing writes nothing, so importing an
export gives no change. The writes go through `services.competences_import`, one
transaction of the single-row services.

Files are read by `core.tabular` (the .xlsx reader and its refusals of hostile files);
text neutralised on export (`= + - @`) is restored on import.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import yaml
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone

from carte.core import tabular, text
from carte.core.errors import DomainError
from carte.core.exports import FORMATS as TABLE_FORMATS
from carte.core.exports import workbook_bytes
from carte.core.permissions import ADD, CHANGE, require
from carte.core.tabular.cells import unneutralise
from carte.organisations import selectors, services
from carte.organisations.actor import Actor
from carte.organisations.choices import CompetenceLevel
from carte.organisations.models import Competence

FORMATS = {"xlsx": TABLE_FORMATS["xlsx"], "yaml": "application/yaml"}
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2_000  # a framework has tens of competences; a file of more is a mistake
MAX_REPORTED = 200  # problems listed (all are counted)
TOO_LARGE = tabular.too_large_message(MAX_BYTES)


@dataclass(frozen=True)
class Column:
    """A column of the file: its key in YAML, its title in a workbook, the model field."""

    key: str
    title: str
    field: str


COLUMNS = [
    Column("name", "Name", "name"),
    Column("group", "Group", "group"),
    Column("description", "Description", "description"),
    *(
        Column(label.lower().replace(" ", "_"), label, f"level_{value}")
        for value, label in CompetenceLevel.choices
    ),
]
FIELDS = [c.field for c in COLUMNS]
REQUIRED = "name"


def _folded(name: str) -> str:
    """A header or key as it is matched: any case, spaces, underscores and hyphens alike."""
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


# Every name a column is known by -> its field.
_KNOWN: dict[str, str] = {}
for _column in COLUMNS:
    for _name in (_column.key, _column.title, _column.field):
        _KNOWN[_folded(_name)] = _column.field


# ---------------------------------------------------------------- export


def export_rows(actor: Actor) -> list[dict[str, str]]:
    """The live framework, by group then name: each competence's values by field."""
    return [
        {name: getattr(c, name) for name in FIELDS}
        for c in selectors.competence_list(actor=actor).only("id", *FIELDS)
    ]


def export_bytes(actor: Actor, fmt: str) -> bytes:
    """The framework as a file of format `fmt` (xlsx or yaml)."""
    rows = export_rows(actor)
    if fmt == "xlsx":
        return workbook_bytes(
            "Competences",
            [c.title for c in COLUMNS],
            ([row[c.field] for c in COLUMNS] for row in rows),
        )
    if fmt == "yaml":
        document = [{c.key: row[c.field] for c in COLUMNS} for row in rows]
        return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode()
    raise DomainError.field("format", "Use xlsx or yaml.")


def export_response(actor: Actor, fmt: str) -> HttpResponse:
    """The framework as a download named `<org>-competences-<date>.<ext>`."""
    body = export_bytes(actor, fmt)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    stamp = timezone.localdate().isoformat()
    name = f"{actor.organisation.slug}-competences-{stamp}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: the row (None for the whole file) and the column as the file
    names it ("" when the problem is not one column's)."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.column}: {self.message}" if self.column else where + self.message

    def data(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Report:
    """How an import went, or would go (a dry run): the rows read, the competences
    created, updated and left unchanged (by name), and the problems (none: it was
    written, unless a dry run)."""

    dry_run: bool = False
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    total_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def applied(self) -> bool:
        return self.ok and not self.dry_run

    def refuse(self, *problems: Problem) -> Report:
        self.problems.extend(problems)
        self.total_problems += len(problems)
        return self

    def data(self) -> dict[str, Any]:
        """The report as JSON, as the API answers it."""
        return {
            "dry_run": self.dry_run,
            "applied": self.applied,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }

    def error(self) -> DomainError:
        """The problems as a 422: each on `file` as a line, and `problems`, each with its
        row and column, as an extension member (RFC 9457)."""
        count = self.total_problems
        listed = self.problems[:MAX_REPORTED]
        return DomainError(
            f"{count} problem{'s' if count != 1 else ''} in the file: nothing was written. "
            f"The first: {listed[0]}",
            errors={"file": [str(p) for p in listed]},
            extra={"problems": [p.data() for p in listed], "total_problems": count},
        )


# ---------------------------------------------------------------- reading


class _Refused(Exception):
    """The file as a whole cannot be read (or its header is wrong); nothing of it is
    checked further."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(str(problems[0]))
        self.problems = list(problems)


@dataclass
class _Row:
    """A row as read: its number, its values by field and the column each came from."""

    number: int
    values: dict[str, Any]
    columns: dict[str, str]


def format_of(name: str) -> str:
    lower = name.lower()
    if lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    raise _Refused(Problem(None, "", "Use an .xlsx or a .yaml file."))


def _header(number: int, names: list[str]) -> dict[int, str]:
    """Column index -> field; refuses an unknown column, one given twice, or no name."""
    found: dict[int, str] = {}
    problems: list[Problem] = []
    for index, name in enumerate(names):
        known = _KNOWN.get(_folded(name))
        if known is None:
            problems.append(Problem(number, name or "(empty)", tabular.UNKNOWN_COLUMN))
        elif known in found.values():
            problems.append(Problem(number, name, tabular.COLUMN_TWICE))
        else:
            found[index] = known
    if REQUIRED not in found.values():
        problems.append(Problem(number, "Name", tabular.COLUMN_MISSING))
    if problems:
        raise _Refused(*problems)
    return found


def _xlsx_rows(source: IO[bytes], problems: list[Problem]) -> Iterator[_Row]:
    with tabular.open_workbook(source, MAX_BYTES) as book:
        if not book.sheets:
            raise _Refused(Problem(None, "", "The workbook has no worksheet."))
        index: dict[int, str] | None = None
        names: list[str] = []
        for row in tabular.sheet_rows(book, book.sheets[0]):
            blank = all(v in (None, "") for v in row.values)
            if index is None:
                if blank and row.outside is None and not row.formulas:
                    continue
                names = tabular.header_of(row.values)
                index = _header(row.number, names)
                if row.outside is not None:
                    raise _Refused(Problem(row.number, "", tabular.OUTSIDE))
                continue
            width = len(names)
            if row.formulas:
                first = row.formulas[0]
                column = names[first] if first < width else tabular.column_letters(first)
                problems.append(Problem(row.number, column, tabular.FORMULA))
                continue
            if tabular.outside(row, width):
                problems.append(Problem(row.number, "", tabular.OUTSIDE))
                continue
            if blank:
                continue  # blank lines are not rows
            values: dict[str, Any] = {}
            for i, name in index.items():
                value = row.values[i] if i < len(row.values) else None
                values[name] = unneutralise(value) if isinstance(value, str) else value
            yield _Row(row.number, values, {name: names[i] for i, name in index.items()})
        if index is None:
            raise _Refused(Problem(None, "", "The file is empty: it needs a header row and rows."))


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader refusing aliases (a few bytes standing for a copy of anything,
    however large) and nodes nested deeper than a framework goes (a list of mappings of
    text), as it composes: its composer recurses."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _Refused(
                Problem(None, "", "The file uses YAML aliases (*name): write each value out.")
            )
        self.depth += 1
        try:
            if self.depth > 4:  # the list, a mapping, a value, and a nested one to report
                raise _Refused(Problem(None, "", _NOT_A_FRAMEWORK))
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_NOT_A_FRAMEWORK = (
    "Expected a list of competences, each a mapping of name, group, description and the "
    "five levels to text."
)


def _yaml_rows(source: IO[bytes], problems: list[Problem]) -> Iterator[_Row]:
    try:
        data = yaml.load(source, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        raise _Refused(
            Problem(None, "", "The file is not valid YAML (damaged or truncated).")
        ) from None
    if data is None:
        raise _Refused(Problem(None, "", "The file is empty: it needs a list of competences."))
    if not isinstance(data, list):
        raise _Refused(Problem(None, "", _NOT_A_FRAMEWORK))
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(number, "", "Expected a mapping of names to text."))
            continue
        values: dict[str, Any] = {}
        columns: dict[str, str] = {}
        bad = False
        for key, value in item.items():
            name = str(key)
            known = _KNOWN.get(_folded(name))
            if known is None:
                problems.append(Problem(number, name, tabular.UNKNOWN_COLUMN))
                bad = True
            elif known in values:
                problems.append(Problem(number, name, tabular.COLUMN_TWICE))
                bad = True
            else:
                values[known], columns[known] = value, name
        if REQUIRED not in values:
            problems.append(Problem(number, "name", tabular.COLUMN_MISSING))
            bad = True
        if not bad:
            yield _Row(number, values, columns)


def _cell(value: Any) -> str:
    """A value of the file as text; `ValueError` for what is not text or a number."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        raise ValueError("Expected text: write it as text (in quotes, in YAML).")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    raise ValueError("Expected text, not a list or a mapping.")


# ---------------------------------------------------------------- checking


@dataclass
class _Planned:
    """A row checked: the competence it updates (None: a new one) and its values."""

    number: int
    competence: Competence | None
    data: dict[str, str]


def _check(actor: Actor, rows: list[_Row], report: Report) -> list[_Planned]:
    """Each row's values as the model stores them, checked as the model checks them,
    matched with the live competence of its name; the problems go to `report`."""
    live = {
        " ".join(c.name.split()).lower(): c
        for c in Competence.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True
        )
    }
    seen: dict[str, int] = {}
    planned: list[_Planned] = []
    for row in rows:
        data: dict[str, str] = {}
        problems: list[Problem] = []
        for name, raw in row.values.items():
            column = row.columns[name]
            try:
                value = _cell(raw)
            except ValueError as exc:
                problems.append(Problem(row.number, column, str(exc)))
                continue
            if name == "name":
                value = " ".join(value.split())
            elif name == "group":
                value = value.strip()
            data[name] = text.normalise(value)
        typed = data.get("name")
        if typed == "":
            problems.append(Problem(row.number, row.columns["name"], "Name the competence."))
        elif typed is not None:
            key = typed.lower()
            if key in seen:
                problems.append(
                    Problem(
                        row.number,
                        row.columns["name"],
                        f"“{typed}” is in row {seen[key]} too: a competence appears once.",
                    )
                )
            seen.setdefault(key, row.number)
        if problems:
            report.refuse(*problems)
            continue
        existing = live.get(data["name"].lower())
        candidate = copy.copy(existing) if existing else Competence(organisation=actor.organisation)
        for name, value in data.items():
            setattr(candidate, name, value)
        try:
            candidate.clean_fields(exclude=["organisation"])
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = row.columns.get(name, name)
                report.refuse(*(Problem(row.number, column, m) for m in messages))
            continue
        # Validation normalises line breaks on the instance: compare what would be stored.
        data = {name: getattr(candidate, name) for name in data}
        planned.append(_Planned(row.number, existing, data))
    return planned


# ---------------------------------------------------------------- import


def import_framework(
    *, actor: Actor, source: IO[bytes], name: str, dry_run: bool = False
) -> Report:
    """Read the file, check every row, and create or update every competence it holds, or
    none (see the module docstring). With `dry_run`, check and write nothing."""
    require(actor, ADD, Competence)
    require(actor, CHANGE, Competence)
    report = Report(dry_run=dry_run)
    read: list[Problem] = []
    try:
        fmt = format_of(name)
        stream = (
            source if getattr(source, "seekable", lambda: False)() else io.BytesIO(source.read())
        )
        tabular.check_size(stream, MAX_BYTES)
        reader = _xlsx_rows if fmt == "xlsx" else _yaml_rows
        rows: list[_Row] = []
        for row in reader(stream, read):
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise _Refused(
                    Problem(None, "", f"The file has over {MAX_ROWS:,} competences: split it.")
                )
    except _Refused as exc:
        return report.refuse(*exc.problems)
    except tabular.Unreadable as exc:
        return report.refuse(Problem(None, "", exc.message))
    report.rows = len(rows) + len({p.row for p in read if p.row is not None})
    report.refuse(*read)
    planned = _check(actor, rows, report)
    if not rows and not read:
        return report.refuse(Problem(None, "", "The file has no competences."))
    report.problems.sort(key=lambda p: p.row or 0)
    if report.problems:
        return report
    changes: list[services.CompetenceChange] = []
    for plan in planned:
        if plan.competence is None:
            report.created.append(plan.data["name"])
            changes.append(services.CompetenceChange(plan.number, None, plan.data))
            continue
        changed = {k: v for k, v in plan.data.items() if getattr(plan.competence, k) != v}
        if changed:
            report.updated.append(plan.data["name"])
            changes.append(services.CompetenceChange(plan.number, plan.competence, changed))
        else:
            report.unchanged += 1
    if dry_run or not changes:
        return report
    try:
        services.competences_import(actor=actor, changes=changes)
    except DomainError as exc:
        refused = exc.extra.get("row")
        if refused is None:
            raise
        # Checked a moment ago, refused now: someone else changed the framework meanwhile.
        columns = next(r.columns for r in rows if r.number == refused)
        report.created, report.updated, report.unchanged = [], [], 0
        return report.refuse(
            *(
                Problem(refused, columns.get(name, ""), message)
                for name, messages in (exc.errors or {"": [exc.message]}).items()
                for message in messages
            )
        )
    return report


__all__ = [
    "COLUMNS",
    "FORMATS",
    "MAX_BYTES",
    "Problem",
    "Report",
    "export_bytes",
    "export_response",
    "import_framework",
]
