"""The row of a stored record (a service, one of its parts, an artefact), made from model
instances: what the import compares the file with."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Model, Prefetch, QuerySet

from carte.catalogue import services as catalogue
from carte.catalogue.models import Artefact, Service
from carte.catalogue.transfer.shapes.tables import Row
from carte.organisations.models import CustomerGroup, Organisation


def live_rows(qs: QuerySet[Any], org: Organisation) -> QuerySet[Any]:
    return qs.filter(organisation=org, archived_at__isnull=True)


def _parts(model: type[Model], org: Organisation, *related: str) -> QuerySet[Any]:
    qs = live_rows(model._default_manager.all(), org).filter(service__archived_at__isnull=True)
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


def two_places(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def part_row(table: str, p: Any) -> Row:
    """The row of one part of a service (without the `service` column)."""
    if table == "levels":
        return {
            "name": p.name,
            "position": p.position,
            "description": p.description,
            "effort_hours": two_places(p.effort_hours),
            "price": two_places(p.price),
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
        return {"competence": p.competence.name, "level": p.level, "fte": two_places(p.fte)}
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


# Part table -> the related rows to fetch with it, in the order of `TABLES` (the import
# checks the part tables in this order).
_RELATED: dict[str, tuple[str, ...]] = {
    "levels": (),
    "roles": ("person", "pmo"),
    "symptoms": ("symptom",),
    "suppliers": ("person", "customer_group"),
    "inputs": ("supplier", "source_output__service"),
    "steps": (),
    "outputs": (),
    "customers": ("customer_group",),
    "competences": ("competence",),
    "governance": (),
    "artefact_uses": ("artefact__owner_service", "artefact__owner_pmo"),
}
# Part table -> the `kind` services.part_create knows it by (`artefact_uses`: artefact links).
PART_KINDS = {t: ("artefacts" if t == "artefact_uses" else t) for t in _RELATED}
# Part table -> (model, related rows to fetch with it); the model is the kind's.
PART_MODELS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    t: (catalogue.PARTS[kind], _RELATED[t]) for t, kind in PART_KINDS.items()
}


def part_queryset(table: str, org: Organisation) -> QuerySet[Any]:
    model, related = PART_MODELS[table]
    qs = _parts(model, org, *related)
    if table == "outputs":
        qs = qs.prefetch_related(
            Prefetch("customers", queryset=CustomerGroup.objects.order_by("name"))
        )
    return qs
