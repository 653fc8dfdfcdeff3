"""The plan of an import: the writes it will make (`Op`, one row; `Batch`, new rows of a
table together) and what every table's checks share (`PlanBase`: the organisation's rows
by natural key, the file's rows converted and cleaned, the problems found)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from carte.catalogue.models import Artefact, Category, Service, ServiceOutput, Supplier, Symptom
from carte.catalogue.services import bulk
from carte.catalogue.transfer.report import Problem, Report
from carte.catalogue.transfer.shapes import (
    HEADERS,
    PART_MODELS,
    REFS,
    TABLES,
    CellError,
    Row,
    convert,
)
from carte.core.errors import DomainError
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, Competence, CustomerGroup, Person


def low(text: str) -> str:
    return text.strip().lower()


def competence_key(name: str) -> str:
    """A competence's name as the framework matches it (`competence_named`): whatever its
    case and spaces."""
    return " ".join(name.split()).lower()


class WriteRefused(Exception):
    """A refusal while writing, with the table and row it came from."""

    def __init__(self, table: str, row: int | None, error: DomainError) -> None:
        super().__init__(error.message)
        self.table, self.row, self.error = table, row, error


@dataclass
class Op:
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
            raise WriteRefused(self.table, self.row, exc) from exc
        progress(1)


@dataclass
class Batch:
    """New rows of one table, consecutive in the plan, written BATCH at a time by one of
    the functions of `carte.catalogue.services.bulk` (called by `create` with the items'
    payloads)."""

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
                raise WriteRefused(self.table, chunk[exc.index][0], exc) from exc
            except DomainError as exc:
                raise WriteRefused(self.table, None, exc) from exc
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
    "competences": (PART_MODELS["competences"][0], ("fte",)),  # the name: plan_parts
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


def artefact_key(name: str, owner_service: str, owner_pmo: str) -> tuple[str, str, str]:
    return (low(name), owner_service.strip().upper(), low(owner_pmo))


def _folded(value: Any) -> Any:
    """A reference as the import matches it: whatever its case and surrounding spaces."""
    if isinstance(value, str):
        return low(value)
    if isinstance(value, list):
        return sorted({low(v) for v in value})
    return value


def differs(table: str, wanted: Row, existing: Row) -> bool:
    """Whether the file's row would change the stored one. A reference is compared as it
    is matched: in another case it names the same row, so it is no change (or every
    import would report one). The row's own code or name is compared exactly: a change
    of case is written, once."""
    refs = REFS[table]
    for column, value in wanted.items():
        if column in ("service", "stage"):
            continue
        if column == "position" and value is None:
            continue  # no position given: keep the stored one
        stored = existing.get(column)
        if column in refs:
            if _folded(stored) != _folded(value):
                return True
        elif stored != value:
            return True
    return False


class PlanBase:
    """Everything checked before anything is written, and the writes to make: what the
    organisation holds, the file's rows, the problems found and the writes planned. The
    checks and writes of each table are `plan_services` and `plan_parts`."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        org = actor.organisation
        self.problems: list[Problem] = []
        self.report = Report()
        self.rows: dict[str, list[tuple[int, Row]]] = {t: [] for t in HEADERS}
        live = {"organisation": org, "archived_at__isnull": True}
        self.people = {low(p.email): p for p in Person.objects.filter(**live)}
        self.pmos = {low(p.name): p for p in PMO.objects.filter(**live)}
        self.groups = {low(g.name): g for g in CustomerGroup.objects.filter(**live)}
        # The framework's competences, which needs name; a name it lacks is recorded there
        # when the needs are written.
        self.competences = {
            competence_key(c.name): c
            for c in Competence.objects.filter(**live).order_by("-id")  # the oldest wins
        }
        self.categories = {low(c.name): c for c in Category.objects.filter(**live)}
        self.services: dict[str, Service] = {
            s.code.upper(): s
            for s in Service.objects.filter(**live)
            .select_related("category", "replaces")
            .prefetch_related("delivering_pmos")
        }
        self.outputs: dict[tuple[str, str], ServiceOutput] = {
            (o.service.code.upper(), low(o.name)): o
            for o in ServiceOutput.objects.filter(**live, service__archived_at__isnull=True)
            .select_related("service")
            .order_by("-id")  # the oldest wins when names repeat
        }
        self.suppliers: dict[tuple[str, str], Supplier] = {}
        self.artefacts: dict[tuple[str, str, str], Artefact] = {
            artefact_key(
                a.name,
                a.owner_service.code if a.owner_service else "",
                a.owner_pmo.name if a.owner_pmo else "",
            ): a
            for a in Artefact.objects.filter(**live)
            .select_related("owner_service", "owner_pmo")
            .order_by("-id")
        }
        self.ops: list[Op | Batch] = []
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
        if not (isinstance(last, Batch) and last.table == table):
            last = Batch(table, create)
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
        if not value.strip() or low(value) in lookup:
            return True
        self.error(table, number, column, f"No {what} {value!r} in this organisation.")
        return False
