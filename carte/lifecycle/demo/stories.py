"""The stories of the lifecycle demo: one per stage a demo service stops at, and
Northwind's proposals deferred and rejected and its temporary service past its end date."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from carte.catalogue import services as catalogue
from carte.catalogue.choices import Stage
from carte.catalogue.models import Category, Service
from carte.lifecycle import services
from carte.lifecycle.demo.walk import DAY, Cast, Walk
from carte.organisations.actor import Actor
from carte.organisations.choices import PMOKind
from carte.organisations.models import PMO, Person


def _new_proposal(
    actor: Actor, code: str, name: str, category: Category, pmo: PMO, summary: str
) -> Service:
    return catalogue.service_create(
        actor=actor,
        code=code,
        name=name,
        category=category,
        summary=summary,
        outcome=summary,
        scopes=["portfolio"],
        delivering_pmos=[pmo],
    )


def _appoint(actor: Actor, service: Service, owner: Person, manager: Person, pmo: PMO) -> None:
    catalogue.part_create(
        actor=actor, service=service, kind="roles", data={"role": "owner", "person": owner}
    )
    catalogue.part_create(
        actor=actor,
        service=service,
        kind="roles",
        data={"role": "manager", "person": manager, "pmo": pmo},
    )


def _approved(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    walk = Walk(cast, service, timezone.now() - 20 * DAY)
    walk.decide()


def _design(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    walk = Walk(cast, service, timezone.now() - 50 * DAY)
    walk.decide()
    walk.design()
    with services.as_of(walk.later(10)):
        walk.tasks_done("setup", upto=2)


def _pilot(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    if Stage.PILOT in done:  # the second pilot of the demo: its first iteration is under way
        walk = Walk(cast, service, timezone.now() - 50 * DAY)
        walk.decide()
        walk.design()
        walk.pilot()
        return
    walk = Walk(cast, service, timezone.now() - 150 * DAY)
    walk.decide()
    walk.design()
    walk.pilot()
    # The first pilot service is in its second iteration, one criterion still unmet.
    walk.result(unmet=1, note="Customers found the first outputs too generic.")
    walk.move(
        Stage.DESIGN,
        walk.manager_actor,
        3,
        note="Another iteration: add a diagnostic workshop before the plan is written.",
    )
    walk.pilot(days=20)
    walk.result(unmet=1, days=30, note="Better, but the rating is still below target.")


def _signed_off(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    walk = Walk(cast, service, timezone.now() - 120 * DAY)
    walk.decide()
    walk.design()
    walk.pilot()
    walk.result()
    walk.sign_off()
    walk.assess(ready=False)


def _transition(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    # Its transition started five weeks ago: the first phase is done, the second under way.
    walk = Walk(cast, service, timezone.now() - 124 * DAY)
    walk.decide()
    walk.design()
    walk.pilot()
    walk.result()
    walk.sign_off()
    walk.assess()
    walk.transition(phased=True)
    # A temporary service runs alongside while the new one reaches every customer, set
    # up in a hurry (a fifth of the usual time) as the transition starts.
    helper_start = walk.later(1)
    with services.as_of(helper_start):
        helper = services.supporting_service_create(
            actor=cast.runner,
            service=service,
            code=f"{service.code}T"[:20],
            name=f"{service.name}: transition help desk",
            end_date=timezone.localdate() + 75 * DAY,
            summary="Answers questions and fixes data while the new service rolls out.",
        )
        # The same Owner and Managers look after it.
        for role in service.roles.filter(archived_at__isnull=True).exclude(role="operative"):
            catalogue.part_create(
                actor=cast.org_actor,
                service=helper,
                kind="roles",
                data={"role": role.role, "person": role.person, "pmo": role.pmo},
            )
    Walk(cast, helper, helper_start, pace=0.2).to_running()
    walk.phases_done(upto=1)


def _closing(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    walk = Walk(cast, service, timezone.now() - 700 * DAY)
    walk.to_running()
    walk.clock = timezone.now() - 50 * DAY
    walk.start_closure(
        "not_best_provider",
        "Procurement's new contract management team now does this better and cheaper.",
    )
    walk.tasks_done("closure", upto=1)
    walk.decide_artefacts({f"{service.name}: procedure": "archive"})


def _closed(cast: Cast, service: Service, by_code: dict[str, Service], done: set[str]) -> None:
    walk = Walk(cast, service, timezone.now() - 720 * DAY)
    walk.to_running()
    walk.clock = timezone.now() - 120 * DAY
    walk.start_closure(
        "change_of_focus",
        "The PMO now puts its effort into benefits tracking; reviews move to the business.",
    )
    walk.tasks_done("closure")
    walk.decide_artefacts({f"{service.name}: procedure": "archive", "*": "keep"}, days=20)
    walk.move(
        Stage.CLOSED,
        walk.owner_actor,
        10,
        note="Closure approved at the service review.",
        approve=True,
    )
    # Another PMO starts a service of its own from what this one kept.
    other = (
        PMO.objects.filter(organisation=service.organisation)
        .exclude(pk__in=service.delivering_pmos.all())
        .exclude(kind=PMOKind.CENTRE_OF_EXCELLENCE)
        .order_by("id")
        .first()
    )
    if other is None:
        return
    with services.as_of(walk.later(30)):
        successor = services.service_start_from(
            actor=cast.runner,
            origin=service,
            code=f"{service.code}-N"[:20],
            name=f"{service.name} for {other.name}",
            delivering_pmos=[other],
        )
    manager = Person.objects.filter(organisation=service.organisation, pmo=other).first()
    if walk.owner is not None and manager is not None:
        with services.as_of(walk.clock):
            _appoint(cast.org_actor, successor, walk.owner, manager, other)
        Walk(cast, successor, walk.clock).decide()


# The story of each stage a demo service may stop at (`running` is the main path itself).
Story = Callable[[Cast, Service, dict[str, Service], set[str]], None]
STORIES: dict[str, Story] = {
    Stage.APPROVED_FOR_SETUP: _approved,
    Stage.DESIGN: _design,
    Stage.PILOT: _pilot,
    Stage.SIGNED_OFF: _signed_off,
    Stage.TRANSITION: _transition,
    Stage.CLOSING: _closing,
    Stage.CLOSED: _closed,
}


def northwind_extras(cast: Cast, by_code: dict[str, Service]) -> None:
    """Proposals deferred and rejected, and a temporary service past its end date."""
    anchor = by_code["CAP-01"]
    category, org = anchor.category, anchor.organisation
    pmo = PMO.objects.get(organisation=org, name="Enterprise PMO")
    owner = Person.objects.get(organisation=org, name="Hannah Okafor")
    manager = Person.objects.get(organisation=org, name="Grace Liu")

    def stopped(code: str, name: str, summary: str, *, to: str, days_ago: int, note: str) -> None:
        """A proposal with its Owner and Manager, made a month before the Director stopped
        it with a reason."""
        with services.as_of(timezone.now() - (days_ago + 30) * DAY):
            proposal = _new_proposal(cast.org_actor, code, name, category, pmo, summary)
            _appoint(cast.org_actor, proposal, owner, manager, pmo)
        with services.as_of(timezone.now() - days_ago * DAY):
            services.transition(actor=cast.director, service=proposal, to=to, note=note)

    stopped(
        "AGL-01",
        "Agile delivery coaching",
        "Teams adopting agile delivery get a coach for their first three sprints.",
        to=Stage.DEFERRED,
        days_ago=60,
        note="Wait until the methodology refresh settles how agile projects are governed.",
    )
    stopped(
        "INN-01",
        "Innovation scouting",
        "Scan the market for technologies the group's projects could use.",
        to=Stage.REJECTED,
        days_ago=45,
        note="Outside the PMO's mandate: the CTO office already does this.",
    )
    # A temporary service whose agreed end date has passed: due for closure.
    start = timezone.now() - 200 * DAY
    with services.as_of(start - 5 * DAY):
        temporary = catalogue.service_create(
            actor=cast.org_actor,
            code="ERP-T",
            name="ERP cut-over reporting desk",
            category=by_code["REP-01"].category,
            summary="Daily cut-over status for the ERP programme until hyper-care ends.",
            outcome="The ERP steering group sees cut-over progress every morning.",
            scopes=["programme"],
            is_temporary=True,
            end_date=timezone.localdate() - 10 * DAY,
            delivering_pmos=[pmo],
        )
        _appoint(cast.org_actor, temporary, owner, manager, pmo)
    Walk(cast, temporary, start).to_running()
