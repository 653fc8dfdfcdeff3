"""Demo change requests, improvements and feedback.

Northwind: change requests in every state on its running services (the implemented one
changed the catalogue: the service was edited, then implementing it published the next
version, linked both ways), an improvement log in several statuses with one awaiting the
Owner, twelve months of customer ratings (mostly good, a few poor ones with comments),
and one customer's suggestion turned into a draft change. Riverside: a year of ratings.

Each step is written through the services as of a past moment, by the person whose step
it is (the system actor bearing their login), so the story reads true.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service, ServiceCustomer, ServiceRole
from carte.catalogue.services import service_update
from carte.core.clock import as_of
from carte.operations.choices import ChangeReason, ImprovementStatus, RaisedAs
from carte.operations.demo.kpis import live_since
from carte.operations.models import Feedback
from carte.operations.services import changes as services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Person


@dataclass(frozen=True)
class Change:
    title: str
    description: str
    raised_as: str
    reason: str
    affects: tuple[str, ...]
    ends: str  # draft, submitted, approved, rejected, implemented
    note: str = ""  # the Owner's decision note
    days_ago: int = 60


CHANGES = (
    Change(
        "Show benefits realisation beside milestones in the status pack",
        "Sponsors ask to see forecast and realised benefits on the same page as the "
        "milestone RAG, so a late milestone's cost in benefits is visible at once.",
        RaisedAs.MANAGER,
        ChangeReason.BUSINESS,
        ("handbook",),
        "draft",
        days_ago=6,
    ),
    Change(
        "Align gate-review templates with the 2025 investment policy",
        "The revised investment policy adds a carbon assessment and a benefits owner "
        "sign-off at gate 3; the templates and the review checklist must carry them.",
        RaisedAs.STAKEHOLDER,
        ChangeReason.POLICY,
        ("strategy", "handbook"),
        "submitted",
        days_ago=18,
    ),
    Change(
        "Review the RAID log fortnightly instead of monthly",
        "Monthly RAID reviews let issues age for weeks before a board sees them; a "
        "fortnightly 30-minute review in the tool would catch them earlier.",
        RaisedAs.OPERATIVE,
        ChangeReason.TOOLS,
        ("handbook",),
        "approved",
        note="Agreed for a trial over two quarters; measure the age of open issues.",
        days_ago=40,
    ),
    Change(
        "Replace the monthly dashboard with a quarterly one",
        "Some programme managers find the monthly cycle heavy for long, stable projects.",
        RaisedAs.STAKEHOLDER,
        ChangeReason.FEEDBACK,
        ("catalogue",),
        "rejected",
        note="Boards rely on monthly figures for funding releases; we lighten the pack "
        "instead (see the improvement log).",
        days_ago=75,
    ),
    Change(
        "State the reporting calendar in the service description",
        "Customers ask when the pack is frozen and published each month; the catalogue "
        "should say it: data freeze on working day 4, pack out on working day 6.",
        RaisedAs.CUSTOMER,
        ChangeReason.FEEDBACK,
        ("catalogue", "handbook"),
        "implemented",
        note="Yes: it answers the most common question we get.",
        days_ago=110,
    ),
)

IMPROVEMENTS = (
    (
        "Pre-fill the RAID log from last month's pack",
        "Project managers retype open risks each month.",
        "Half a day saved per project each month; fewer dropped risks.",
        ImprovementStatus.AWAITING,
    ),
    (
        "One-page executive summary at the front of the pack",
        "Boards read page one and skip the rest.",
        "Decisions reach the top of the agenda.",
        ImprovementStatus.IMPLEMENTED,
    ),
    (
        "Automated reminder three days before the data freeze",
        "Late updates are the first cause of stale packs.",
        "On-time submissions up from 80% to 95%.",
        ImprovementStatus.IN_PROGRESS,
    ),
    (
        "Colour-blind safe RAG palette with shapes",
        "Two board members cannot tell amber from green.",
        "Everyone reads the status at a glance.",
        ImprovementStatus.IDEA,
    ),
    (
        "Weekly flash report for every project",
        "Suggested at the spring retrospective.",
        "More frequent visibility.",
        ImprovementStatus.DROPPED,
    ),
)

LOW_COMMENTS = (
    "The pack arrived after our programme board had met.",
    "Too many pages; the decisions we need are buried.",
    "Figures did not match the finance system this month.",
)
GOOD_COMMENTS = (
    "Clear and on time.",
    "The milestone view helped us spot the slippage early.",
    "",
    "",
    "Useful gate-review checklist.",
)
SUGGESTION = (
    "Send the pack two working days before the programme board, not the day before, so "
    "members can read it and come with questions."
)


def _roles(services_: list[Service]) -> dict[tuple[int, str], Person]:
    found: dict[tuple[int, str], Person] = {}
    for role in (
        ServiceRole.objects.filter(
            service__in=services_,
            archived_at__isnull=True,
            role__in=(ServiceRoleKind.OWNER, ServiceRoleKind.MANAGER, ServiceRoleKind.OPERATIVE),
            person__user__isnull=False,
        )
        .select_related("person__user")
        .order_by("id")
    ):
        found.setdefault((role.service_id, role.role), role.person)
    return found


def _as(actor: Actor, person: Person | None) -> Actor:
    if person is None or person.user is None:
        return actor
    return Actor.for_system(actor.organisation, user=person.user)


def _customers(services_: list[Service]) -> dict[int, list[Person]]:
    groups: dict[int, set[int]] = {}
    for service_id, group_id in ServiceCustomer.objects.filter(
        service__in=services_, archived_at__isnull=True
    ).values_list("service_id", "customer_group_id"):
        groups.setdefault(service_id, set()).add(group_id)
    people = list(
        Person.objects.filter(
            organisation_id=services_[0].organisation_id if services_ else 0,
            archived_at__isnull=True,
            customer_group__isnull=False,
        ).order_by("id")
    )
    return {sid: [p for p in people if p.customer_group_id in gids] for sid, gids in groups.items()}


def _feedback(actor: Actor, running: list[Service], now: dt.datetime) -> None:
    """Twelve months of ratings on each running service from its customers (since it went
    live, if later)."""
    customers = _customers(running)
    rng = random.Random(f"{actor.organisation.slug}-feedback")
    rows: list[Feedback] = []
    for service in running:
        people = customers.get(service.pk, [])
        if not people:
            continue
        since = live_since(service, now - dt.timedelta(days=365))
        for months_ago in range(11, -1, -1):
            for _ in range(rng.randint(1, 3)):
                when = now - dt.timedelta(days=30 * months_ago + rng.randint(0, 25))
                rating = rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 6, 10, 8))[0]
                comment = rng.choice(LOW_COMMENTS if rating <= 2 else GOOD_COMMENTS)
                person = rng.choice(people)
                if when < since:
                    continue
                rows.append(
                    Feedback(
                        service=service,
                        person=person,
                        rating=rating,
                        comment=comment,
                        given_at=when,
                    )
                )
    if rows:
        services.feedback_record_many(actor=actor, rows=rows)


def _changes(actor: Actor, service: Service, roles: dict[tuple[int, str], Person]) -> None:
    now = timezone.now()
    owner = _as(actor, roles.get((service.pk, ServiceRoleKind.OWNER)))
    manager_person = roles.get((service.pk, ServiceRoleKind.MANAGER))
    manager = _as(actor, manager_person)
    operative_person = roles.get((service.pk, ServiceRoleKind.OPERATIVE))
    for spec in CHANGES:
        start = now - dt.timedelta(days=spec.days_ago)
        raiser = operative_person if spec.raised_as == RaisedAs.OPERATIVE else manager_person
        with as_of(start):
            cr = services.change_request_create(
                actor=manager,
                service=service,
                data={
                    "title": spec.title,
                    "description": spec.description,
                    "raised_as": spec.raised_as,
                    "reason": spec.reason,
                    "affects": list(spec.affects),
                    "raised_by": raiser,
                },
            )
        if spec.ends == "draft":
            continue
        with as_of(start + dt.timedelta(days=2)):
            services.change_request_submit(
                actor=manager, change=cr, note="Discussed at the monthly service review."
            )
        if spec.ends == "submitted":
            continue
        with as_of(start + dt.timedelta(days=6)):
            services.change_request_decide(
                actor=owner, change=cr, approve=spec.ends != "rejected", note=spec.note
            )
        if spec.ends != "implemented":
            continue
        with as_of(start + dt.timedelta(days=20)):
            summary = (service.summary or service.name).rstrip(".")
            service_update(
                actor=manager,
                service=service,
                data={
                    "summary": f"{summary}. Data freeze on working day 4, pack out on "
                    "working day 6."[:300]
                },
            )
            services.change_request_implement(
                actor=manager, change=cr, note="Catalogue entry and handbook updated."
            )


def _improvements(actor: Actor, service: Service, roles: dict[tuple[int, str], Person]) -> None:
    now = timezone.now()
    owner = _as(actor, roles.get((service.pk, ServiceRoleKind.OWNER)))
    manager = _as(actor, roles.get((service.pk, ServiceRoleKind.MANAGER)))
    for i, (title, description, benefit, status) in enumerate(IMPROVEMENTS):
        start = now - dt.timedelta(days=90 - 12 * i)
        with as_of(start):
            item = services.improvement_create(
                actor=manager,
                service=service,
                data={"title": title, "description": description, "expected_benefit": benefit},
            )
        path = {
            ImprovementStatus.IDEA: (),
            ImprovementStatus.IN_PROGRESS: (ImprovementStatus.IN_PROGRESS,),
            ImprovementStatus.AWAITING: (ImprovementStatus.IN_PROGRESS, ImprovementStatus.AWAITING),
            ImprovementStatus.IMPLEMENTED: (
                ImprovementStatus.IN_PROGRESS,
                ImprovementStatus.AWAITING,
            ),
            ImprovementStatus.DROPPED: (ImprovementStatus.DROPPED,),
        }[status]
        for step, to in enumerate(path, start=1):
            note = (
                "Tried on two programmes for a month." if to == ImprovementStatus.AWAITING else ""
            )
            if to == ImprovementStatus.DROPPED:
                note = "The monthly pack plus exception reports cover the need."
            with as_of(start + dt.timedelta(days=7 * step)):
                services.improvement_move(actor=manager, improvement=item, status=to, note=note)
        if status == ImprovementStatus.IMPLEMENTED:
            with as_of(start + dt.timedelta(days=30)):
                services.improvement_agree(
                    actor=owner, improvement=item, agree=True, note="Boards like it: keep it."
                )


def _suggestion(actor: Actor, running: list[Service]) -> None:
    """A customer's rating with a suggestion, which becomes a draft change request."""
    customers = _customers(running)
    for service in running:
        people = customers.get(service.pk, [])
        with_login = [p for p in people if p.user_id]
        if with_login:
            person = with_login[0]
            giver = Actor(
                user=person.user,
                organisation=actor.organisation,
                roles=frozenset({OrgRole.CUSTOMER}),
            )
            extra: dict[str, Person] = {}
        elif people:
            giver, extra = actor, {"person": people[0]}
        else:
            continue
        with as_of(timezone.now() - dt.timedelta(days=3)):
            services.feedback_give(
                actor=giver,
                service=service,
                rating=3,
                comment="Good content, but it reaches us too late to read.",
                suggestion=SUGGESTION,
                **extra,
            )
        return


def load(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """Feedback for every organisation; change requests and improvements at Northwind."""
    running = sorted(
        (s for s in by_code.values() if s.stage == Stage.RUNNING and s.current_version_id),
        key=lambda s: s.code,
    )
    if not running:
        return
    _feedback(actor, running, timezone.now())
    if actor.organisation.slug != "northwind":
        return
    roles = _roles(running)
    staffed = [s for s in running if (s.pk, ServiceRoleKind.OWNER) in roles] or running
    _changes(actor, staffed[0], roles)
    for service in staffed[:2]:
        _improvements(actor, service, roles)
    _suggestion(actor, running)
