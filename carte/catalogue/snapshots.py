"""Snapshots of a service with all its parts, and the comparison of two of them.

A published version stores `build(service)`: plain JSON, readable on its own (related
rows by name, not id), so a version stays meaningful after the rows it names change.
Rows of each part are keyed by a natural key, so `compare()` can say which rows were
added, removed or changed between two versions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict

from django.db.models import Prefetch

from carte.catalogue.models import CompetenceNeed, Service


class RowChange(TypedDict):
    key: str
    fields: dict[str, dict[str, Any]]


class PartDiff(TypedDict):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[RowChange]


class Diff(TypedDict):
    fields: dict[str, dict[str, Any]]
    parts: dict[str, PartDiff]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _live(manager: Any) -> list[Any]:
    return [row for row in manager.all() if row.archived_at is None]


# Each part: the natural key of a row within the service, used to pair rows across versions.
PART_KEYS: dict[str, str] = {
    "roles": "key",
    "levels": "name",
    "symptoms": "statement",
    "suppliers": "name",
    "inputs": "name",
    "steps": "name",
    "outputs": "name",
    "customers": "customer_group",
    "competences": "competence",
    "governance": "item",
    "artefacts": "name",
}


# What `of()` reads; prefetch it once for any number of services.
PREFETCH: tuple[str | Prefetch[Any], ...] = (
    "delivering_pmos",
    "roles__person",
    "roles__pmo",
    "levels",
    "symptom_links__symptom",
    "suppliers",
    "inputs__supplier",
    "inputs__source_output__service",
    "steps",
    "outputs__customers",
    "customers__customer_group",
    # A need names its competence of the framework, read with it.
    Prefetch("competences", queryset=CompetenceNeed.objects.select_related("competence")),
    "governance",
    "artefact_links__artefact",
    "own_artefacts",
)


def load(service: Service) -> Service:
    """The service read afresh with what `of()` reads."""
    return (
        Service.objects.select_related("category", "replaces")
        .prefetch_related(*PREFETCH)
        .get(pk=service.pk)
    )


def build(service: Service) -> dict[str, Any]:
    """The service and its live parts as JSON-ready data, read afresh."""
    return of(load(service))


def search_text(snapshot: dict[str, Any]) -> str:
    """The words a customer's search looks in, from a published snapshot: what the staff's
    search reads on the live rows (code, name, summary, description, outputs' names and
    symptoms' statements), lowercased so one `LIKE` matches in any case on every database.
    """
    card = snapshot["service"]
    words = [card["code"], card["name"], card["summary"], card["description"]]
    words += [row["name"] for row in snapshot.get("outputs", [])]
    words += [row["statement"] for row in snapshot.get("symptoms", [])]
    return "\n".join(words).lower()


def of(s: Service) -> dict[str, Any]:
    """The snapshot of a service whose parts are prefetched (`PREFETCH`): no query."""
    return {
        "service": {
            "code": s.code,
            "name": s.name,
            "category": s.category.name,
            "summary": s.summary,
            "description": s.description,
            "outcome": s.outcome,
            "rationale": list(s.rationale),
            "rationale_note": s.rationale_note,
            "scopes": list(s.scopes),
            "delivery_mode": s.delivery_mode,
            "provider_kind": s.provider_kind,
            "provider_name": s.provider_name,
            "delivering_pmos": sorted(p.name for p in s.delivering_pmos.all()),
            "hours": s.hours,
            "pricing_basis": s.pricing_basis,
            "price": _money(s.price),
            "currency": s.currency,
            "price_unit": s.price_unit,
            "is_temporary": s.is_temporary,
            "end_date": s.end_date.isoformat() if s.end_date else None,
            "replaces": s.replaces.code if s.replaces else None,
        },
        "roles": sorted(
            (
                {
                    "key": f"{r.role}:{r.person.email}:{r.pmo.name if r.pmo else ''}",
                    "role": r.role,
                    "person": r.person.name,
                    "email": r.person.email,
                    "pmo": r.pmo.name if r.pmo else None,
                }
                for r in _live(s.roles)
            ),
            key=lambda row: row["key"],
        ),
        "levels": [
            {
                "name": lv.name,
                "description": lv.description,
                "effort_hours": _money(lv.effort_hours),
                "price": _money(lv.price),
            }
            for lv in _live(s.levels)
        ],
        "symptoms": sorted(
            (
                {"statement": link.symptom.statement, "weight": link.weight}
                for link in _live(s.symptom_links)
            ),
            key=lambda row: row["statement"],
        ),
        "suppliers": [{"name": sup.name, "kind": sup.kind} for sup in _live(s.suppliers)],
        "inputs": [
            {
                "name": i.name,
                "quality_criteria": i.quality_criteria,
                "is_trigger": i.is_trigger,
                "supplier": i.supplier.name if i.supplier else None,
                "source": (
                    f"{i.source_output.service.code}/{i.source_output.name}"
                    if i.source_output
                    else None
                ),
            }
            for i in _live(s.inputs)
        ],
        "steps": [
            {"name": st.name, "description": st.description, "performer": st.performer}
            for st in _live(s.steps)
        ],
        "outputs": [
            {
                "name": o.name,
                "quality_criteria": o.quality_criteria,
                "customers": sorted(c.name for c in o.customers.all()),
            }
            for o in _live(s.outputs)
        ],
        "customers": sorted(
            ({"customer_group": c.customer_group.name, "note": c.note} for c in _live(s.customers)),
            key=lambda row: row["customer_group"],
        ),
        "competences": [
            {"competence": c.competence.name, "level": c.level, "fte": _money(c.fte)}
            for c in _live(s.competences)
        ],
        "governance": [{"item": g.item, "in_place": g.in_place} for g in _live(s.governance)],
        "artefacts": sorted(
            [
                {"name": a.name, "kind": a.kind, "url": a.url, "owned": True}
                for a in _live(s.own_artefacts)
            ]
            + [
                {
                    "name": link.artefact.name,
                    "kind": link.artefact.kind,
                    "url": link.artefact.url,
                    "owned": False,
                }
                for link in _live(s.artefact_links)
            ],
            key=lambda row: row["name"],
        ),
    }


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        k: {"before": old.get(k), "after": new.get(k)}
        for k in dict.fromkeys([*old, *new])
        if old.get(k) != new.get(k)
    }


def compare(old: dict[str, Any], new: dict[str, Any]) -> Diff:
    """What changed from `old` to `new`: service fields, and rows added, removed, changed."""
    parts: dict[str, PartDiff] = {}
    for part, key in PART_KEYS.items():
        before = {str(r[key]): r for r in old.get(part, [])}
        after = {str(r[key]): r for r in new.get(part, [])}
        diff: PartDiff = {
            "added": [after[k] for k in after if k not in before],
            "removed": [before[k] for k in before if k not in after],
            "changed": [
                {"key": k, "fields": _field_changes(before[k], after[k])}
                for k in after
                if k in before and before[k] != after[k]
            ],
        }
        if diff["added"] or diff["removed"] or diff["changed"]:
            parts[part] = diff
    return {
        "fields": _field_changes(old.get("service", {}), new.get("service", {})),
        "parts": parts,
    }
