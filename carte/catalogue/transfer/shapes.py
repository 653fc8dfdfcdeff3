"""The tabular shape of an exported catalogue, shared by every format.

One table per part, one row per record, one column per field. Rows name each other by
natural keys (service code, category name, person e-mail, PMO name, customer group name,
supplier or output name within its service), never by database id, so an export can be
imported into another organisation. Values here are canonical Python values (str, int,
bool, Decimal, date, sorted lists); the writers and readers turn them into cells.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Model, Prefetch, QuerySet

from carte.catalogue.choices import (
    ArtefactKind,
    CompetenceLevel,
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    ServiceRoleKind,
    SupplierKind,
)
from carte.catalogue.models import (
    Artefact,
    Category,
    CompetenceNeed,
    GovernanceNeed,
    ProcessStep,
    Service,
    ServiceArtefact,
    ServiceCustomer,
    ServiceInput,
    ServiceLevel,
    ServiceOutput,
    ServiceRole,
    ServiceSymptom,
    Supplier,
)
from carte.organisations.models import CustomerGroup, Organisation

FORMAT = "carte-catalogue"
VERSION = 1

Row = dict[str, Any]

# Column kinds: how a cell is read and written.
TEXT = "text"
INT = "int"
DECIMAL = "decimal"
BOOL = "bool"
DATE = "date"
CHOICE = "choice"
CHOICES = "choices"  # several choice codes
NAMES = "names"  # several names (PMOs, customer groups)


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, its kind and, for choices, the allowed codes."""

    name: str
    kind: str = TEXT
    choices: tuple[str, ...] = ()
    blank: bool = True  # may the cell be empty


def _codes(choices: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in choices.values)


def _c(name: str, kind: str = TEXT, choices: Any = None, *, blank: bool = True) -> Column:
    return Column(name, kind, _codes(choices) if choices is not None else (), blank)


SERVICE = _c("service", blank=False)
_LEVELS = _codes(CompetenceLevel)  # the one choice column whose codes are numbers

TABLES: dict[str, tuple[Column, ...]] = {
    "categories": (_c("name", blank=False), _c("description"), _c("position", INT)),
    "services": (
        _c("code", blank=False),
        _c("name", blank=False),
        _c("category", blank=False),
        _c("summary"),
        _c("description"),
        _c("outcome"),
        _c("rationale", CHOICES, Rationale),
        _c("rationale_note"),
        _c("scopes", CHOICES, Scope),
        _c("delivery_mode", CHOICE, DeliveryMode, blank=False),
        _c("provider_kind", CHOICE, ProviderKind),
        _c("provider_name"),
        _c("delivering_pmos", NAMES),
        _c("hours"),
        _c("pricing_basis", CHOICE, PricingBasis, blank=False),
        _c("price", DECIMAL),
        _c("currency"),
        _c("price_unit"),
        _c("is_temporary", BOOL),
        _c("end_date", DATE),
        _c("replaces"),
        _c("stage"),  # for information: the lifecycle owns it, the importer ignores it
    ),
    "levels": (
        SERVICE,
        _c("name", blank=False),
        _c("position", INT),
        _c("description"),
        _c("effort_hours", DECIMAL),
        _c("price", DECIMAL),
    ),
    "roles": (
        SERVICE,
        _c("role", CHOICE, ServiceRoleKind, blank=False),
        _c("person_email", blank=False),
        _c("pmo"),
    ),
    "symptoms": (SERVICE, _c("statement", blank=False), _c("weight", INT, blank=False)),
    "suppliers": (
        SERVICE,
        _c("name", blank=False),
        _c("kind", CHOICE, SupplierKind, blank=False),
        _c("person_email"),
        _c("customer_group"),
        _c("position", INT),
    ),
    "inputs": (
        SERVICE,
        _c("name", blank=False),
        _c("quality_criteria"),
        _c("is_trigger", BOOL),
        _c("supplier"),
        # The dependency (M-5): the output of another service this input comes from.
        _c("source_service"),
        _c("source_output"),
        _c("position", INT),
    ),
    "steps": (
        SERVICE,
        _c("position", INT),
        _c("name", blank=False),
        _c("description"),
        _c("performer", blank=False),
    ),
    "outputs": (
        SERVICE,
        _c("name", blank=False),
        _c("quality_criteria"),
        _c("customers", NAMES),
        _c("position", INT),
    ),
    "customers": (SERVICE, _c("customer_group", blank=False), _c("note")),
    "competences": (
        SERVICE,
        _c("competence", blank=False),
        _c("level", CHOICE, CompetenceLevel, blank=False),
        _c("fte", DECIMAL, blank=False),
    ),
    "governance": (SERVICE, _c("item", blank=False), _c("in_place", BOOL)),
    "artefacts": (
        _c("name", blank=False),
        _c("kind", CHOICE, ArtefactKind, blank=False),
        _c("description"),
        _c("url"),
        _c("owner_service"),
        _c("owner_pmo"),
    ),
    "artefact_uses": (
        SERVICE,
        _c("artefact", blank=False),
        _c("artefact_owner_service"),
        _c("artefact_owner_pmo"),
        _c("note"),
    ),
}

HEADERS: dict[str, tuple[str, ...]] = {t: tuple(c.name for c in cols) for t, cols in TABLES.items()}

# ---------------------------------------------------------------- spreadsheet safety

_FORMULA_START = ("=", "+", "-", "@")


def neutralise(text: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula.

    Text that already starts with a quote followed by such a character (or by a quote)
    gets one too, so `unneutralise` can always remove exactly one and the round trip is
    exact.
    """
    if text.startswith(_FORMULA_START) or (
        text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "'")
    ):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Remove the quote `neutralise` added, and nothing else."""
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "'"):
        return text[1:]
    return text


# ---------------------------------------------------------------- cell conversion


class CellError(ValueError):
    """A cell whose value does not fit its column."""


_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
LIST_SEP = "\n"  # list cells in a spreadsheet: one name per line (names may hold commas)


def money(value: Any) -> Decimal:
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CellError(f"{value!r} is not a number.") from exc
    if not number.is_finite():
        raise CellError(f"{value!r} is not a number.")
    return number.quantize(Decimal("0.01"))


def convert(column: Column, value: Any) -> Any:
    """The canonical value of a cell read from any format, or CellError."""
    if column.kind == TEXT and type(value) is str and value:
        return value  # the common case, first
    if isinstance(value, str) and column.kind not in (TEXT, CHOICE, CHOICES, NAMES):
        value = value.strip()
    empty = value is None or value == "" or value == []
    if empty and not column.blank:
        raise CellError("A value is required.")
    kind = column.kind
    if kind == TEXT:
        if empty:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
            raise CellError(f"Expected text, got {value!r}.")
        return value if isinstance(value, str) else str(value)
    if kind == INT:
        if empty:
            return None
        if isinstance(value, bool):
            raise CellError(f"{value!r} is not a whole number.")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise CellError(f"{value!r} is not a whole number.")
    if kind == DECIMAL:
        if empty:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise CellError(f"{value!r} is not a number.")
        return money(value)
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        text = "" if value is None else str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CellError(f"{value!r} is not true or false.")
    if kind == DATE:
        if empty:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise CellError(f"{value!r} is not a date (YYYY-MM-DD).") from exc
    if kind == CHOICE:
        if empty:
            return None if column.choices == _LEVELS else ""
        code = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            code = str(int(value))
        if code not in column.choices:
            raise CellError(f"{code!r} is not one of: {', '.join(column.choices)}.")
        return int(code) if column.choices == _LEVELS else code
    # CHOICES and NAMES: a list, or text with one item per line (commas too for codes).
    items = _items(value, codes=kind == CHOICES)
    if kind == CHOICES:
        for code in items:
            if code not in column.choices:
                raise CellError(f"{code!r} is not one of: {', '.join(column.choices)}.")
    return sorted(set(items))


def _items(value: Any, *, codes: bool) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise CellError(f"Expected a list of names, got {value!r}.")
        return [v.strip() for v in value if v.strip()]
    if not isinstance(value, str):
        raise CellError(f"Expected a list of names, got {value!r}.")
    text = value.replace(",", LIST_SEP) if codes else value
    return [v.strip() for v in text.split(LIST_SEP) if v.strip()]


# ---------------------------------------------------------------- rows from the database


def _live(qs: QuerySet[Any], org: Organisation) -> QuerySet[Any]:
    return qs.filter(organisation=org, archived_at__isnull=True)


def _parts(model: type[Model], org: Organisation, *related: str) -> QuerySet[Any]:
    qs = _live(model._default_manager.all(), org).filter(service__archived_at__isnull=True)
    return qs.select_related("service", *related).order_by("service__code", "id")


def _name(obj: Any) -> str:
    return "" if obj is None else str(obj.name)


def service_row(s: Service) -> Row:
    return {
        "code": s.code,
        "name": s.name,
        "category": s.category.name,
        "summary": s.summary,
        "description": s.description,
        "outcome": s.outcome,
        "rationale": sorted(s.rationale),
        "rationale_note": s.rationale_note,
        "scopes": sorted(s.scopes),
        "delivery_mode": s.delivery_mode,
        "provider_kind": s.provider_kind,
        "provider_name": s.provider_name,
        "delivering_pmos": sorted(p.name for p in s.delivering_pmos.all()),
        "hours": s.hours,
        "pricing_basis": s.pricing_basis,
        "price": s.price,
        "currency": s.currency,
        "price_unit": s.price_unit,
        "is_temporary": s.is_temporary,
        "end_date": s.end_date,
        "replaces": s.replaces.code if s.replaces else "",
        "stage": s.stage,
    }


def _money2(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def part_row(table: str, p: Any) -> Row:
    """The row of one part of a service (without the `service` column)."""
    if table == "levels":
        return {
            "name": p.name,
            "position": p.position,
            "description": p.description,
            "effort_hours": _money2(p.effort_hours),
            "price": _money2(p.price),
        }
    if table == "roles":
        return {"role": p.role, "person_email": p.person.email, "pmo": _name(p.pmo)}
    if table == "symptoms":
        return {"statement": p.symptom.statement, "weight": p.weight}
    if table == "suppliers":
        return {
            "name": p.name,
            "kind": p.kind,
            "person_email": p.person.email if p.person else "",
            "customer_group": _name(p.customer_group),
            "position": p.position,
        }
    if table == "inputs":
        source = p.source_output
        return {
            "name": p.name,
            "quality_criteria": p.quality_criteria,
            "is_trigger": p.is_trigger,
            # A removed supplier is not named: the import could not find it.
            "supplier": _name(p.supplier) if p.supplier and not p.supplier.is_archived else "",
            "source_service": source.service.code if source else "",
            "source_output": source.name if source else "",
            "position": p.position,
        }
    if table == "steps":
        return {
            "position": p.position,
            "name": p.name,
            "description": p.description,
            "performer": p.performer,
        }
    if table == "outputs":
        return {
            "name": p.name,
            "quality_criteria": p.quality_criteria,
            "customers": sorted(c.name for c in p.customers.all()),
            "position": p.position,
        }
    if table == "customers":
        return {"customer_group": p.customer_group.name, "note": p.note}
    if table == "competences":
        return {"competence": p.competence, "level": p.level, "fte": _money2(p.fte)}
    if table == "governance":
        return {"item": p.item, "in_place": p.in_place}
    if table == "artefact_uses":
        a = p.artefact
        return {
            "artefact": a.name,
            "artefact_owner_service": a.owner_service.code if a.owner_service else "",
            "artefact_owner_pmo": _name(a.owner_pmo),
            "note": p.note,
        }
    raise KeyError(table)


def artefact_row(a: Artefact) -> Row:
    return {
        "name": a.name,
        "kind": a.kind,
        "description": a.description,
        "url": a.url,
        "owner_service": a.owner_service.code if a.owner_service else "",
        "owner_pmo": _name(a.owner_pmo),
    }


# Part table -> (model, related rows to fetch with it). `artefact_uses` is ServiceArtefact.
PART_MODELS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "levels": (ServiceLevel, ()),
    "roles": (ServiceRole, ("person", "pmo")),
    "symptoms": (ServiceSymptom, ("symptom",)),
    "suppliers": (Supplier, ("person", "customer_group")),
    "inputs": (ServiceInput, ("supplier", "source_output__service")),
    "steps": (ProcessStep, ()),
    "outputs": (ServiceOutput, ()),
    "customers": (ServiceCustomer, ("customer_group",)),
    "competences": (CompetenceNeed, ()),
    "governance": (GovernanceNeed, ()),
    "artefact_uses": (
        ServiceArtefact,
        ("artefact__owner_service", "artefact__owner_pmo"),
    ),
}
# Part table -> the `kind` services.part_create knows it by.
PART_KINDS = {t: ("artefacts" if t == "artefact_uses" else t) for t in PART_MODELS}

_CHUNK = 2000


def part_queryset(table: str, org: Organisation) -> QuerySet[Any]:
    model, related = PART_MODELS[table]
    qs = _parts(model, org, *related)
    if table == "outputs":
        qs = qs.prefetch_related(
            Prefetch("customers", queryset=CustomerGroup.objects.order_by("name"))
        )
    return qs


# ---------------------------------------------------------------- rows for the export
#
# The export reads plain values, not model instances: for ~64,000 rows, building and
# relating instances cost more than writing the file. Each table is one query over the
# columns it needs (related names by joins), lists (delivering PMOs, an output's
# customers) one more query each. `test_transfer` checks these rows equal the rows
# `service_row`, `part_row` and `artefact_row` make from instances.

Convert = Any  # a function applied to a fetched value, or None for "as is"


def _text(value: str | None) -> str:
    return "" if value is None else value


# Table -> (column, the field path it is read from, how the value is made canonical).
_EXPORT: dict[str, tuple[tuple[str, str, Convert], ...]] = {
    "services": (
        ("code", "code", None),
        ("name", "name", None),
        ("category", "category__name", None),
        ("summary", "summary", None),
        ("description", "description", None),
        ("outcome", "outcome", None),
        ("rationale", "rationale", None),  # MultiChoiceField: a sorted list already
        ("rationale_note", "rationale_note", None),
        ("scopes", "scopes", None),
        ("delivery_mode", "delivery_mode", None),
        ("provider_kind", "provider_kind", None),
        ("provider_name", "provider_name", None),
        ("hours", "hours", None),
        ("pricing_basis", "pricing_basis", None),
        ("price", "price", None),
        ("currency", "currency", None),
        ("price_unit", "price_unit", None),
        ("is_temporary", "is_temporary", None),
        ("end_date", "end_date", None),
        ("replaces", "replaces__code", _text),
        ("stage", "stage", None),
    ),
    "artefacts": (
        ("name", "name", None),
        ("kind", "kind", None),
        ("description", "description", None),
        ("url", "url", None),
        ("owner_service", "owner_service__code", _text),
        ("owner_pmo", "owner_pmo__name", _text),
    ),
    "levels": (  # decimals of parts are given two places, as `part_row` does
        ("name", "name", None),
        ("position", "position", None),
        ("description", "description", None),
        ("effort_hours", "effort_hours", _money2),
        ("price", "price", _money2),
    ),
    "roles": (
        ("role", "role", None),
        ("person_email", "person__email", None),
        ("pmo", "pmo__name", _text),
    ),
    "symptoms": (("statement", "symptom__statement", None), ("weight", "weight", None)),
    "suppliers": (
        ("name", "name", None),
        ("kind", "kind", None),
        ("person_email", "person__email", _text),
        ("customer_group", "customer_group__name", _text),
        ("position", "position", None),
    ),
    "inputs": (
        ("name", "name", None),
        ("quality_criteria", "quality_criteria", None),
        ("is_trigger", "is_trigger", None),
        ("supplier", "supplier__name", _text),  # blanked below when the supplier is removed
        ("source_service", "source_output__service__code", _text),
        ("source_output", "source_output__name", _text),
        ("position", "position", None),
    ),
    "steps": (
        ("position", "position", None),
        ("name", "name", None),
        ("description", "description", None),
        ("performer", "performer", None),
    ),
    "outputs": (
        ("name", "name", None),
        ("quality_criteria", "quality_criteria", None),
        ("position", "position", None),
    ),
    "customers": (("customer_group", "customer_group__name", None), ("note", "note", None)),
    "competences": (
        ("competence", "competence", None),
        ("level", "level", None),
        ("fte", "fte", _money2),
    ),
    "governance": (("item", "item", None), ("in_place", "in_place", None)),
    "artefact_uses": (
        ("artefact", "artefact__name", None),
        ("artefact_owner_service", "artefact__owner_service__code", _text),
        ("artefact_owner_pmo", "artefact__owner_pmo__name", _text),
        ("note", "note", None),
    ),
}


def _names_by(through: Any, owner: str, name: str, owners: QuerySet[Any]) -> dict[int, list[str]]:
    """Owner id -> the sorted names of its many-to-many relations (one query)."""
    found: dict[int, list[str]] = {}
    links = through.objects.filter(**{f"{owner}__in": owners}).values_list(f"{owner}_id", name)
    for owner_id, value in links.iterator(chunk_size=_CHUNK):
        found.setdefault(owner_id, []).append(value)
    for names in found.values():
        names.sort()
    return found


def _plain_rows(
    qs: QuerySet[Any], table: str, extra: tuple[str, ...] = ()
) -> Iterator[tuple[Row, tuple[Any, ...]]]:
    """(row, extra values) for each record of `qs`, read as plain values."""
    spec = _EXPORT[table]
    paths = [path for _, path, _ in spec]
    for values in qs.values_list(*paths, *extra).iterator(chunk_size=_CHUNK):
        row = {
            column: value if convert is None else convert(value)
            for (column, _, convert), value in zip(spec, values, strict=False)
        }
        yield row, values[len(spec) :]


def table_rows(table: str, org: Organisation) -> Iterator[Row]:
    """The live rows of one table of `org`, in a stable order, streamed in chunks."""
    if table == "categories":
        qs = _live(Category.objects.all(), org).order_by("position", "name", "id")
        for name, description, position in qs.values_list("name", "description", "position"):
            yield {"name": name, "description": description, "position": position}
    elif table == "services":
        services = _live(Service.objects.all(), org)
        pmos = _names_by(Service.delivering_pmos.through, "service", "pmo__name", services)
        for row, (pk,) in _plain_rows(services.order_by("code", "id"), table, ("id",)):
            row["delivering_pmos"] = pmos.get(pk, [])
            yield {h: row[h] for h in HEADERS[table]}
    elif table == "artefacts":
        qs = (
            _live(Artefact.objects.all(), org)
            .exclude(owner_service__archived_at__isnull=False)
            .order_by("name", "id")
        )
        for row, _ in _plain_rows(qs, table):
            yield row
    else:
        model, _ = PART_MODELS[table]
        qs = _live(model._default_manager.all(), org).filter(service__archived_at__isnull=True)
        qs = qs.order_by("service__code", "id")
        if table == "inputs":
            for row, (code, removed) in _plain_rows(
                qs, table, ("service__code", "supplier__archived_at")
            ):
                if removed is not None:
                    row["supplier"] = ""  # a removed supplier is not named (see part_row)
                yield {"service": code, **row}
        elif table == "outputs":
            customers = _names_by(
                ServiceOutput.customers.through, "serviceoutput", "customergroup__name", qs
            )
            for row, (code, pk) in _plain_rows(qs, table, ("service__code", "id")):
                row["customers"] = customers.get(pk, [])
                yield {"service": code, **{h: row[h] for h in HEADERS[table][1:]}}
        else:
            for row, (code,) in _plain_rows(qs, table, ("service__code",)):
                yield {"service": code, **row}
