"""The people around two running services, for the tests of people's capacity records.

`build()` makes, in the organisation under test: a PMO Director and a PMO Manager (each
with a person), the Manager of service REP (a staff login), Alice (staff, allocated to
REP), Bob (staff, allocated only to GOV, which the Manager has nothing to do with), a
customer and a viewer (each with a person), and the outsider's organisation with a
person, a competence and a service of its own. REP needs Planning (level 3, 1 FTE) and
Risk (level 2, 0.5 FTE); Finance is a competence it does not need.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from carte.capacity.choices import AllocationKind
from carte.capacity.models import Allocation
from carte.capacity.tests.factories import AllocationFactory, CompetenceFactory
from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import (
    CompetenceNeedFactory,
    ServiceFactory,
    ServiceRoleFactory,
)
from carte.conftest import Persona, make_persona
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import PMO, Competence, Organisation, Person
from carte.organisations.tests.factories import PersonFactory, PMOFactory

JAN = dt.date(2027, 1, 1)
JUN = dt.date(2027, 6, 1)


@dataclass
class Cap:
    org: Organisation
    other_org: Organisation
    pmo: PMO
    rep: Service
    gov: Service
    planning: Competence
    risk: Competence
    finance: Competence
    director: Persona
    pmo_manager: Persona
    manager: Persona
    alice: Persona
    bob: Persona
    customer: Persona
    viewer: Persona
    outsider: Persona
    director_person: Person
    pmo_manager_person: Person
    manager_person: Person
    alice_person: Person
    bob_person: Person
    customer_person: Person
    viewer_person: Person
    alice_on_rep: Allocation
    bob_on_gov: Allocation
    their_person: Person
    their_competence: Competence
    their_service: Service

    @property
    def system(self) -> Actor:
        return Actor.for_system(self.org)

    def personas(self) -> dict[str, Persona]:
        return {
            "director": self.director,
            "pmo_manager": self.pmo_manager,
            "manager": self.manager,
            "alice": self.alice,
            "bob": self.bob,
            "customer": self.customer,
            "viewer": self.viewer,
        }


def _person(org: Organisation, persona: Persona, name: str, **extra: Any) -> Person:
    person: Person = PersonFactory(organisation=org, name=name, user=persona.user, **extra)
    return person


def build(org: Organisation, other_org: Organisation, outsider: Persona) -> Cap:
    pmo = PMOFactory(organisation=org, name="Group PMO")
    rep = ServiceFactory(organisation=org, code="REP", name="Reporting", stage=Stage.RUNNING)
    gov = ServiceFactory(organisation=org, code="GOV", name="Governance", stage=Stage.RUNNING)
    planning = CompetenceFactory(organisation=org, name="Planning")
    risk = CompetenceFactory(organisation=org, name="Risk management")
    finance = CompetenceFactory(organisation=org, name="Financial analysis")
    CompetenceNeedFactory(service=rep, competence=planning, level=3, fte=Decimal("1.00"))
    CompetenceNeedFactory(service=rep, competence=risk, level=2, fte=Decimal("0.50"))
    CompetenceNeedFactory(service=gov, competence=finance, level=2, fte=Decimal("1.00"))
    director = make_persona(org, [OrgRole.DIRECTOR], "director@acme.example")
    pmo_manager = make_persona(org, [OrgRole.PMO_MANAGER], "pmo@acme.example")
    manager = make_persona(org, [OrgRole.STAFF], "manager@acme.example")
    alice = make_persona(org, [OrgRole.STAFF], "alice@acme.example")
    bob = make_persona(org, [OrgRole.STAFF], "bob@acme.example")
    customer = make_persona(org, [OrgRole.CUSTOMER], "customer@acme.example")
    viewer = make_persona(org, [OrgRole.VIEWER], "viewer@acme.example")
    manager_person = _person(org, manager, "Manu Manager", pmo=pmo)
    ServiceRoleFactory(service=rep, person=manager_person, role=ServiceRoleKind.MANAGER, pmo=pmo)
    alice_person = _person(org, alice, "Alice Analyst", pmo=pmo)
    bob_person = _person(org, bob, "Bob Builder", pmo=pmo)
    alice_on_rep = AllocationFactory(
        person=alice_person,
        kind=AllocationKind.SERVICE,
        service=rep,
        work="",
        competence=planning,
        fte=Decimal("0.50"),
        starts_on=JAN,
        ends_on=JUN,
    )
    bob_on_gov = AllocationFactory(
        person=bob_person,
        kind=AllocationKind.SERVICE,
        service=gov,
        work="",
        competence=finance,
        fte=Decimal("0.50"),
        starts_on=JAN,
        ends_on=JUN,
    )
    return Cap(
        org=org,
        other_org=other_org,
        pmo=pmo,
        rep=rep,
        gov=gov,
        planning=planning,
        risk=risk,
        finance=finance,
        director=director,
        pmo_manager=pmo_manager,
        manager=manager,
        alice=alice,
        bob=bob,
        customer=customer,
        viewer=viewer,
        outsider=outsider,
        director_person=_person(org, director, "Dana Director", pmo=pmo),
        pmo_manager_person=_person(org, pmo_manager, "Pat PMO", pmo=pmo),
        manager_person=manager_person,
        alice_person=alice_person,
        bob_person=bob_person,
        customer_person=_person(org, customer, "Cass Customer"),
        viewer_person=_person(org, viewer, "Vic Viewer"),
        alice_on_rep=alice_on_rep,
        bob_on_gov=bob_on_gov,
        their_person=PersonFactory(organisation=other_org, name="Gus Globex"),
        their_competence=CompetenceFactory(organisation=other_org, name="Planning"),
        their_service=ServiceFactory(
            organisation=other_org, code="GLX", name="Globex service", stage=Stage.RUNNING
        ),
    )
