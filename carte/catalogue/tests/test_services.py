"""The catalogue services: categories, services and their parts, roles (M-10), the rules
across objects, permissions, the audit trail and publishing versions; and the comparison
of two snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from carte.catalogue import services, snapshots
from carte.catalogue.choices import (
    ArtefactKind,
    DeliveryMode,
    PricingBasis,
    ServiceRoleKind,
    Stage,
    SupplierKind,
)
from carte.catalogue.models import (
    Category,
    CompetenceNeed,
    GovernanceNeed,
    ProcessStep,
    Service,
    ServiceInput,
    ServiceLevel,
    ServiceOutput,
    ServiceVersion,
    Supplier,
    Symptom,
)
from carte.catalogue.tests.factories import CompetenceFactory, CompetenceNeedFactory
from carte.core.errors import CONFLICT, FORBIDDEN, INVALID, DomainError
from carte.core.models import AuditAction
from carte.core.testing import assert_entry, audit_entries, last_entry, no_writes
from carte.organisations.models import Competence
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    PersonFactory,
    PMOFactory,
)

# ---------------------------------------------------------------- helpers


@contextmanager
def refused(code: str = INVALID, field: str | None = None) -> Iterator[Any]:
    """Expect a DomainError with this code (and naming this field)."""
    with pytest.raises(DomainError) as info:
        yield info
    assert info.value.code == code, (info.value.code, info.value.message)
    if field is not None:
        assert field in info.value.errors, (info.value.errors, info.value.message)


def new_service(actor: Any, category: Category, code: str = "GOV-1", /, **fields: Any) -> Service:
    fields = {"code": code, "name": f"Service {code}", **fields}
    return services.service_create(actor=actor, category=category, **fields)


def add(actor: Any, service: Service, kind: str, /, **data: Any) -> Any:
    return services.part_create(actor=actor, service=service, kind=kind, data=data)


def output_of(actor: Any, service: Service, name: str = "Report") -> ServiceOutput:
    return add(actor, service, "outputs", name=name)


def link_person(persona: Any, **kwargs: Any) -> Any:
    """A Person of the persona's organisation, linked to the persona's login."""
    return PersonFactory(organisation=persona.organisation, user=persona.user, **kwargs)


@pytest.fixture
def category(director: Any) -> Category:
    return services.category_create(actor=director.actor, name="Governance and assurance")


@pytest.fixture
def service(director: Any, category: Category) -> Service:
    return new_service(director.actor, category, "GOV-1", name="Health checks")


@pytest.fixture
def feed(director: Any, category: Category, service: Service) -> ServiceInput:
    """An input of another service (REP-1) that the service's output "Report" feeds."""
    consumer = new_service(director.actor, category, "REP-1")
    report = output_of(director.actor, service)
    return add(director.actor, consumer, "inputs", name="Findings", source_output=report)


# ---------------------------------------------------------------- categories


def test_it_creates_categories_last_in_the_menu_and_audits_them(director: Any) -> None:
    first = services.category_create(actor=director.actor, name="Governance")
    second = services.category_create(actor=director.actor, name="Reporting", description="MI")

    assert second.position > first.position
    entry = last_entry(second)
    assert_entry(entry, director, AuditAction.CREATE)
    assert entry.changes["name"] == {"before": None, "after": "Reporting"}
    assert entry.changes["description"] == {"before": None, "after": "MI"}


def test_it_refuses_a_category_name_taken_in_any_case(director: Any, category: Category) -> None:
    with no_writes(), refused(INVALID, "name"):
        services.category_create(actor=director.actor, name="GOVERNANCE AND ASSURANCE")


def test_it_updates_a_category_with_before_and_after(director: Any, category: Category) -> None:
    services.category_update(
        actor=director.actor, category=category, data={"name": "Assurance", "position": 99}
    )

    category.refresh_from_db()
    assert (category.name, category.position) == ("Assurance", 99)
    entry = last_entry(category)
    assert_entry(entry, director, AuditAction.UPDATE)
    assert entry.changes["name"] == {"before": "Governance and assurance", "after": "Assurance"}


def test_it_refuses_to_archive_a_category_with_live_services(
    director: Any, category: Category, service: Service
) -> None:
    with no_writes(category), refused(CONFLICT):
        services.category_archive(actor=director.actor, category=category)


def test_it_archives_and_restores_a_category_once_its_services_are_gone(
    director: Any, category: Category, service: Service
) -> None:
    services.service_archive(actor=director.actor, service=service)

    services.category_archive(actor=director.actor, category=category)
    assert Category.objects.get(pk=category.pk).is_archived
    assert last_entry(category).action == AuditAction.ARCHIVE

    services.category_restore(actor=director.actor, category=category)
    assert not Category.objects.get(pk=category.pk).is_archived
    assert last_entry(category).action == AuditAction.RESTORE


def test_it_lets_only_service_editors_change_categories(
    staff: Any, customer: Any, pmo_manager: Any, category: Category
) -> None:
    for persona in (staff, customer):
        with no_writes(), refused(FORBIDDEN):
            services.category_create(actor=persona.actor, name="Other")
    services.category_update(actor=pmo_manager.actor, category=category, data={"name": "Gov"})
    assert Category.objects.get(pk=category.pk).name == "Gov"


# ---------------------------------------------------------------- services


def test_it_creates_a_proposed_service_with_every_field_audited(
    director: Any, org: Any, category: Category
) -> None:
    pmo = PMOFactory(organisation=org, name="Digital PMO")
    service = services.service_create(
        actor=director.actor,
        code="REP-7",
        name="Portfolio dashboard",
        category=category,
        summary="Monthly dashboard",
        rationale=["efficient", "control"],
        scopes=["portfolio"],
        pricing_basis=PricingBasis.PER_UNIT,
        price=Decimal("150.00"),
        currency="EUR",
        price_unit="per report",
        delivering_pmos=[pmo],
    )

    stored = Service.objects.get(pk=service.pk)
    assert stored.stage == Stage.PROPOSED
    assert stored.stage_changed_at is not None
    assert stored.organisation == director.organisation
    assert stored.rationale == ["control", "efficient"]
    assert list(stored.delivering_pmos.all()) == [pmo]
    entry = last_entry(service)
    assert_entry(entry, director, AuditAction.CREATE)
    assert entry.changes["code"] == {"before": None, "after": "REP-7"}
    assert entry.changes["category"] == {"before": None, "after": "Governance and assurance"}
    assert entry.changes["price"] == {"before": None, "after": "150.00"}
    assert entry.changes["delivering_pmos"] == {"before": None, "after": ["Digital PMO"]}


def test_it_refuses_a_live_code_in_any_case_and_reuses_it_after_archive(
    director: Any, category: Category, service: Service
) -> None:
    with no_writes(), refused(INVALID, "code"):
        new_service(director.actor, category, "gov-1")

    services.service_archive(actor=director.actor, service=service)
    again = new_service(director.actor, category, "gov-1")
    assert again.pk != service.pk
    # Restoring the archived one would make two live services with that code.
    with no_writes(service), refused(INVALID, "code"):
        services.service_restore(actor=director.actor, service=service)


def test_it_refuses_a_category_of_another_organisation(director: Any, outsider: Any) -> None:
    theirs = services.category_create(actor=outsider.actor, name="Theirs")
    with no_writes(), refused(INVALID, "category"):
        new_service(director.actor, theirs)


def test_it_refuses_an_archived_category(director: Any) -> None:
    old = services.category_create(actor=director.actor, name="Old")
    services.category_archive(actor=director.actor, category=old)
    with no_writes(), refused(INVALID, "category"):
        new_service(director.actor, old)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"pricing_basis": PricingBasis.FREE, "price": Decimal(10), "currency": "EUR"}, "price"),
        ({"pricing_basis": PricingBasis.FIXED_FEE}, "price"),
        ({"pricing_basis": PricingBasis.FIXED_FEE, "price": Decimal(10)}, "currency"),
        ({"is_temporary": True}, "end_date"),
        ({"delivery_mode": DeliveryMode.OUTSOURCED}, "provider_name"),
        ({"delivery_mode": DeliveryMode.HYBRID, "provider_name": ""}, "provider_name"),
        ({"stage": Stage.RUNNING}, "stage"),
        ({"colour": "red"}, "colour"),
        ({"code": "no spaces"}, "code"),
        ({"currency": "eur", "pricing_basis": "fixed_fee", "price": Decimal(1)}, "currency"),
        ({"price": Decimal(-1), "pricing_basis": "fixed_fee", "currency": "EUR"}, "price"),
    ],
)
def test_it_refuses_a_service_breaking_a_rule(
    director: Any, category: Category, fields: dict[str, Any], field: str
) -> None:
    with no_writes(), refused(INVALID, field):
        new_service(director.actor, category, "NEW-1", **fields)
    assert not Service.objects.filter(code="NEW-1").exists()


def test_it_accepts_the_valid_variants_of_those_rules(director: Any, category: Category) -> None:
    temporary = new_service(
        director.actor, category, "TMP", is_temporary=True, end_date=dt.date(2030, 1, 31)
    )
    outsourced = new_service(
        director.actor,
        category,
        "OUT",
        delivery_mode=DeliveryMode.OUTSOURCED,
        provider_kind="external",
        provider_name="Big Four",
    )
    priced = new_service(
        director.actor,
        category,
        "FEE",
        pricing_basis=PricingBasis.FIXED_FEE,
        price=Decimal("0.00"),
        currency="GBP",
    )
    assert temporary.end_date == dt.date(2030, 1, 31)
    assert outsourced.provider_name == "Big Four"
    assert priced.price == Decimal("0.00")


def test_it_updates_a_service_and_audits_only_what_changed(director: Any, service: Service) -> None:
    services.service_update(
        actor=director.actor,
        service=service,
        data={"name": "Health checks", "summary": "A review", "scopes": ["project", "programme"]},
    )

    stored = Service.objects.get(pk=service.pk)
    assert stored.summary == "A review"
    assert stored.scopes == ["programme", "project"]
    entry = last_entry(service)
    assert_entry(entry, director, AuditAction.UPDATE)
    assert set(entry.changes) == {"summary", "scopes"}
    assert entry.changes["scopes"] == {"before": [], "after": ["programme", "project"]}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"stage": Stage.RUNNING}, "stage"),
        ({"colour": "red"}, "colour"),
        ({"pricing_basis": PricingBasis.PER_UNIT}, "price"),
        ({"price": Decimal(5), "currency": "EUR"}, "price"),
        ({"is_temporary": True}, "end_date"),
        ({"delivery_mode": DeliveryMode.OUTSOURCED}, "provider_name"),
    ],
)
def test_it_refuses_an_update_breaking_a_rule_and_keeps_the_stored_values(
    director: Any, service: Service, data: dict[str, Any], field: str
) -> None:
    with no_writes(service), refused(INVALID, field):
        services.service_update(actor=director.actor, service=service, data=dict(data))
    assert service.stage == Stage.PROPOSED
    assert service.pricing_basis == PricingBasis.FREE
    assert service.is_temporary is False


def test_it_refuses_a_service_replacing_itself_or_another_orgs(
    director: Any, outsider: Any, service: Service
) -> None:
    with no_writes(service), refused(INVALID, "replaces"):
        services.service_update(actor=director.actor, service=service, data={"replaces": service})
    theirs = new_service(
        outsider.actor, services.category_create(actor=outsider.actor, name="X"), "X-1"
    )
    with no_writes(service), refused(INVALID, "replaces"):
        services.service_update(actor=director.actor, service=service, data={"replaces": theirs})


def test_it_sets_and_changes_delivering_pmos_in_the_audit_trail(
    director: Any, org: Any, service: Service
) -> None:
    alpha = PMOFactory(organisation=org, name="Alpha PMO")
    beta = PMOFactory(organisation=org, name="Beta PMO")

    services.service_update(
        actor=director.actor, service=service, data={"delivering_pmos": [beta, alpha]}
    )
    assert set(service.delivering_pmos.all()) == {alpha, beta}
    assert last_entry(service).changes == {
        "delivering_pmos": {"before": [], "after": ["Alpha PMO", "Beta PMO"]}
    }

    services.service_update(actor=director.actor, service=service, data={"delivering_pmos": [beta]})
    assert list(service.delivering_pmos.all()) == [beta]
    assert last_entry(service).changes == {
        "delivering_pmos": {"before": ["Alpha PMO", "Beta PMO"], "after": ["Beta PMO"]}
    }


def test_it_refuses_a_delivering_pmo_of_another_organisation(
    director: Any, other_org: Any, service: Service
) -> None:
    theirs = PMOFactory(organisation=other_org)
    with no_writes(service), refused(INVALID, "delivering_pmos"):
        services.service_update(
            actor=director.actor, service=service, data={"delivering_pmos": [theirs]}
        )
    assert not service.delivering_pmos.exists()


def test_it_refuses_to_drop_a_delivering_pmo_that_has_a_service_manager(
    director: Any, org: Any, service: Service
) -> None:
    alpha = PMOFactory(organisation=org)
    beta = PMOFactory(organisation=org)
    services.service_update(
        actor=director.actor, service=service, data={"delivering_pmos": [alpha, beta]}
    )
    add(
        director.actor,
        service,
        "roles",
        person=PersonFactory(organisation=org),
        role=ServiceRoleKind.MANAGER,
        pmo=alpha,
    )

    with no_writes(service), refused(INVALID, "delivering_pmos"):
        services.service_update(
            actor=director.actor, service=service, data={"delivering_pmos": [beta]}
        )
    assert set(service.delivering_pmos.all()) == {alpha, beta}
    # Dropping the other PMO is fine.
    services.service_update(
        actor=director.actor, service=service, data={"delivering_pmos": [alpha]}
    )
    assert list(service.delivering_pmos.all()) == [alpha]


def test_it_refuses_to_archive_a_service_whose_outputs_feed_another(
    director: Any, service: Service, feed: ServiceInput
) -> None:
    with no_writes(service), refused(CONFLICT):
        services.service_archive(actor=director.actor, service=service)

    # Once the consumer's input is unlinked, the source may go.
    services.part_archive(actor=director.actor, part=feed)
    services.service_archive(actor=director.actor, service=service)
    assert Service.objects.get(pk=service.pk).is_archived
    assert last_entry(service).changes == {"archived": {"before": False, "after": True}}


# ---------------------------------------------------------------- roles (M-10)


def test_it_allows_exactly_one_live_owner(director: Any, org: Any, service: Service) -> None:
    first = add(
        director.actor, service, "roles", person=PersonFactory(organisation=org), role="owner"
    )
    assert last_entry(first).action == AuditAction.CREATE

    second = PersonFactory(organisation=org)
    with no_writes(), refused(INVALID, "role"):
        add(director.actor, service, "roles", person=second, role="owner")

    services.part_archive(actor=director.actor, part=first)
    add(director.actor, service, "roles", person=PersonFactory(organisation=org), role="owner")
    assert service.roles.filter(role="owner", archived_at__isnull=True).count() == 1


@pytest.mark.parametrize("who", ["director", "admin"])
def test_it_lets_the_director_and_admin_appoint_an_owner(
    request: Any, who: str, org: Any, service: Service
) -> None:
    persona = request.getfixturevalue(who)
    role = add(
        persona.actor, service, "roles", person=PersonFactory(organisation=org), role="owner"
    )
    assert role.role == ServiceRoleKind.OWNER


def test_it_lets_the_system_appoint_an_owner(org: Any, service: Service) -> None:
    from carte.organisations.actor import Actor

    role = add(
        Actor.for_system(org),
        service,
        "roles",
        person=PersonFactory(organisation=org),
        role="owner",
    )
    assert role.pk is not None


def test_it_forbids_a_pmo_manager_to_appoint_or_reappoint_an_owner(
    director: Any, pmo_manager: Any, org: Any, service: Service
) -> None:
    person = PersonFactory(organisation=org)
    with no_writes(), refused(FORBIDDEN):
        add(pmo_manager.actor, service, "roles", person=person, role="owner")

    operative = add(
        pmo_manager.actor,
        service,
        "roles",
        person=PersonFactory(organisation=org),
        role="operative",
    )
    with no_writes(operative), refused(FORBIDDEN):
        services.part_update(actor=pmo_manager.actor, part=operative, data={"role": "owner"})


def test_it_requires_a_manager_to_have_a_pmo_that_delivers_the_service(
    director: Any, org: Any, other_org: Any, service: Service
) -> None:
    person = PersonFactory(organisation=org)
    delivering = PMOFactory(organisation=org)
    elsewhere = PMOFactory(organisation=org)
    services.service_update(
        actor=director.actor, service=service, data={"delivering_pmos": [delivering]}
    )

    with no_writes(), refused(INVALID, "pmo"):
        add(director.actor, service, "roles", person=person, role="manager")
    with no_writes(), refused(INVALID, "pmo"):
        add(director.actor, service, "roles", person=person, role="manager", pmo=elsewhere)
    theirs = PMOFactory(organisation=other_org)
    with no_writes(), refused(INVALID, "pmo"):
        add(director.actor, service, "roles", person=person, role="manager", pmo=theirs)
    with no_writes(), refused(INVALID, "pmo"):
        add(director.actor, service, "roles", person=person, role="owner", pmo=delivering)

    manager = add(director.actor, service, "roles", person=person, role="manager", pmo=delivering)
    assert manager.pmo == delivering


def test_it_allows_one_manager_per_delivering_pmo(
    director: Any, org: Any, service: Service
) -> None:
    alpha = PMOFactory(organisation=org)
    beta = PMOFactory(organisation=org)
    services.service_update(
        actor=director.actor, service=service, data={"delivering_pmos": [alpha, beta]}
    )
    person = PersonFactory(organisation=org)
    add(director.actor, service, "roles", person=person, role="manager", pmo=alpha)

    another = PersonFactory(organisation=org)
    with no_writes(), refused(INVALID, "pmo"):
        add(director.actor, service, "roles", person=another, role="manager", pmo=alpha)
    # The same person may manage it for a second PMO.
    add(director.actor, service, "roles", person=person, role="manager", pmo=beta)
    assert service.roles.filter(role="manager").count() == 2


def test_it_lets_one_person_hold_owner_manager_and_operative(
    director: Any, org: Any, service: Service
) -> None:
    pmo = PMOFactory(organisation=org)
    services.service_update(actor=director.actor, service=service, data={"delivering_pmos": [pmo]})
    person = PersonFactory(organisation=org)

    add(director.actor, service, "roles", person=person, role="owner")
    add(director.actor, service, "roles", person=person, role="manager", pmo=pmo)
    add(director.actor, service, "roles", person=person, role="operative")

    assert sorted(service.roles.values_list("role", flat=True)) == [
        "manager",
        "operative",
        "owner",
    ]
    with no_writes(), refused(INVALID, "person"):
        add(director.actor, service, "roles", person=person, role="operative")


def test_it_refuses_a_role_for_another_orgs_or_an_archived_person(
    director: Any, org: Any, other_org: Any, service: Service
) -> None:
    theirs = PersonFactory(organisation=other_org)
    with no_writes(), refused(INVALID, "person"):
        add(director.actor, service, "roles", person=theirs, role="operative")
    gone = PersonFactory(organisation=org)
    gone.archived_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    gone.save()
    with no_writes(), refused(INVALID, "person"):
        add(director.actor, service, "roles", person=gone, role="operative")


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("who", ["director", "pmo_manager", "admin"])
def test_it_lets_service_editors_change_any_service(
    request: Any, who: str, service: Service
) -> None:
    persona = request.getfixturevalue(who)
    services.service_update(actor=persona.actor, service=service, data={"summary": who})
    add(persona.actor, service, "steps", name="Plan", performer="Analyst")
    assert Service.objects.get(pk=service.pk).summary == who


@pytest.mark.parametrize("who", ["staff", "viewer", "customer"])
def test_it_forbids_other_roles_to_create_services(
    request: Any, who: str, category: Category
) -> None:
    persona = request.getfixturevalue(who)
    with no_writes(), refused(FORBIDDEN):
        new_service(persona.actor, category, "NEW")


@pytest.mark.parametrize("who", ["staff", "viewer", "customer"])
def test_it_forbids_other_roles_to_edit_a_service_they_do_not_run(
    request: Any, who: str, service: Service
) -> None:
    persona = request.getfixturevalue(who)
    level = add(request.getfixturevalue("director").actor, service, "levels", name="Light")
    with no_writes(service), refused(FORBIDDEN):
        services.service_update(actor=persona.actor, service=service, data={"summary": "x"})
    with no_writes(), refused(FORBIDDEN):
        add(persona.actor, service, "levels", name="Heavy")
    with no_writes(level), refused(FORBIDDEN):
        services.part_update(actor=persona.actor, part=level, data={"name": "Lighter"})
    with no_writes(level), refused(FORBIDDEN):
        services.part_archive(actor=persona.actor, part=level)
    with no_writes(service), refused(FORBIDDEN):
        services.service_archive(actor=persona.actor, service=service)
    with no_writes(service), refused(FORBIDDEN):
        services.service_publish(actor=persona.actor, service=service)


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_it_lets_an_owner_or_manager_edit_their_service_only(
    director: Any, staff: Any, org: Any, category: Category, service: Service, role: str
) -> None:
    pmo = PMOFactory(organisation=org)
    services.service_update(actor=director.actor, service=service, data={"delivering_pmos": [pmo]})
    person = link_person(staff)
    add(
        director.actor,
        service,
        "roles",
        person=person,
        role=role,
        pmo=pmo if role == "manager" else None,
    )
    other = new_service(director.actor, category, "OTHER")

    services.service_update(actor=staff.actor, service=service, data={"summary": "Mine"})
    level = add(staff.actor, service, "levels", name="Light")
    services.part_update(actor=staff.actor, part=level, data={"name": "Lighter"})
    services.service_publish(actor=staff.actor, service=service)
    assert last_entry(level).actor == staff.user

    with no_writes(other), refused(FORBIDDEN):
        services.service_update(actor=staff.actor, service=other, data={"summary": "Not mine"})
    with no_writes(), refused(FORBIDDEN):
        add(staff.actor, other, "levels", name="Light")
    # Running a service does not make one a director: no Owner appointments.
    someone = PersonFactory(organisation=org)
    with no_writes(), refused(FORBIDDEN):
        add(staff.actor, service, "roles", person=someone, role="owner")


def test_it_forbids_an_operative_to_edit_the_service(
    director: Any, staff: Any, service: Service
) -> None:
    add(director.actor, service, "roles", person=link_person(staff), role="operative")
    with no_writes(service), refused(FORBIDDEN):
        services.service_update(actor=staff.actor, service=service, data={"summary": "x"})


def test_it_forgets_a_former_owners_rights(director: Any, staff: Any, service: Service) -> None:
    owner = add(director.actor, service, "roles", person=link_person(staff), role="owner")
    services.part_archive(actor=director.actor, part=owner)
    with no_writes(service), refused(FORBIDDEN):
        services.service_update(actor=staff.actor, service=service, data={"summary": "x"})


def test_it_never_lets_another_organisation_touch_a_service(
    outsider: Any, service: Service
) -> None:
    with no_writes(service), refused(FORBIDDEN):
        services.service_update(actor=outsider.actor, service=service, data={"summary": "x"})
    with no_writes(service), refused(FORBIDDEN):
        services.service_archive(actor=outsider.actor, service=service)


# ---------------------------------------------------------------- parts


PART_CASES = [
    ("levels", ServiceLevel, {"name": "Light touch", "effort_hours": Decimal("2.5")}, "name"),
    ("suppliers", Supplier, {"name": "Project manager", "kind": SupplierKind.ROLE}, "name"),
    ("inputs", ServiceInput, {"name": "Project plan", "is_trigger": True}, "name"),
    ("steps", ProcessStep, {"name": "Review", "performer": "Assurance lead"}, "name"),
    ("outputs", ServiceOutput, {"name": "Review report"}, "name"),
    ("governance", GovernanceNeed, {"item": "Assurance policy"}, "item"),
]


@pytest.mark.parametrize(("kind", "model", "data", "label"), PART_CASES)
def test_it_creates_updates_archives_and_restores_each_part(
    director: Any,
    service: Service,
    kind: str,
    model: Any,
    data: dict[str, Any],
    label: str,
) -> None:
    part = add(director.actor, service, kind, **data)
    assert isinstance(part, model)
    assert part.service == service
    created = last_entry(part)
    assert_entry(created, director, AuditAction.CREATE)
    assert created.changes[label] == {"before": None, "after": data[label]}

    services.part_update(actor=director.actor, part=part, data={label: "Changed"})
    assert getattr(model._default_manager.get(pk=part.pk), label) == "Changed"
    assert last_entry(part).changes == {label: {"before": data[label], "after": "Changed"}}

    services.part_archive(actor=director.actor, part=part)
    assert model._default_manager.get(pk=part.pk).archived_at is not None
    assert last_entry(part).action == AuditAction.ARCHIVE

    services.part_restore(actor=director.actor, part=part)
    assert model._default_manager.get(pk=part.pk).archived_at is None
    assert last_entry(part).action == AuditAction.RESTORE
    assert [e.action for e in audit_entries(part)] == ["create", "update", "archive", "restore"]


# ---------------------------------------------------------------- competence needs


def test_a_need_names_a_competence_of_the_framework_and_audits_it_by_name(
    director: Any, service: Service
) -> None:
    risk = CompetenceFactory(organisation=service.organisation, name="Risk management")
    planning = CompetenceFactory(organisation=service.organisation, name="Planning")
    need = add(director.actor, service, "competences", competence=risk, fte=Decimal("0.5"))
    assert isinstance(need, CompetenceNeed)
    assert last_entry(need).changes["competence"] == {"before": None, "after": "Risk management"}

    services.part_update(actor=director.actor, part=need, data={"competence": planning})
    assert CompetenceNeed.objects.get(pk=need.pk).competence == planning
    assert last_entry(need).changes == {
        "competence": {"before": "Risk management", "after": "Planning"}
    }
    services.part_archive(actor=director.actor, part=need)
    services.part_restore(actor=director.actor, part=need)
    assert [e.action for e in audit_entries(need)] == ["create", "update", "archive", "restore"]
    assert list(planning.needs.all()) == [need]


def test_a_need_by_name_finds_the_competence_in_any_case_and_spacing(
    director: Any, service: Service
) -> None:
    risk = CompetenceFactory(organisation=service.organisation, name="Risk management")
    need = add(
        director.actor,
        service,
        "competences",
        competence_name="  RISK   management ",
        fte=Decimal("1"),
    )
    assert need.competence == risk
    assert Competence.objects.filter(organisation=service.organisation).count() == 1


def test_a_need_by_a_new_name_records_it_in_the_framework_for_who_may_add_competences(
    director: Any, service: Service
) -> None:
    need = add(director.actor, service, "competences", competence_name="Facilitation", fte=1)
    competence = Competence.objects.get(organisation=service.organisation)
    assert need.competence == competence and competence.name == "Facilitation"
    assert_entry(last_entry(competence), director, AuditAction.CREATE)


def test_a_need_by_a_new_name_is_refused_to_whoever_may_not_add_competences(
    director: Any, staff: Any, service: Service
) -> None:
    add(director.actor, service, "roles", person=link_person(staff), role="owner")
    CompetenceFactory(organisation=service.organisation, name="Facilitation")
    # The Owner edits the service's needs with the framework's competences...
    need = add(staff.actor, service, "competences", competence_name="facilitation", fte=1)
    # ... but does not grow the framework.
    with no_writes(need), refused(INVALID, "competence_name") as info:
        add(staff.actor, service, "competences", competence_name="Juggling", fte=1)
    assert "not in the competence framework" in info.value.message
    with no_writes(need), refused(INVALID, "competence_name"):
        services.part_update(actor=staff.actor, part=need, data={"competence_name": "Juggling"})


def test_a_refused_need_leaves_no_new_competence(director: Any, service: Service) -> None:
    with refused(INVALID, "fte"):
        add(director.actor, service, "competences", competence_name="Juggling", fte=-1)
    assert not Competence.objects.filter(organisation=service.organisation).exists()
    with refused(INVALID, "competence_name"):
        add(director.actor, service, "competences", competence_name="  ", fte=1)
    risk = CompetenceFactory(organisation=service.organisation, name="Risk")
    with no_writes(), refused(INVALID, "competence_name"):
        add(director.actor, service, "competences", competence=risk, competence_name="Risk", fte=1)


def test_a_need_refuses_another_organisations_competence(
    director: Any, other_org: Any, service: Service
) -> None:
    theirs = CompetenceFactory(organisation=other_org, name="Risk")
    with no_writes(), refused(INVALID, "competence"):
        add(director.actor, service, "competences", competence=theirs, fte=1)
    need = CompetenceNeedFactory(service=service)
    with no_writes(need), refused(INVALID, "competence"):
        services.part_update(actor=director.actor, part=need, data={"competence": theirs})


def test_a_need_refuses_an_archived_competence(director: Any, service: Service) -> None:
    old = CompetenceFactory(organisation=service.organisation, name="Old method")
    need = CompetenceNeedFactory(service=service, competence=old)
    Competence.objects.filter(pk=old.pk).update(archived_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    old.refresh_from_db()
    with no_writes(), refused(INVALID, "competence") as info:
        add(director.actor, service, "competences", competence=old, fte=1)
    assert "archived" in info.value.message
    with no_writes(need), refused(INVALID, "competence"):
        services.part_update(actor=director.actor, part=need, data={"fte": Decimal("2")})
    services.part_archive(actor=director.actor, part=need)
    with refused(INVALID, "competence"):
        services.part_restore(actor=director.actor, part=need)
    # Named, an archived competence is not found: a live one of that name is recorded.
    named = add(director.actor, service, "competences", competence_name="Old method", fte=1)
    assert named.competence != old and not named.competence.is_archived


def test_a_published_version_names_the_competence_as_it_was(
    director: Any, service: Service
) -> None:
    risk = CompetenceFactory(organisation=service.organisation, name="Risk")
    add(director.actor, service, "competences", competence=risk, level=3, fte=Decimal("0.5"))
    first = services.service_publish(actor=director.actor, service=service)
    Competence.objects.filter(pk=risk.pk).update(name="Risk management")
    second = services.service_publish(actor=director.actor, service=service)

    assert first.snapshot["competences"] == [{"competence": "Risk", "level": 3, "fte": "0.50"}]
    assert second.snapshot["competences"][0]["competence"] == "Risk management"
    diff = snapshots.compare(first.snapshot, second.snapshot)["parts"]["competences"]
    assert [r["competence"] for r in diff["removed"]] == ["Risk"]
    assert [r["competence"] for r in diff["added"]] == ["Risk management"]


def test_it_numbers_ordered_parts_in_turn(director: Any, service: Service) -> None:
    first = add(director.actor, service, "steps", name="Plan", performer="PM")
    second = add(director.actor, service, "steps", name="Do", performer="PM")
    assert (first.position, second.position) == (1, 2)


def test_it_refuses_an_unknown_part_and_a_part_moving_service(
    director: Any, category: Category, service: Service
) -> None:
    with no_writes(), refused(INVALID, "kind"):
        add(director.actor, service, "widgets", name="x")
    level = add(director.actor, service, "levels", name="Light")
    other = new_service(director.actor, category, "OTHER")
    with no_writes(level), refused(INVALID, "service"):
        services.part_update(actor=director.actor, part=level, data={"service": other})


def test_it_refuses_a_level_name_taken_in_any_case(director: Any, service: Service) -> None:
    add(director.actor, service, "levels", name="Light")
    with no_writes(), refused(INVALID, "name"):
        add(director.actor, service, "levels", name="LIGHT")


def test_it_refuses_parts_on_an_archived_service(director: Any, service: Service) -> None:
    services.service_archive(actor=director.actor, service=service)
    with no_writes(), refused(CONFLICT):
        add(director.actor, service, "levels", name="Light")


def test_it_records_output_customers_in_the_audit_trail(
    director: Any, org: Any, service: Service
) -> None:
    boards = CustomerGroupFactory(organisation=org, name="Boards")
    sponsors = CustomerGroupFactory(organisation=org, name="Sponsors")

    report = add(director.actor, service, "outputs", name="Report", customers=[sponsors, boards])
    assert set(report.customers.all()) == {boards, sponsors}
    assert last_entry(report).changes["customers"] == {
        "before": None,
        "after": ["Boards", "Sponsors"],
    }

    services.part_update(actor=director.actor, part=report, data={"customers": [boards]})
    assert list(report.customers.all()) == [boards]
    assert last_entry(report).changes == {
        "customers": {"before": ["Boards", "Sponsors"], "after": ["Boards"]}
    }


def test_it_refuses_output_customers_of_another_organisation(
    director: Any, other_org: Any, service: Service
) -> None:
    theirs = CustomerGroupFactory(organisation=other_org)
    with no_writes(), refused(INVALID, "customers"):
        add(director.actor, service, "outputs", name="Report", customers=[theirs])


def test_it_adds_customers_of_the_service_once(director: Any, org: Any, service: Service) -> None:
    group = CustomerGroupFactory(organisation=org, name="Sponsors")
    link = add(director.actor, service, "customers", customer_group=group, note="monthly")
    assert last_entry(link).changes["customer_group"] == {"before": None, "after": "Sponsors"}
    with no_writes(), refused(INVALID, "customer_group"):
        add(director.actor, service, "customers", customer_group=group)


# ---------------------------------------------------------------- symptoms and artefacts


def test_it_shares_symptoms_across_services_whatever_the_case(
    director: Any, category: Category, service: Service
) -> None:
    symptom = services.symptom_get_or_create(actor=director.actor, statement="Projects run late")
    assert last_entry(symptom).action == AuditAction.CREATE

    with no_writes():
        same = services.symptom_get_or_create(
            actor=director.actor, statement="  PROJECTS RUN LATE "
        )
    assert same == symptom

    other = new_service(director.actor, category, "OTHER")
    add(director.actor, service, "symptoms", symptom=symptom, weight=5)
    add(director.actor, other, "symptoms", symptom=same, weight=2)
    assert symptom.service_links.count() == 2
    assert Symptom.objects.count() == 1


def test_it_refuses_a_duplicate_symptom_or_link_and_a_weight_out_of_range(
    director: Any, service: Service
) -> None:
    symptom = services.symptom_create(actor=director.actor, statement="Benefits unclear")
    with no_writes(), refused(INVALID, "statement"):
        services.symptom_create(actor=director.actor, statement="benefits UNCLEAR")
    add(director.actor, service, "symptoms", symptom=symptom)
    with no_writes(), refused(INVALID, "symptom"):
        add(director.actor, service, "symptoms", symptom=symptom, weight=4)
    other = services.symptom_create(actor=director.actor, statement="No data")
    with no_writes(), refused(INVALID, "weight"):
        add(director.actor, service, "symptoms", symptom=other, weight=6)


def test_it_reuses_a_centre_of_excellence_artefact_by_reference(
    director: Any, org: Any, category: Category, service: Service
) -> None:
    coe = PMOFactory(organisation=org, name="CoE")
    template = services.artefact_create(
        actor=director.actor, name="Risk log", kind=ArtefactKind.TEMPLATE, owner_pmo=coe
    )
    assert last_entry(template).changes["owner_pmo"] == {"before": None, "after": "CoE"}
    other = new_service(director.actor, category, "OTHER")

    first = add(director.actor, service, "artefacts", artefact=template)
    second = add(director.actor, other, "artefacts", artefact=template, note="as is")

    assert first.artefact_id == second.artefact_id == template.pk
    assert template.uses.count() == 2
    with no_writes(), refused(INVALID, "artefact"):
        add(director.actor, service, "artefacts", artefact=template)


def test_it_keeps_a_services_own_artefact(director: Any, service: Service) -> None:
    own = services.artefact_create(
        actor=director.actor, name="Checklist", kind=ArtefactKind.DOCUMENT, owner_service=service
    )
    assert own.owner_service == service
    services.artefact_update(
        actor=director.actor, artefact=own, data={"url": "https://example.com/c"}
    )
    assert last_entry(own).changes == {"url": {"before": "", "after": "https://example.com/c"}}
    assert {row["name"]: row["owned"] for row in snapshots.build(service)["artefacts"]} == {
        "Checklist": True
    }


def test_it_refuses_an_artefact_without_an_owner_or_of_another_org(
    director: Any, other_org: Any
) -> None:
    with no_writes(), refused(INVALID, "owner_service"):
        services.artefact_create(actor=director.actor, name="Loose", kind=ArtefactKind.TOOL)
    theirs = PMOFactory(organisation=other_org)
    with no_writes(), refused(INVALID, "owner_pmo"):
        services.artefact_create(
            actor=director.actor, name="Theirs", kind=ArtefactKind.TOOL, owner_pmo=theirs
        )


def test_it_lets_an_owner_add_an_artefact_only_to_their_service(
    director: Any, staff: Any, category: Category, service: Service
) -> None:
    add(director.actor, service, "roles", person=link_person(staff), role="owner")
    other = new_service(director.actor, category, "OTHER")
    services.artefact_create(
        actor=staff.actor, name="Mine", kind=ArtefactKind.TOOL, owner_service=service
    )
    with no_writes(), refused(FORBIDDEN):
        services.artefact_create(
            actor=staff.actor, name="Theirs", kind=ArtefactKind.TOOL, owner_service=other
        )


# ---------------------------------------------------------------- rules across objects


def test_it_requires_an_inputs_supplier_to_be_of_the_same_service(
    director: Any, category: Category, service: Service
) -> None:
    own = add(director.actor, service, "suppliers", name="PM")
    other = new_service(director.actor, category, "OTHER")
    foreign = add(director.actor, other, "suppliers", name="Sponsor")

    with no_writes(), refused(INVALID, "supplier"):
        add(director.actor, service, "inputs", name="Plan", supplier=foreign)
    plan = add(director.actor, service, "inputs", name="Plan", supplier=own)
    with no_writes(plan), refused(INVALID, "supplier"):
        services.part_update(actor=director.actor, part=plan, data={"supplier": foreign})
    assert last_entry(plan).changes["supplier"] == {"before": None, "after": "PM"}


def test_it_refuses_an_archived_supplier_for_an_input(director: Any, service: Service) -> None:
    gone = add(director.actor, service, "suppliers", name="PM")
    services.part_archive(actor=director.actor, part=gone)
    with no_writes(), refused(INVALID, "supplier"):
        add(director.actor, service, "inputs", name="Plan", supplier=gone)


def test_it_refuses_an_input_from_an_output_of_its_own_service(
    director: Any, service: Service
) -> None:
    report = output_of(director.actor, service)
    with no_writes(), refused(INVALID, "source_output"):
        add(director.actor, service, "inputs", name="Loop", source_output=report)


def test_it_refuses_an_input_from_another_organisations_output(
    director: Any, outsider: Any, service: Service
) -> None:
    theirs = new_service(
        outsider.actor, services.category_create(actor=outsider.actor, name="X"), "X-1"
    )
    report = output_of(outsider.actor, theirs)
    with no_writes(), refused(INVALID, "source_output"):
        add(director.actor, service, "inputs", name="Stolen", source_output=report)


def test_it_refuses_archived_referenced_rows(
    director: Any, org: Any, category: Category, service: Service
) -> None:
    upstream = new_service(director.actor, category, "UP")
    report = output_of(director.actor, upstream)
    services.part_archive(actor=director.actor, part=report)
    with no_writes(), refused(INVALID, "source_output"):
        add(director.actor, service, "inputs", name="Findings", source_output=report)

    symptom = services.symptom_create(actor=director.actor, statement="Late")
    Symptom.objects.filter(pk=symptom.pk).update(archived_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    symptom.refresh_from_db()
    with no_writes(), refused(INVALID, "symptom"):
        add(director.actor, service, "symptoms", symptom=symptom)

    group = CustomerGroupFactory(
        organisation=org, archived_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    )
    with no_writes(), refused(INVALID, "customer_group"):
        add(director.actor, service, "customers", customer_group=group)
    with no_writes(), refused(INVALID, "customers"):
        add(director.actor, service, "outputs", name="Pack", customers=[group])


def test_it_refuses_to_archive_an_output_another_service_consumes(
    director: Any, service: Service, feed: ServiceInput
) -> None:
    report = ServiceOutput.objects.get(service=service)

    with no_writes(report), refused(CONFLICT):
        services.part_archive(actor=director.actor, part=report)

    services.part_archive(actor=director.actor, part=feed)
    services.part_archive(actor=director.actor, part=report)
    assert ServiceOutput.objects.get(pk=report.pk).is_archived


def test_it_links_an_input_to_another_services_output(service: Service, feed: ServiceInput) -> None:
    report = ServiceOutput.objects.get(service=service)
    assert list(report.consumers.all()) == [feed]
    assert last_entry(feed).changes["source_output"] == {"before": None, "after": "Report"}


# ---------------------------------------------------------------- publishing


def test_it_publishes_numbered_versions_holding_the_parts(
    director: Any, org: Any, service: Service
) -> None:
    add(director.actor, service, "levels", name="Light", price=Decimal("10"))
    add(director.actor, service, "steps", name="Review", performer="Lead")
    group = CustomerGroupFactory(organisation=org, name="Boards")
    add(director.actor, service, "outputs", name="Report", customers=[group])

    v1 = services.service_publish(actor=director.actor, service=service, note="First")

    assert v1.number == 1
    assert v1.published_by == director.user
    assert v1.note == "First"
    assert Service.objects.get(pk=service.pk).current_version == v1
    assert service.current_version == v1
    snap = ServiceVersion.objects.get(pk=v1.pk).snapshot
    assert snap["service"]["code"] == "GOV-1"
    assert snap["levels"] == [
        {"name": "Light", "description": "", "effort_hours": None, "price": "10.00"}
    ]
    assert [s["name"] for s in snap["steps"]] == ["Review"]
    assert snap["outputs"][0]["customers"] == ["Boards"]
    assert last_entry(service).changes == {"published version": {"before": None, "after": 1}}

    services.service_update(actor=director.actor, service=service, data={"summary": "New"})
    v2 = services.service_publish(actor=director.actor, service=service)
    assert v2.number == 2
    assert Service.objects.get(pk=service.pk).current_version == v2
    assert last_entry(service).changes == {"published version": {"before": 1, "after": 2}}


def test_it_refuses_to_publish_when_nothing_changed(director: Any, service: Service) -> None:
    services.service_publish(actor=director.actor, service=service)
    with no_writes(service), refused(CONFLICT):
        services.service_publish(actor=director.actor, service=service)
    assert service.versions.count() == 1


def test_it_publishes_again_after_a_part_changes(director: Any, service: Service) -> None:
    services.service_publish(actor=director.actor, service=service)
    add(director.actor, service, "governance", item="Policy")
    assert services.service_publish(actor=director.actor, service=service).number == 2


def test_it_refuses_to_publish_an_archived_service(director: Any, service: Service) -> None:
    services.service_archive(actor=director.actor, service=service)
    with no_writes(service), refused(CONFLICT):
        services.service_publish(actor=director.actor, service=service)


def test_it_keeps_a_published_snapshot_as_it_was(director: Any, service: Service) -> None:
    level = add(director.actor, service, "levels", name="Light")
    v1 = services.service_publish(actor=director.actor, service=service)
    before = ServiceVersion.objects.get(pk=v1.pk).snapshot

    services.service_update(actor=director.actor, service=service, data={"name": "Renamed"})
    services.part_update(actor=director.actor, part=level, data={"name": "Heavy"})
    add(director.actor, service, "steps", name="Review", performer="Lead")

    after = ServiceVersion.objects.get(pk=v1.pk).snapshot
    assert after == before
    assert after["service"]["name"] == "Health checks"
    assert [lv["name"] for lv in after["levels"]] == ["Light"]
    assert after["steps"] == []


def test_it_leaves_archived_parts_out_of_the_snapshot(director: Any, service: Service) -> None:
    step = add(director.actor, service, "steps", name="Review", performer="Lead")
    services.part_archive(actor=director.actor, part=step)
    assert snapshots.build(service)["steps"] == []


# ---------------------------------------------------------------- comparing snapshots


def test_it_compares_service_fields_and_rows_added_removed_and_changed(
    director: Any, org: Any, service: Service
) -> None:
    light = add(director.actor, service, "levels", name="Light", description="An hour")
    add(director.actor, service, "levels", name="Heavy")
    review = add(director.actor, service, "steps", name="Review", performer="Lead")
    old = snapshots.build(service)

    services.service_update(actor=director.actor, service=service, data={"name": "Checks"})
    services.part_update(actor=director.actor, part=light, data={"description": "Two hours"})
    services.part_archive(actor=director.actor, part=review)
    add(director.actor, service, "steps", name="Report", performer="Lead")
    group = CustomerGroupFactory(organisation=org, name="Boards")
    add(director.actor, service, "customers", customer_group=group)
    new = snapshots.build(service)

    diff = snapshots.compare(old, new)

    assert diff["fields"] == {"name": {"before": "Health checks", "after": "Checks"}}
    assert diff["parts"]["levels"] == {
        "added": [],
        "removed": [],
        "changed": [
            {"key": "Light", "fields": {"description": {"before": "An hour", "after": "Two hours"}}}
        ],
    }
    steps = diff["parts"]["steps"]
    assert [r["name"] for r in steps["added"]] == ["Report"]
    assert [r["name"] for r in steps["removed"]] == ["Review"]
    assert steps["changed"] == []
    assert diff["parts"]["customers"]["added"] == [{"customer_group": "Boards", "note": ""}]
    assert set(diff["parts"]) == {"levels", "steps", "customers"}


def test_it_compares_a_snapshot_with_itself_as_no_change(director: Any, service: Service) -> None:
    add(director.actor, service, "levels", name="Light")
    snap = snapshots.build(service)
    assert snapshots.compare(snap, snap) == {"fields": {}, "parts": {}}


def test_it_compares_against_an_empty_first_version(director: Any, service: Service) -> None:
    add(director.actor, service, "governance", item="Policy")
    diff = snapshots.compare({}, snapshots.build(service))
    assert diff["parts"]["governance"]["added"] == [{"item": "Policy", "in_place": False}]
    assert diff["fields"]["code"] == {"before": None, "after": "GOV-1"}


def test_it_keys_role_rows_by_role_person_and_pmo(
    director: Any, org: Any, service: Service
) -> None:
    person = PersonFactory(organisation=org, name="Ann", email="ann@acme.example")
    old = snapshots.build(service)
    add(director.actor, service, "roles", person=person, role="operative")
    diff = snapshots.compare(old, snapshots.build(service))
    assert diff["parts"]["roles"]["added"] == [
        {
            "key": "operative:ann@acme.example:",
            "role": "operative",
            "person": "Ann",
            "email": "ann@acme.example",
            "pmo": None,
        }
    ]


def test_it_builds_the_audit_trail_of_one_service_in_order(director: Any, service: Service) -> None:
    services.service_update(actor=director.actor, service=service, data={"summary": "One"})
    services.service_publish(actor=director.actor, service=service)
    services.service_archive(actor=director.actor, service=service)
    services.service_restore(actor=director.actor, service=service)
    assert [e.action for e in audit_entries(service)] == [
        "create",
        "update",
        "update",
        "archive",
        "restore",
    ]


# ------------------------------------------------------------ bugs found while writing these tests


def test_it_refuses_to_restore_a_manager_for_a_pmo_that_stopped_delivering(
    director: Any, org: Any, service: Service
) -> None:
    alpha = PMOFactory(organisation=org)
    services.service_update(
        actor=director.actor, service=service, data={"delivering_pmos": [alpha]}
    )
    manager = add(
        director.actor,
        service,
        "roles",
        person=PersonFactory(organisation=org),
        role="manager",
        pmo=alpha,
    )
    services.part_archive(actor=director.actor, part=manager)
    services.service_update(actor=director.actor, service=service, data={"delivering_pmos": []})

    with no_writes(manager), refused(INVALID, "pmo"):
        services.part_restore(actor=director.actor, part=manager)


def test_it_refuses_to_restore_an_input_from_an_archived_output(
    director: Any, category: Category, service: Service
) -> None:
    report = output_of(director.actor, service)
    consumer = new_service(director.actor, category, "REP-1")
    feed = add(director.actor, consumer, "inputs", name="Findings", source_output=report)
    services.part_archive(actor=director.actor, part=feed)
    services.part_archive(actor=director.actor, part=report)

    with no_writes(feed), refused(INVALID, "source_output"):
        services.part_restore(actor=director.actor, part=feed)


def test_it_refuses_to_restore_a_part_of_an_archived_service(
    director: Any, service: Service
) -> None:
    level = add(director.actor, service, "levels", name="Light")
    services.part_archive(actor=director.actor, part=level)
    services.service_archive(actor=director.actor, service=service)

    with no_writes(level), refused(CONFLICT):
        services.part_restore(actor=director.actor, part=level)


def test_it_forbids_a_pmo_manager_to_restore_an_owner(
    director: Any, pmo_manager: Any, org: Any, service: Service
) -> None:
    owner = add(
        director.actor, service, "roles", person=PersonFactory(organisation=org), role="owner"
    )
    services.part_archive(actor=director.actor, part=owner)

    with no_writes(owner), refused(FORBIDDEN):
        services.part_restore(actor=pmo_manager.actor, part=owner)


def test_it_forbids_staff_to_edit_or_move_an_artefact_of_a_service_they_do_not_run(
    director: Any, staff: Any, category: Category, service: Service
) -> None:
    add(director.actor, service, "roles", person=link_person(staff), role="owner")
    other = new_service(director.actor, category, "OTHER")
    theirs = services.artefact_create(
        actor=director.actor, name="Checklist", kind=ArtefactKind.DOCUMENT, owner_service=other
    )
    mine = services.artefact_create(
        actor=staff.actor, name="Mine", kind=ArtefactKind.DOCUMENT, owner_service=service
    )

    with no_writes(theirs), refused(FORBIDDEN):
        services.artefact_update(actor=staff.actor, artefact=theirs, data={"name": "Hijacked"})
    with no_writes(mine), refused(FORBIDDEN):
        services.artefact_update(actor=staff.actor, artefact=mine, data={"owner_service": other})


def test_it_leaves_the_callers_data_untouched(director: Any, org: Any, service: Service) -> None:
    data = {"summary": "New", "delivering_pmos": [PMOFactory(organisation=org)]}
    services.service_update(actor=director.actor, service=service, data=data)
    assert "delivering_pmos" in data
