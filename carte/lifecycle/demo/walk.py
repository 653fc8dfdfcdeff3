"""How the lifecycle demo walks a service: who acts (`Cast`), and `Walk`, which takes one
service along the main path a dated step at a time, through the lifecycle's services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from carte.catalogue import services as catalogue
from carte.catalogue.choices import ArtefactKind, ServiceRoleKind, Stage, SupplierKind
from carte.catalogue.models import Artefact, Service
from carte.lifecycle import services
from carte.lifecycle.choices import READINESS_QUESTIONS, Answer, CriterionResultKind, TaskStatus
from carte.lifecycle.models import SuccessCriterion, Task, TaskList
from carte.organisations.actor import Actor
from carte.organisations.choices import PMOKind
from carte.organisations.models import PMO, CustomerGroup, Person, User

DAY = dt.timedelta(days=1)
PHASE_DAYS = 21  # a transition phase, at a walk's own pace
SETUP_TASKS = (
    ("Agree success criteria with pilot customers", 7),
    ("Write the procedures and work instructions", 21),
    ("Set up tools, access and templates", 28),
    ("Train the operatives", 35),
    ("Brief customers and stakeholders", 42),
)
CLOSURE_TASKS = (
    ("Tell customers and agree hand-over dates", 7),
    ("Finish or hand over open work", 21),
    ("Review every artefact: keep, archive or discard", 28),
    ("Release the people and close the budget line", 35),
)


@dataclass
class Cast:
    """Who acts in an organisation's demo lifecycle: the Director decides, a PMO
    Manager runs set-up steps where the service's own manager has no login."""

    director: Actor
    runner: Actor
    templates: tuple[Artefact | None, Artefact | None]
    org_actor: Actor

    def person_actor(self, person: Person | None, fallback: Actor) -> Actor:
        if person is not None and person.user_id is not None:
            return Actor.for_system(self.org_actor.organisation, person.user)
        return fallback


def _user(actor: Actor, local: str) -> User | None:
    domain = f"{actor.organisation.slug}.example"
    return User.objects.filter(email=f"{local}@{domain}").first()


def cast_for(actor: Actor) -> Cast:
    org = actor.organisation
    coe = PMO.objects.filter(organisation=org, kind=PMOKind.CENTRE_OF_EXCELLENCE).first()
    templates: tuple[Artefact | None, Artefact | None] = (None, None)
    if coe is not None:
        made = []
        for name, tasks, path in (
            ("Service set-up plan", SETUP_TASKS, "templates/service-setup-plan"),
            ("Service closure plan", CLOSURE_TASKS, "templates/service-closure-plan"),
        ):
            template = catalogue.artefact_create(
                actor=actor,
                name=name,
                kind=ArtefactKind.TEMPLATE,
                owner_pmo=coe,
                description="The Centre of Excellence's standard task list.",
                url=f"https://intranet.{org.slug}.example/pmo/{path}",
            )
            for position, (title, days) in enumerate(tasks, start=1):
                services.template_task_create(
                    actor=actor,
                    template=template,
                    data={"title": title, "due_after_days": days, "position": position},
                )
            made.append(template)
        templates = (made[0], made[1])
    director = Actor.for_system(org, _user(actor, "director"))
    return Cast(
        director=director,
        runner=Actor.for_system(org, _user(actor, "pmo_manager")),
        templates=templates,
        org_actor=actor,
    )


def _role(service: Service, kind: str) -> Person | None:
    role = (
        service.roles.filter(role=kind, archived_at__isnull=True)
        .select_related("person")
        .order_by("id")
        .first()
    )
    return role.person if role else None


def _groups(service: Service) -> list[CustomerGroup]:
    groups = [
        c.customer_group
        for c in service.customers.filter(archived_at__isnull=True).select_related("customer_group")
        if c.customer_group is not None
    ]
    return groups or list(CustomerGroup.objects.filter(organisation=service.organisation)[:2])


def _ensure_procedure(actor: Actor, service: Service) -> None:
    has = (
        Artefact.objects.filter(owner_service=service, kind=ArtefactKind.PROCEDURE).exists()
        or service.artefact_links.filter(artefact__kind=ArtefactKind.PROCEDURE).exists()
    )
    if not has:
        slug = service.code.lower()
        catalogue.artefact_create(
            actor=actor,
            name=f"{service.name}: procedure",
            kind=ArtefactKind.PROCEDURE,
            owner_service=service,
            description="How the service is delivered, step by step.",
            url=f"https://intranet.{service.organisation.slug}.example/pmo/procedures/{slug}",
        )


def _ensure_sipoc(actor: Actor, service: Service, group: CustomerGroup) -> None:
    """A small SIPOC for services the catalogue demo does not describe (new proposals)."""
    if service.steps.exists():
        return

    def add(part: str, /, **data: object) -> object:
        return catalogue.part_create(actor=actor, service=service, kind=part, data=data)

    supplier = add("suppliers", kind=SupplierKind.ROLE, name="Project managers", position=1)
    add(
        "inputs",
        name="Request from a project",
        quality_criteria="Names the project and what is needed.",
        is_trigger=True,
        supplier=supplier,
        position=1,
    )
    add("steps", name="Triage the request", performer="Service Manager", position=1)
    add("steps", name="Deliver and follow up", performer="Service Operative", position=2)
    add(
        "outputs",
        name="Support delivered",
        quality_criteria="Within five working days.",
        customers=[group],
        position=1,
    )
    add("customers", customer_group=group)


class Walk:
    """Takes one service along the main path, a dated step at a time."""

    def __init__(self, cast: Cast, service: Service, start: dt.datetime, pace: float = 1.0) -> None:
        self.cast = cast
        self.service = service
        self.clock = start
        self.pace = pace  # below 1: the same steps in less time
        self.owner = _role(service, ServiceRoleKind.OWNER)
        self.manager = _role(service, ServiceRoleKind.MANAGER)
        self.operatives = [
            r.person
            for r in service.roles.filter(
                role=ServiceRoleKind.OPERATIVE, archived_at__isnull=True
            ).select_related("person")
        ] or [p for p in (self.manager,) if p is not None]
        self.owner_actor = cast.person_actor(self.owner, cast.director)
        self.manager_actor = cast.person_actor(self.manager, cast.runner)
        self.groups = _groups(service)

    def later(self, days: float) -> dt.datetime:
        """Move the walk's clock on `days` at its pace, never past the present."""
        return self.after(days * self.pace * DAY)

    def after(self, delta: dt.timedelta) -> dt.datetime:
        """Move the walk's clock on by `delta`, never past the present."""
        self.clock = min(self.clock + delta, timezone.now() - dt.timedelta(hours=1))
        return self.clock

    def span(self, days: int) -> dt.timedelta:
        """A stretch of the plan (a pilot, a transition phase) at the walk's pace."""
        return max(int(days * self.pace), 1) * DAY

    def move(self, to: str, actor: Actor, days: float, note: str = "", **payload: Any) -> None:
        with services.as_of(self.later(days)):
            services.transition(actor=actor, service=self.service, to=to, note=note, **payload)

    def decide(self) -> None:
        service = self.service
        pmos = list(service.delivering_pmos.all())
        managers = {
            r.pmo: r.person
            for r in service.roles.filter(
                role=ServiceRoleKind.MANAGER, archived_at__isnull=True
            ).select_related("pmo", "person")
            if r.pmo is not None
        }
        assert self.owner is not None, f"{service.code} has no Owner in the demo catalogue"
        names = ", ".join(p.name for p in pmos)
        outsourced = service.delivery_mode != "in_house"
        self.move(
            Stage.APPROVED_FOR_SETUP,
            self.cast.director,
            0,
            note="Agreed at the PMO leadership meeting.",
            delivering_pmos=pmos,
            owner=self.owner,
            managers=managers,
            sourcing="outsource_part" if outsourced else "in_house",
            provider_name=service.provider_name,
            strategy_fit=f"{service.name} serves the strategy's aim: {service.outcome[:200]}",
            capacity=f"{names} can staff it from existing capacity, with coaching in year one.",
            other_services=f"It shares people and templates with the other services of {names}.",
            stakeholders="Sponsors and project managers asked for it in the last demand review.",
            scope=service.get_scopes_display() or "As described on the card.",
        )

    def design(self) -> None:
        service = self.service
        self.move(
            Stage.DESIGN,
            self.manager_actor,
            5,
            note="Set-up project kicked off.",
            template=self.cast.templates[0],
        )
        with services.as_of(self.later(3)):
            if self.cast.templates[0] is None:
                services.task_list_create(
                    actor=self.manager_actor, service=service, purpose="setup"
                )
                task_list = TaskList.objects.filter(service=service).latest("id")
                for title, days in SETUP_TASKS[:3]:
                    services.task_create(
                        actor=self.manager_actor,
                        task_list=task_list,
                        data={"title": title, "due_on": services.today() + days * DAY},
                    )
            # The Service Manager runs the set-up: its tasks are theirs (My work lists them).
            if self.manager is not None:
                for task in Task.objects.filter(
                    task_list__service=service, assignee__isnull=True, archived_at=None
                ).select_related("task_list__service"):
                    services.task_update(
                        actor=self.manager_actor, task=task, data={"assignee": self.manager}
                    )
            _ensure_sipoc(self.cast.org_actor, service, self.groups[0])
            _ensure_procedure(self.cast.org_actor, service)
            output = service.outputs.filter(archived_at__isnull=True).order_by("position").first()
            services.criterion_create(
                actor=self.manager_actor,
                service=service,
                description=f"{output.name if output else 'Each output'} meets its quality "
                "criteria for every pilot customer"[:300],
                measure=(output.quality_criteria if output else "")[:300],
                agreed_with_groups=self.groups,
            )
            services.criterion_create(
                actor=self.manager_actor,
                service=service,
                description="Pilot customers rate the service 4 out of 5 or better",
                measure="Short survey at the end of the pilot.",
                agreed_with_groups=self.groups[:1],
            )

    def tasks_done(self, purpose: str, upto: int | None = None) -> None:
        """Tick off the first `upto` tasks of a list, as of the walk's clock."""
        tasks = Task.objects.filter(
            task_list__service=self.service, task_list__purpose=purpose, archived_at=None
        ).order_by("position", "id")
        with services.as_of(self.clock):
            for task in list(tasks)[:upto]:
                services.task_update(
                    actor=self.manager_actor, task=task, data={"status": TaskStatus.DONE}
                )

    def pilot(self, days: float = 30, length: int = 28) -> None:
        """Start a pilot `days` on; it runs from the next day for `length` days, so a
        result recorded 35 days after the move (`result`) comes once it has ended."""
        suppliers = list(self.service.suppliers.filter(archived_at__isnull=True)[:2])
        moment = self.later(days)
        start = timezone.localdate(moment) + DAY
        with services.as_of(moment):
            services.transition(
                actor=self.manager_actor,
                service=self.service,
                to=Stage.PILOT,
                note="Pilot with two customer groups.",
                starts_on=start,
                ends_on=start + self.span(length),
                suppliers=suppliers,
                customers=self.groups,
                operatives=self.operatives,
            )

    def result(self, unmet: int = 0, days: int = 35, note: str = "") -> None:
        criteria = list(SuccessCriterion.objects.filter(service=self.service, archived_at=None))
        outcomes = []
        for index, criterion in enumerate(criteria):
            met = index < len(criteria) - unmet
            outcomes.append(
                services.CriterionOutcome(
                    criterion,
                    CriterionResultKind.MET if met else CriterionResultKind.NOT_MET,
                    "Survey: 4.4 of 5 on average" if met else "Survey: 3.6 of 5 on average",
                )
            )
        with services.as_of(self.later(days)):
            services.pilot_result_record(
                actor=self.manager_actor,
                service=self.service,
                results=outcomes,
                governance_in_place=True,
                resources_confirmed=True,
                outcomes_validated=not unmet,
                note=note or "Pilot customers used every output; the steering group was briefed.",
            )

    def sign_off(self) -> None:
        self.tasks_done("setup")
        self.move(
            Stage.SIGNED_OFF,
            self.owner_actor,
            5,
            note="Signed off after the pilot review with the pilot customers.",
        )

    def assess(self, ready: bool = True, days: int = 7) -> None:
        answers = [
            services.ReadinessItem(q, Answer.YES if ready or i != 3 else Answer.NO)
            for i, q in enumerate(READINESS_QUESTIONS)
        ]
        assessor = self.manager or self.owner
        assert assessor is not None
        with services.as_of(self.later(days)):
            services.readiness_record(
                actor=self.manager_actor,
                service=self.service,
                assessor=assessor,
                assessed_on=services.today(),
                answers=answers,
                verdict="ready" if ready else "not_ready",
                note="" if ready else "Tool access for the operatives is not granted yet.",
            )

    def transition(self, phased: bool = True) -> None:
        """Start the transition 3 days on, its phases back to back from that day (21 days
        each at the walk's pace), each done on its last day (`phases_done`)."""
        moment = self.later(3)
        today = timezone.localdate(moment)
        phase = self.span(PHASE_DAYS)
        groups = self.groups
        phases: list[dict[str, object]]
        if phased and len(groups) > 1:
            phases = [
                {
                    "name": f"Phase {i}: {group.name}",
                    "starts_on": today + (i - 1) * phase,
                    "ends_on": today + i * phase,
                    "customer_groups": [group],
                }
                for i, group in enumerate(groups[:3], start=1)
            ]
        else:
            phased = False
            phases = [
                {
                    "name": "Go-live",
                    "starts_on": today + phase,
                    "ends_on": today + phase,
                    "customer_groups": groups,
                }
            ]
        with services.as_of(moment):
            services.transition(
                actor=self.manager_actor,
                service=self.service,
                to=Stage.TRANSITION,
                approach="phased" if phased else "big_bang",
                behavioural_change="Launch briefings, a named contact per customer group, "
                "and coaching for the first month.",
                phases=phases,
            )

    def phases_done(self, upto: int | None = None) -> None:
        plan = self.service.transition_plans.latest("id")
        for phase in list(plan.phases.order_by("position"))[:upto]:
            with services.as_of(self.after(self.span(PHASE_DAYS))):
                services.phase_update(actor=self.manager_actor, phase=phase, data={"done": True})

    def go_live(self) -> None:
        self.phases_done()
        self.move(Stage.RUNNING, self.manager_actor, 1, note="Live for every customer group.")

    def to_running(self) -> None:
        self.decide()
        self.design()
        self.pilot()
        self.result()
        self.sign_off()
        self.assess()
        self.transition()
        self.go_live()

    def start_closure(self, reason: str, explanation: str, **extra: Any) -> None:
        self.move(
            Stage.CLOSING,
            self.owner_actor,
            30,
            explanation=explanation,
            reason=reason,
            change_notes="Customers were told at the quarterly service review; "
            "the operatives move to other services.",
            template=self.cast.templates[1],
            **extra,
        )

    def decide_artefacts(self, fates: dict[str, str], days: int = 14) -> None:
        with services.as_of(self.later(days)):
            for artefact in Artefact.objects.filter(
                owner_service=self.service, archived_at__isnull=True
            ).order_by("id"):
                fate = fates.get(artefact.name) or fates.get("*")
                if fate is None:
                    continue
                services.artefact_decide(
                    actor=self.manager_actor,
                    service=self.service,
                    artefact=artefact,
                    fate=fate,
                    note={
                        "keep": "Worth keeping should the service come back.",
                        "archive": "Out of date, kept on record only.",
                        "discard": "Superseded; no one should use it.",
                    }[fate],
                )
