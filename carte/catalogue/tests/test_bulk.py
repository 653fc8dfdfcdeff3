"""The batched writes of `catalogue.bulk` against the single-row functions of
`catalogue.services`: the same rows and defaults, the same audit entries, the same
refusals with the same messages, and nothing written when a row is refused."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint, UniqueConstraint

from carte.catalogue import services
from carte.catalogue.choices import (
    ArtefactKind,
    DeliveryMode,
    PricingBasis,
    ServiceRoleKind,
    SupplierKind,
)
from carte.catalogue.models import (
    Artefact,
    Category,
    Service,
    ServiceLevel,
    ServiceRole,
    ServiceSymptom,
    Symptom,
)
from carte.catalogue.services import bulk, bulk_constraints
from carte.catalogue.tests.factories import CompetenceFactory
from carte.core import audit
from carte.core.errors import DomainError
from carte.core.models import AuditAction, AuditEntry, TenantModel
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    OrganisationFactory,
    PersonFactory,
    PMOFactory,
)

Single = Callable[..., Any]

# ---------------------------------------------------------------- one world per organisation


@dataclass
class World:
    actor: Actor
    people: dict[str, Any]
    pmos: dict[str, Any]
    groups: dict[str, Any]
    competences: dict[str, Any]


def world(org: Organisation) -> World:
    """People, PMOs and customer groups, the same (by name) in every organisation."""
    return World(
        actor=Actor.for_system(org),
        people={
            n: PersonFactory(organisation=org, name=n.title(), email=f"{n}@acme.example")
            for n in ("alice", "bob", "carol")
        },
        pmos={n: PMOFactory(organisation=org, name=n) for n in ("Central PMO", "IT PMO", "CoE")},
        groups={n: CustomerGroupFactory(organisation=org, name=n) for n in ("Finance", "Ops")},
        competences={n: CompetenceFactory(organisation=org, name=n) for n in ("Audit",)},
    )


def service_rows(w: World, category: Category) -> list[dict[str, Any]]:
    return [
        {
            "code": "GOV-1",
            "name": "Assurance reviews",
            "category": category,
            "summary": "=SUM(A1)",
            "rationale": ["control", "effective"],
            "scopes": ["project"],
            "delivery_mode": DeliveryMode.HYBRID,
            "provider_name": "Partners Ltd",
            "delivering_pmos": [w.pmos["IT PMO"], w.pmos["Central PMO"]],
            "pricing_basis": PricingBasis.PER_UNIT,
            "price": Decimal("12.50"),
            "currency": "EUR",
            "is_temporary": True,
            "end_date": dt.date(2027, 1, 31),
        },
        {"code": "REP-1", "name": "Dashboards", "category": category},
    ]


def build(w: World, *, many: bool) -> None:
    """The same small catalogue, one row at a time (`many=False`) or in batches."""
    actor = w.actor
    categories: list[dict[str, Any]] = [
        {"name": "Governance", "description": "-first", "position": None},
        {"name": "Reporting", "description": "", "position": 100},
        {"name": "Tools", "description": "", "position": None},
    ]
    if many:
        cats = bulk.categories_create_many(actor=actor, rows=categories)
        gov, rep = bulk.services_create_many(actor=actor, rows=service_rows(w, cats[0]))
        late, odd = bulk.symptoms_create_many(actor=actor, statements=[" Late ", "=Odd"])
    else:
        cats = [services.category_create(actor=actor, **row) for row in categories]
        gov, rep = (services.service_create(actor=actor, **row) for row in service_rows(w, cats[0]))
        late, odd = (services.symptom_create(actor=actor, statement=s) for s in (" Late ", "=Odd"))

    def parts(kind: str, rows: list[tuple[Service, dict[str, Any]]]) -> list[Any]:
        if many:
            return bulk.parts_create_many(actor=actor, kind=kind, rows=rows)
        return [
            services.part_create(actor=actor, service=s, kind=kind, data=data) for s, data in rows
        ]

    parts(
        "levels",
        [
            (gov, {"name": "Light", "effort_hours": Decimal("1.5")}),
            (gov, {"name": "Deep", "position": 7, "price": Decimal("99.99")}),
            (gov, {"name": "Deeper"}),  # after the explicit 7
            (rep, {"name": "Light"}),
        ],
    )
    parts(
        "roles",
        [
            (gov, {"role": ServiceRoleKind.OWNER, "person": w.people["alice"]}),
            (
                gov,
                {
                    "role": ServiceRoleKind.MANAGER,
                    "person": w.people["bob"],
                    "pmo": w.pmos["IT PMO"],
                },
            ),
            (gov, {"role": ServiceRoleKind.OPERATIVE, "person": w.people["carol"]}),
        ],
    )
    parts("symptoms", [(gov, {"symptom": late, "weight": 5}), (rep, {"symptom": odd})])
    sponsor, bob = parts(
        "suppliers",
        [
            (gov, {"name": "Sponsor", "kind": SupplierKind.ROLE}),
            (gov, {"name": "Bob", "kind": SupplierKind.PERSON, "person": w.people["bob"]}),
        ],
    )
    (monthly, _) = parts(
        "outputs",
        [
            (rep, {"name": "Monthly", "customers": [w.groups["Ops"], w.groups["Finance"]]}),
            (gov, {"name": "Report", "quality_criteria": "+checked", "customers": []}),
        ],
    )
    parts(
        "inputs",
        [
            (gov, {"name": "Request", "is_trigger": True, "supplier": sponsor}),
            (gov, {"name": "Figures", "source_output": monthly}),
            (gov, {"name": "Request", "supplier": bob}),  # names may repeat
        ],
    )
    parts(
        "steps",
        [
            (gov, {"name": "Plan", "performer": "Manager"}),
            (gov, {"name": "Do", "performer": "-Operative"}),
        ],
    )
    parts("customers", [(gov, {"customer_group": w.groups["Finance"], "note": "@main"})])
    parts(
        "competences",
        [(gov, {"competence": w.competences["Audit"], "level": 3, "fte": Decimal("0.5")})],
    )
    parts("governance", [(gov, {"item": "Mandate", "in_place": True})])
    artefact_rows = [
        {"name": "Checklist", "kind": ArtefactKind.TEMPLATE, "owner_service": gov},
        {"name": "RAID log", "kind": ArtefactKind.TOOL, "owner_pmo": w.pmos["CoE"]},
    ]
    if many:
        _, raid = bulk.artefacts_create_many(actor=actor, rows=artefact_rows)
    else:
        _, raid = (services.artefact_create(actor=actor, **row) for row in artefact_rows)
    parts("artefacts", [(rep, {"artefact": raid, "note": "weekly"})])


def stored(org: Organisation) -> dict[str, list[Any]]:
    """Every row the catalogue holds for `org` (relations by name), and its audit trail."""
    out: dict[str, list[Any]] = {}
    models: list[type[TenantModel]] = [Category, Service, Symptom, Artefact]
    for model in [*models, *services.PARTS.values()]:
        rows = []
        for obj in model._default_manager.filter(organisation=org):
            snap = audit.snapshot(obj)
            for name in ("delivering_pmos", "customers"):
                if hasattr(obj, name):
                    snap[name] = sorted(str(o) for o in getattr(obj, name).all())
            rows.append(json.dumps(snap, sort_keys=True))
        out[model.__name__] = sorted(rows)
    out["audit"] = sorted(
        json.dumps(
            [e.content_type.model, e.action, e.object_repr, e.actor_label, e.changes],
            sort_keys=True,
        )
        for e in AuditEntry.objects.filter(organisation=org).select_related("content_type")
    )
    return out


@pytest.mark.django_db
def test_it_writes_the_rows_and_audit_entries_the_single_functions_write() -> None:
    one, many = OrganisationFactory(slug="one"), OrganisationFactory(slug="many")
    build(world(one), many=False)
    build(world(many), many=True)
    single, batched = stored(one), stored(many)
    assert single["audit"]  # the comparison is not of two empty lists
    assert len(single["ServiceLevel"]) == 4
    assert batched == single
    positions = sorted(
        ServiceLevel.objects.filter(organisation=many, service__code="GOV-1").values_list(
            "name", "position"
        )
    )
    assert positions == [("Deep", 7), ("Deeper", 8), ("Light", 1)]
    assert list(Category.objects.filter(organisation=many).values_list("position")) == [
        (10,),
        (100,),
        (110,),
    ]


@pytest.mark.django_db
def test_it_gives_new_rows_their_ids_and_links() -> None:
    w = world(OrganisationFactory())
    cat = bulk.categories_create_many(actor=w.actor, rows=[{"name": "C"}])[0]
    gov, _ = bulk.services_create_many(actor=w.actor, rows=service_rows(w, cat))
    assert gov.pk is not None and not gov._state.adding
    assert sorted(p.name for p in gov.delivering_pmos.all()) == ["Central PMO", "IT PMO"]
    (output,) = bulk.parts_create_many(
        actor=w.actor, kind="outputs", rows=[(gov, {"name": "O", "customers": [w.groups["Ops"]]})]
    )
    assert output.pk is not None and not output._state.adding
    stored_output = type(output)._default_manager.get(pk=output.pk)
    assert stored_output.created_at == output.created_at is not None
    assert stored_output.name == "O" and stored_output.service_id == gov.pk  # type: ignore[attr-defined]
    assert [g.name for g in output.customers.all()] == ["Ops"]  # type: ignore[attr-defined]
    entry = AuditEntry.objects.get(object_id=output.pk, content_type__model="serviceoutput")
    assert entry.action == AuditAction.CREATE
    assert entry.changes["customers"] == {"before": None, "after": ["Ops"]}


def test_record_many_writes_what_record_writes(org: Organisation) -> None:
    w = world(org)
    actor = w.actor
    cat = services.category_create(actor=actor, name="Governance")
    AuditEntry.objects.all().delete()
    changes: dict[str, dict[str, Any]] = {
        "name": {"before": None, "after": "Governance"},
        "n": {"before": 1, "after": 2.5},
    }
    audit.record(actor=actor, obj=cat, action=AuditAction.UPDATE, changes=changes)
    assert audit.record_many(actor=actor, action=AuditAction.UPDATE, entries=[(cat, changes)]) == 1
    first, second = AuditEntry.objects.order_by("id")
    fields = [
        "organisation_id",
        "actor_id",
        "actor_label",
        "action",
        "content_type_id",
        "object_id",
        "object_repr",
        "changes",
    ]
    assert [getattr(second, f) for f in fields] == [getattr(first, f) for f in fields]


# ---------------------------------------------------------------- refusals


@dataclass
class Case:
    """Rows of which the last is refused: `single` writes one row, `many` all of them."""

    rows: Callable[[World, Service, Service], list[Any]]
    single: Callable[[Actor, Any], Any]
    many: Callable[[Actor, list[Any]], Any]


def part_case(kind: str, rows: Callable[[World, Service, Service], list[Any]]) -> Case:
    return Case(
        rows,
        lambda actor, row: services.part_create(
            actor=actor, service=row[0], kind=kind, data=row[1]
        ),
        lambda actor, rows: bulk.parts_create_many(actor=actor, kind=kind, rows=rows),
    )


def service_case(rows: Callable[[World, Service, Service], list[Any]]) -> Case:
    return Case(
        rows,
        lambda actor, row: services.service_create(actor=actor, **row),
        lambda actor, rows: bulk.services_create_many(actor=actor, rows=rows),
    )


def _stranger() -> Any:
    return PersonFactory(organisation=OrganisationFactory(), email="x@elsewhere.example")


def _owner(w: World, person: str) -> dict[str, Any]:
    return {"role": ServiceRoleKind.OWNER, "person": w.people[person]}


def _supplier_of(s: Service) -> Any:
    return services.part_create(
        actor=Actor.for_system(s.organisation), service=s, kind="suppliers", data={"name": "S"}
    )


def _output_of(s: Service) -> Any:
    return services.part_create(
        actor=Actor.for_system(s.organisation), service=s, kind="outputs", data={"name": "O"}
    )


def _symptom(w: World) -> Symptom:
    return services.symptom_get_or_create(actor=w.actor, statement="Late")


def _level_stored(w: World, a: Service, b: Service) -> list[Any]:
    services.part_create(actor=w.actor, service=a, kind="levels", data={"name": "light"})
    return [(b, {"name": "Light"}), (a, {"name": "Light"})]


def _artefact_twice(w: World, a: Service, b: Service) -> list[Any]:
    raid = services.artefact_create(
        actor=w.actor, name="RAID", kind=ArtefactKind.TOOL, owner_pmo=w.pmos["CoE"]
    )
    return [(a, {"artefact": raid}), (a, {"artefact": raid, "note": "again"})]


def _archived(w: World, a: Service, b: Service) -> list[Any]:
    services.service_archive(actor=w.actor, service=a)
    return [(b, {"name": "Plan", "performer": "x"}), (a, {"name": "Plan", "performer": "x"})]


CASES: dict[str, Case] = {
    "level name twice in the rows": part_case(
        "levels", lambda w, a, b: [(a, {"name": "Light"}), (a, {"name": "LIGHT"})]
    ),
    "level name already stored": part_case("levels", _level_stored),
    "negative effort": part_case(
        "levels", lambda w, a, b: [(a, {"name": "Deep", "effort_hours": Decimal("-1")})]
    ),
    "weight out of range (field, not constraint)": part_case(
        "symptoms", lambda w, a, b: [(a, {"symptom": _symptom(w), "weight": 9})]
    ),
    "second owner": part_case(
        "roles", lambda w, a, b: [(a, _owner(w, "alice")), (a, _owner(w, "bob"))]
    ),
    "manager of a PMO not delivering": part_case(
        "roles",
        lambda w, a, b: [
            (a, {"role": ServiceRoleKind.MANAGER, "person": w.people["bob"], "pmo": w.pmos["CoE"]})
        ],
    ),
    "manager without PMO": part_case(
        "roles", lambda w, a, b: [(a, {"role": ServiceRoleKind.MANAGER, "person": w.people["bob"]})]
    ),
    "person of another organisation": part_case(
        "roles",
        lambda w, a, b: [(a, {"role": ServiceRoleKind.OPERATIVE, "person": _stranger()})],
    ),
    "supplier of another service": part_case(
        "inputs", lambda w, a, b: [(a, {"name": "In", "supplier": _supplier_of(b)})]
    ),
    "input from its own output": part_case(
        "inputs", lambda w, a, b: [(a, {"name": "In", "source_output": _output_of(a)})]
    ),
    "customer twice": part_case(
        "customers",
        lambda w, a, b: [
            (a, {"customer_group": w.groups["Ops"]}),
            (a, {"customer_group": w.groups["Ops"]}),
        ],
    ),
    "artefact used twice": part_case("artefacts", _artefact_twice),
    "part of an archived service": part_case("steps", _archived),
    "service code twice": service_case(
        lambda w, a, b: [
            {"code": "NEW-1", "name": "N", "category": a.category},
            {"code": "new-1", "name": "M", "category": a.category},
        ]
    ),
    "price without currency": service_case(
        lambda w, a, b: [
            {
                "code": "NEW-1",
                "name": "N",
                "category": a.category,
                "pricing_basis": PricingBasis.FIXED_FEE,
                "price": Decimal("10"),
            }
        ]
    ),
    "temporary without end date": service_case(
        lambda w, a, b: [
            {"code": "NEW-1", "name": "N", "category": a.category, "is_temporary": True}
        ]
    ),
    "outsourced without provider": service_case(
        lambda w, a, b: [
            {
                "code": "NEW-1",
                "name": "N",
                "category": a.category,
                "delivery_mode": DeliveryMode.OUTSOURCED,
            }
        ]
    ),
    "bad code and bad currency at once": service_case(
        lambda w, a, b: [
            {
                "code": "has spaces",
                "name": "N",
                "category": a.category,
                "pricing_basis": PricingBasis.FIXED_FEE,
                "price": Decimal("10"),
                "currency": "euro",
            }
        ]
    ),
    "category name twice": Case(
        lambda w, a, b: [{"name": "Governance"}, {"name": "GOVERNANCE"}],
        lambda actor, row: services.category_create(actor=actor, **row),
        lambda actor, rows: bulk.categories_create_many(actor=actor, rows=rows),
    ),
}


def _services(w: World) -> tuple[Service, Service]:
    cat = services.category_create(actor=w.actor, name="Governance, the first")
    a, b = (
        services.service_create(actor=w.actor, code=code, name=code, category=cat)
        for code in ("A-1", "B-1")
    )
    return a, b


def _counts(org: Organisation) -> dict[str, int]:
    models: list[type[TenantModel]] = [Category, Service, Symptom, Artefact]
    counts = {
        m.__name__: m._default_manager.filter(organisation=org).count()
        for m in [*models, *services.PARTS.values()]
    }
    counts["audit"] = AuditEntry.objects.filter(organisation=org).count()
    return counts


@pytest.mark.parametrize("name", CASES)
@pytest.mark.django_db
def test_it_refuses_what_the_single_functions_refuse(name: str) -> None:
    case = CASES[name]
    one = world(OrganisationFactory(slug="one"))
    rows = case.rows(one, *_services(one))
    for row in rows[:-1]:
        case.single(one.actor, row)
    with pytest.raises(DomainError) as single:
        case.single(one.actor, rows[-1])

    many = world(OrganisationFactory(slug="many"))
    rows = case.rows(many, *_services(many))
    before = _counts(many.actor.organisation)
    with pytest.raises(bulk.RowError) as batched:
        case.many(many.actor, rows)
    assert batched.value.index == len(rows) - 1
    assert (batched.value.message, batched.value.code, batched.value.errors) == (
        single.value.message,
        single.value.code,
        single.value.errors,
    )
    assert _counts(many.actor.organisation) == before  # the good rows are undone too


def test_a_refusal_in_a_later_batch_undoes_the_earlier_ones(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH", 2)
    w = world(org)
    a, _ = _services(w)
    before = _counts(org)
    rows = [(a, {"name": n}) for n in ("One", "Two", "Three", "one")]
    with pytest.raises(bulk.RowError) as exc:
        bulk.parts_create_many(actor=w.actor, kind="levels", rows=rows)
    assert exc.value.index == 3
    assert exc.value.errors == {"name": ["The service already has a level with this name."]}
    assert _counts(org) == before


def test_it_checks_the_actors_rights_as_the_single_functions(
    org: Organisation, viewer: Any
) -> None:
    w = world(org)
    a, _ = _services(w)
    with pytest.raises(DomainError) as single:
        services.part_create(actor=viewer.actor, service=a, kind="levels", data={"name": "L"})
    with pytest.raises(DomainError) as batched:
        bulk.parts_create_many(actor=viewer.actor, kind="levels", rows=[(a, {"name": "L"})])
    assert batched.value.code == single.value.code == "forbidden"
    with pytest.raises(DomainError) as unknown:
        bulk.parts_create_many(actor=w.actor, kind="colours", rows=[])
    assert unknown.value.errors == {"kind": ["Unknown part 'colours'."]}


# ---------------------------------------------------------------- constraints, in bulk

CONSTRAINED: list[type[TenantModel]] = [
    Category,
    Service,
    Symptom,
    Artefact,
    *services.PARTS.values(),
]


def test_every_catalogue_constraint_is_checked_for_a_batch_at_once(org: Organisation) -> None:
    """No constraint falls back to one query per row (which cannot see earlier rows of the
    batch, so it is only allowed for check constraints)."""
    for model in CONSTRAINED:
        obj = model(organisation=org)
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                bulk_constraints._check_verdicts(
                    constraint, [bulk_constraints._values(obj)], [set()]
                )
            else:
                assert isinstance(constraint, UniqueConstraint)
                bulk_constraints._unique_verdicts(
                    model, constraint, [bulk_constraints._values(obj)], [set()]
                )


def _django_refuses(model: type[TenantModel], constraint: Any, obj: TenantModel) -> bool:
    try:
        constraint.validate(model, obj)
    except ValidationError:
        return True
    return False


CHECKED_ROWS: list[tuple[type[TenantModel], dict[str, Any]]] = [
    *(
        (
            Service,
            {
                "is_temporary": t,
                "end_date": d,
                "price": p,
                "currency": c,
                "id": i,
                "replaces_id": r,
            },
        )
        for t in (True, False)
        for d in (None, dt.date(2027, 1, 1))
        for p in (None, Decimal("0"), Decimal("3"))
        for c in ("", "EUR")
        for i, r in ((None, None), (None, 5), (5, 5), (5, 6))
    ),
    *(
        (ServiceRole, {"role": role, "pmo_id": pmo})
        for role in ServiceRoleKind.values
        for pmo in (None, 1)
    ),
    *((ServiceSymptom, {"weight": w}) for w in (None, 0, 1, 3, 5, 6)),
    *((Artefact, {"owner_service_id": s, "owner_pmo_id": p}) for s in (None, 1) for p in (None, 2)),
]


@pytest.mark.parametrize(("model", "values"), CHECKED_ROWS)
def test_check_constraints_read_as_the_database_reads_them(
    db: None, model: type[TenantModel], values: dict[str, Any]
) -> None:
    obj = model(**values)
    for constraint in model._meta.constraints:
        if isinstance(constraint, CheckConstraint):
            refused = bulk_constraints._check_verdicts(
                constraint, [bulk_constraints._values(obj)], [set()]
            ) == [0]
            assert refused == _django_refuses(model, constraint, obj), constraint.name
