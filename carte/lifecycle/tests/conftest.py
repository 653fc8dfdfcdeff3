"""A small organisation in which a service can be taken through its whole life.

`world` holds the people (a Director, the Owner and a Service Manager who log in, a PMO
Manager, staff, a customer), a delivering PMO, a Centre of Excellence with task-list
templates, a customer group and a proposed service. `world.walk(stage)` takes the
service there through the real transitions, so tests of later stages start from what the
earlier moves actually leave behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from carte.catalogue.choices import ArtefactKind, Scope, Stage, SupplierKind
from carte.catalogue.models import Artefact, Service, Supplier
from carte.catalogue.tests.factories import (
    ArtefactFactory,
    CategoryFactory,
    ProcessStepFactory,
    ServiceCustomerFactory,
    ServiceFactory,
    ServiceInputFactory,
    ServiceOutputFactory,
    SupplierFactory,
)
from carte.conftest import Persona, make_persona
from carte.lifecycle import services
from carte.lifecycle.choices import READINESS_QUESTIONS, Answer, CriterionResultKind
from carte.lifecycle.models import LifecycleEvent, SuccessCriterion, TemplateTask
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import PMO, CustomerGroup, Organisation, Person
from carte.organisations.tests.factories import CustomerGroupFactory, PersonFactory, PMOFactory

ORDER = [
    Stage.PROPOSED,
    Stage.APPROVED_FOR_SETUP,
    Stage.DESIGN,
    Stage.PILOT,
    Stage.SIGNED_OFF,
    Stage.TRANSITION,
    Stage.RUNNING,
    Stage.CLOSING,
    Stage.CLOSED,
]


@dataclass
class World:
    org: Organisation
    director: Persona
    owner: Persona
    manager: Persona
    pmo_manager: Persona
    staff: Persona
    customer: Persona
    owner_person: Person
    manager_person: Person
    operative: Person
    pmo: PMO
    coe: PMO
    group: CustomerGroup
    setup_template: Artefact
    closure_template: Artefact
    service: Service
    supplier: Supplier | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def decision(self, **overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "delivering_pmos": [self.pmo],
            "owner": self.owner_person,
            "managers": {self.pmo: self.manager_person},
            "sourcing": "in_house",
            "strategy_fit": "Supports objective 2 of the service strategy.",
            "capacity": "Two analysts free from March.",
            "other_services": "The PMO also runs reporting and gate reviews.",
            "stakeholders": "Programme directors asked for it.",
            "scope": "All programmes over 1 M EUR.",
        }
        data.update(overrides)
        return data

    def design_ready(self) -> SuccessCriterion:
        """What the design stage must produce before a pilot: SIPOC, a procedure, an agreed
        criterion, a set-up task list."""
        service = self.service
        self.supplier = SupplierFactory(service=service, kind=SupplierKind.ROLE, name="PM")
        ServiceInputFactory(service=service, supplier=self.supplier)
        ProcessStepFactory(service=service)
        ServiceOutputFactory(service=service)
        ServiceCustomerFactory(service=service, customer_group=self.group)
        ArtefactFactory(organisation=self.org, owner_service=service, kind=ArtefactKind.PROCEDURE)
        services.task_list_create(
            actor=self.manager.actor,
            service=service,
            purpose="setup",
            template=self.setup_template,
        )
        return services.criterion_create(
            actor=self.manager.actor,
            service=service,
            description="Status reports are on time for 4 of 5 programmes",
            agreed_with_groups=[self.group],
        )

    def pilot_payload(self) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "starts_on": today,
            "ends_on": today + dt.timedelta(days=30),
            "suppliers": [self.supplier] if self.supplier else [],
            "customers": [self.group],
            "operatives": [self.operative],
        }

    def record_pilot(self, result: str = CriterionResultKind.MET, **confirm: bool) -> None:
        services.pilot_result_record(
            actor=self.manager.actor,
            service=self.service,
            results=[
                services.CriterionOutcome(c, result, "Seen in the pilot's reports")
                for c in SuccessCriterion.objects.filter(service=self.service, archived_at=None)
            ],
            governance_in_place=confirm.get("governance", True),
            resources_confirmed=confirm.get("resources", True),
            outcomes_validated=confirm.get("outcomes", True),
            note="Pilot went as planned.",
        )

    def assess(self, verdict: str = "ready") -> None:
        services.readiness_record(
            actor=self.manager.actor,
            service=self.service,
            assessor=self.manager_person,
            assessed_on=timezone.localdate(),
            answers=[services.ReadinessItem(q, Answer.YES) for q in READINESS_QUESTIONS],
            verdict=verdict,
        )

    def plan_payload(self) -> dict[str, Any]:
        today = timezone.localdate()
        return {
            "approach": "phased",
            "behavioural_change": "Coaching for programme managers in the first month.",
            "phases": [
                {
                    "name": "Finance programmes",
                    "starts_on": today,
                    "ends_on": today + dt.timedelta(days=14),
                    "customer_groups": [self.group],
                },
                {
                    "name": "Everyone else",
                    "starts_on": today + dt.timedelta(days=15),
                    "ends_on": today + dt.timedelta(days=45),
                },
            ],
        }

    def move(self, to: str, actor: Persona | None = None, **payload: Any) -> LifecycleEvent:
        return services.transition(
            actor=(actor or self.manager).actor, service=self.service, to=to, **payload
        )

    def transition_again(self) -> None:
        """From closed, a second life up to transition: the service then has two plans."""
        self.move(Stage.DESIGN, self.owner, note="Demand is back.")
        self.move(Stage.PILOT, **self.pilot_payload())
        self.record_pilot()
        self.move(Stage.SIGNED_OFF, self.owner)
        self.assess()
        self.move(Stage.TRANSITION, **self.plan_payload())

    def walk(self, stage: str) -> None:
        """Take the service from where it is to `stage` along the main path."""
        while self.service.stage != stage:
            current = self.service.stage
            if current == Stage.PROPOSED:
                self.move(Stage.APPROVED_FOR_SETUP, self.director, **self.decision())
            elif current == Stage.APPROVED_FOR_SETUP:
                self.move(Stage.DESIGN)
            elif current == Stage.DESIGN:
                self.design_ready()
                self.move(Stage.PILOT, **self.pilot_payload())
            elif current == Stage.PILOT:
                self.record_pilot()
                self.move(Stage.SIGNED_OFF, self.owner)
            elif current == Stage.SIGNED_OFF:
                self.assess()
                self.move(Stage.TRANSITION, **self.plan_payload())
            elif current == Stage.TRANSITION:
                plan = self.service.transition_plans.get()
                for phase in plan.phases.all():
                    services.phase_update(
                        actor=self.manager.actor, phase=phase, data={"done": True}
                    )
                self.move(Stage.RUNNING)
            elif current == Stage.RUNNING:
                self.move(
                    Stage.CLOSING,
                    self.owner,
                    reason="objective_achieved",
                    explanation="Every programme now reports on its own.",
                    template=self.closure_template,
                )
            elif current == Stage.CLOSING:
                closure = self.service.closures.get(approved_at=None)
                for artefact in Artefact.objects.filter(
                    owner_service=self.service, archived_at=None
                ):
                    services.artefact_decide(
                        actor=self.manager.actor,
                        service=self.service,
                        artefact=artefact,
                        fate="keep",
                        note="Useful if the service comes back.",
                    )
                assert closure.pk
                self.move(Stage.CLOSED, self.owner, approve=True)
            else:  # pragma: no cover - a test asked for a stage off the main path
                raise AssertionError(f"walk() cannot go from {current} to {stage}")


def _template(org: Organisation, coe: PMO, name: str, tasks: list[str]) -> Artefact:
    template = ArtefactFactory(
        organisation=org, owner_service=None, owner_pmo=coe, name=name, kind="template"
    )
    for i, title in enumerate(tasks, start=1):
        TemplateTask.objects.create(
            organisation=org, template=template, title=title, due_after_days=7 * i, position=i
        )
    return template


@pytest.fixture
def world(org: Organisation, persona: Any) -> World:
    pmo = PMOFactory(organisation=org, name="Group PMO")
    coe = PMOFactory(
        organisation=org, name="Centre of Excellence", kind=PMOKind.CENTRE_OF_EXCELLENCE
    )
    owner = make_persona(org, [OrgRole.STAFF], "owner@acme.example")
    manager = make_persona(org, [OrgRole.STAFF], "manager@acme.example")
    owner_person = PersonFactory(organisation=org, name="Olive Owner", user=owner.user, pmo=pmo)
    manager_person = PersonFactory(
        organisation=org, name="Manu Manager", user=manager.user, pmo=pmo
    )
    category = CategoryFactory(organisation=org, name="Reporting")
    service = ServiceFactory(
        organisation=org,
        category=category,
        code="REP",
        name="Portfolio reporting",
        outcome="Leaders see every programme's status monthly.",
        scopes=[Scope.PORTFOLIO],
    )
    return World(
        org=org,
        director=persona(OrgRole.DIRECTOR),
        owner=owner,
        manager=manager,
        pmo_manager=persona(OrgRole.PMO_MANAGER),
        staff=persona(OrgRole.STAFF),
        customer=persona(OrgRole.CUSTOMER),
        owner_person=owner_person,
        manager_person=manager_person,
        operative=PersonFactory(organisation=org, name="Opal Operative", pmo=pmo),
        pmo=pmo,
        coe=coe,
        group=CustomerGroupFactory(organisation=org, name="Finance programmes"),
        setup_template=_template(
            org,
            coe,
            "Service set-up plan",
            ["Write procedures", "Train operatives", "Brief customers"],
        ),
        closure_template=_template(
            org, coe, "Service closure plan", ["Tell customers", "Hand over open work"]
        ),
        service=service,
    )
