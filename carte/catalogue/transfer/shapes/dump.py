"""Every live row of a table, read as plain values, for the export.

The export reads plain values, not model instances: for ~64,000 rows, building and
relating instances cost more than writing the file. Each table is one query over the
columns it needs (related names by joins), lists (delivering PMOs, an output's
customers) one more query each. `test_transfer` checks these rows equal the rows
`service_row`, `part_row` and `artefact_row` make from instances.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from carte.catalogue.models import Artefact, Category, Service, ServiceOutput
from carte.catalogue.transfer.shapes.records import PART_MODELS, live_rows, two_places
from carte.catalogue.transfer.shapes.tables import HEADERS, Row
from carte.organisations.models import Organisation

_CHUNK = 2000

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
        ("effort_hours", "effort_hours", two_places),
        ("price", "price", two_places),
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
        ("competence", "competence__name", None),
        ("level", "level", None),
        ("fte", "fte", two_places),
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
        qs = live_rows(Category.objects.all(), org).order_by("position", "name", "id")
        for name, description, position in qs.values_list("name", "description", "position"):
            yield {"name": name, "description": description, "position": position}
    elif table == "services":
        services = live_rows(Service.objects.all(), org)
        pmos = _names_by(Service.delivering_pmos.through, "service", "pmo__name", services)
        for row, (pk,) in _plain_rows(services.order_by("code", "id"), table, ("id",)):
            row["delivering_pmos"] = pmos.get(pk, [])
            yield {h: row[h] for h in HEADERS[table]}
    elif table == "artefacts":
        qs = (
            live_rows(Artefact.objects.all(), org)
            .exclude(owner_service__archived_at__isnull=False)
            .order_by("name", "id")
        )
        for row, _ in _plain_rows(qs, table):
            yield row
    else:
        model, _ = PART_MODELS[table]
        qs = live_rows(model._default_manager.all(), org).filter(service__archived_at__isnull=True)
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
