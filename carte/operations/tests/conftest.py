"""A running service and the people around it, for every operations test.

`ops` holds the organisation's Director, a PMO Manager, the service's Owner, Manager and
Operative (each a person with a login and their service role), a staff member with no
role on the service, a customer in a customer group that uses the service, a viewer, and
an outsider from another organisation; a running, published service with a service level,
and a second running service the Owner and Manager have nothing to do with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service, ServiceLevel
from carte.catalogue.services import service_publish
from carte.catalogue.tests.factories import (
    CategoryFactory,
    ServiceCustomerFactory,
    ServiceFactory,
    ServiceLevelFactory,
    ServiceRoleFactory,
)
from carte.conftest import Persona, make_persona
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, CustomerGroup, Organisation, Person
from carte.organisations.tests.factories import CustomerGroupFactory, PersonFactory, PMOFactory


@dataclass
class Ops:
    org: Organisation
    pmo: PMO
    group: CustomerGroup
    service: Service
    other_service: Service
    level: ServiceLevel
    director: Persona
    pmo_manager: Persona
    owner: Persona
    manager: Persona
    operative: Persona
    staff: Persona
    customer: Persona
    viewer: Persona
    outsider: Persona
    owner_person: Person
    manager_person: Person
    operative_person: Person
    customer_person: Person

    @property
    def system(self) -> Actor:
        return Actor.for_system(self.org)


def _person(org: Organisation, persona: Persona, name: str, **extra: Any) -> Person:
    person: Person = PersonFactory(organisation=org, name=name, user=persona.user, **extra)
    return person


@pytest.fixture
def ops(org: Organisation, persona: Any, outsider: Persona) -> Ops:
    pmo = PMOFactory(organisation=org, name="Group PMO")
    group = CustomerGroupFactory(organisation=org, name="Finance programmes")
    category = CategoryFactory(organisation=org, name="Reporting")
    service = ServiceFactory(
        organisation=org,
        category=category,
        code="REP",
        name="Portfolio reporting",
        stage=Stage.RUNNING,
    )
    service.delivering_pmos.add(pmo)
    other = ServiceFactory(
        organisation=org,
        category=category,
        code="GOV",
        name="Stage-gate reviews",
        stage=Stage.RUNNING,
    )
    level = ServiceLevelFactory(service=service, name="Standard")
    ServiceCustomerFactory(service=service, customer_group=group)
    owner = make_persona(org, [OrgRole.STAFF], "owner@acme.example")
    manager = make_persona(org, [OrgRole.STAFF], "manager@acme.example")
    operative = make_persona(org, [OrgRole.STAFF], "operative@acme.example")
    customer = make_persona(org, [OrgRole.CUSTOMER], "customer@acme.example")
    owner_person = _person(org, owner, "Olive Owner", pmo=pmo)
    manager_person = _person(org, manager, "Manu Manager", pmo=pmo)
    operative_person = _person(org, operative, "Opal Operative", pmo=pmo)
    customer_person = _person(org, customer, "Cass Customer", customer_group=group)
    ServiceRoleFactory(service=service, person=owner_person, role=ServiceRoleKind.OWNER)
    ServiceRoleFactory(
        service=service, person=manager_person, role=ServiceRoleKind.MANAGER, pmo=pmo
    )
    ServiceRoleFactory(service=service, person=operative_person, role=ServiceRoleKind.OPERATIVE)
    system = Actor.for_system(org)
    service_publish(actor=system, service=service, note="Live.")
    service_publish(actor=system, service=other, note="Live.")
    return Ops(
        org=org,
        pmo=pmo,
        group=group,
        service=service,
        other_service=other,
        level=level,
        director=persona(OrgRole.DIRECTOR),
        pmo_manager=persona(OrgRole.PMO_MANAGER),
        owner=owner,
        manager=manager,
        operative=operative,
        staff=persona(OrgRole.STAFF),
        customer=customer,
        viewer=persona(OrgRole.VIEWER),
        outsider=outsider,
        owner_person=owner_person,
        manager_person=manager_person,
        operative_person=operative_person,
        customer_person=customer_person,
    )
