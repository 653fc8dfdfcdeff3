"""Demo risks and issues: for Northwind's running services, items at each escalation
level, with mitigation and resolution actions (some overdue, some done), one risk that
became an issue and one Owner's decision to agree the mitigation; a couple at Riverside.

Written through the items services, each step as of a past moment and by the person
whose step it is (the system actor bearing their login), so the story reads true.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from carte.catalogue.choices import ServiceRoleKind, Stage
from carte.catalogue.models import Service, ServiceRole
from carte.core.clock import as_of
from carte.operations.services import items as services
from carte.organisations.actor import Actor
from carte.organisations.models import Person


@dataclass(frozen=True)
class Act:
    description: str
    due_in: int  # days from today (negative: due in the past)
    done: bool = False


@dataclass(frozen=True)
class Item:
    title: str
    description: str
    cause: str
    effect: str
    probability: int
    impact: int
    level: int = 1  # the level it ends at
    kind: str = "risk"
    actions: tuple[Act, ...] = ()
    notes: tuple[str, ...] = ()  # the escalation notes, one per level climbed
    becomes_issue: str = ""  # the note when the risk happened
    decision: str = ""  # the Owner's decision note (mitigate)
    closed: str = ""  # the closing note
    days_ago: int = 60  # when it was raised


NORTHWIND: tuple[Item, ...] = (
    Item(
        "Finance data feed late for month-end pack",
        "The ERP actuals extract lands after the portfolio status pack is frozen on working day 4.",
        "Finance moved its close to working day 5 to absorb the new intercompany checks.",
        "Programme boards see last month's actuals; forecast variances are a month stale.",
        4,
        4,
        level=3,
        actions=(
            Act("Agree a flash-actuals extract with the Financial Controller", -5, done=True),
            Act("Move the pack freeze to working day 6 for a trial quarter", 10),
        ),
        notes=(
            "Two packs in a row went out with stale actuals; this needs the delivery team.",
            "Finance will not move its close: only the Owner can change the pack's timetable.",
        ),
        decision="Agreed: flash actuals from Finance, and the freeze moves to day 6 for Q3.",
        days_ago=75,
    ),
    Item(
        "Key analyst leaving in Q3",
        "Our only analyst who knows the benefits-tracking model has accepted a role in the "
        "transformation office.",
        "Promotion; no second person was trained on the model.",
        "Benefits realisation reports could stop for two months after she leaves.",
        3,
        5,
        level=2,
        actions=(
            Act("Pair a second analyst on the benefits model", -3),
            Act("Write the model's operating notes into the handbook", 21),
        ),
        notes=("Her notice period ends in ten weeks; we need a hiring decision.",),
        days_ago=40,
    ),
    Item(
        "Gate reviewers double-booked",
        "Two programmes booked the same stage-gate panel for the week of 14 June.",
        "The panel calendar is kept in two spreadsheets.",
        "One gate review slips by a fortnight, delaying a funding release.",
        4,
        3,
        level=2,
        kind="issue",
        actions=(Act("Book a second panel from the reserve reviewers", -8),),
        notes=("The programme director is asking who decides which review goes first.",),
        days_ago=20,
    ),
    Item(
        "RAID log not reviewed by three projects",
        "Three projects have not updated their RAID logs for six weeks.",
        "Project managers see the log as paperwork between gate reviews.",
        "Escalations reach the PMO late and without history.",
        3,
        3,
        actions=(
            Act("Add RAID currency to the monthly status pack", 14),
            Act("Coach the three project managers", -2, done=True),
        ),
        days_ago=30,
    ),
    Item(
        "Reporting tool licence renewal at risk",
        "The licence for the portfolio reporting tool expires at the end of the quarter "
        "and procurement has not raised the order.",
        "The renewal sits in a procurement queue behind the year-end rush.",
        "Status packs would have to be built by hand for several weeks.",
        2,
        5,
        level=2,
        actions=(Act("Chase procurement for the purchase order", -10),),
        notes=("Procurement says six weeks; the licence ends in five.",),
        becomes_issue="The licence lapsed on Monday: the tool is read-only.",
        days_ago=50,
    ),
    Item(
        "Benefits baseline missing for two programmes",
        "Two programmes reached gate 3 without a signed-off benefits baseline.",
        "The business cases were approved before the baseline template existed.",
        "Benefits cannot be tracked against anything for those programmes.",
        3,
        4,
        actions=(Act("Run a baseline workshop with each sponsor", 7),),
        days_ago=12,
    ),
    Item(
        "Status pack template out of date",
        "The status pack still shows last year's portfolio categories.",
        "The categories changed with the new strategy; nobody owned the template.",
        "Boards read projects under the wrong heading.",
        2,
        2,
        actions=(Act("Update the template's categories", -20, done=True),),
        closed="The new template went out with the May pack.",
        days_ago=90,
    ),
    Item(
        "Resource forecast double counts contractors",
        "Contractors booked on two projects appear twice in the resource forecast.",
        "The timesheet export has one row per assignment, not per person.",
        "Forecast demand is overstated by about 8%.",
        3,
        3,
        level=3,
        kind="issue",
        actions=(Act("Deduplicate contractors in the forecast query", -4),),
        notes=(
            "The forecast is used for hiring; the delivery team needs to see it now.",
            "Fixing it needs a change to the timesheet service: the Owner's call.",
        ),
        days_ago=35,
    ),
)

RIVERSIDE: tuple[Item, ...] = (
    Item(
        "Clinical lead unavailable for gate reviews",
        "The clinical safety lead is on the ward rota during the planned gate reviews.",
        "Rotas are published after the gate calendar is set.",
        "Gates pass without the clinical safety sign-off they need.",
        3,
        4,
        level=2,
        actions=(Act("Agree protected time with the medical director", 5),),
        notes=("Two gates have now been moved; this needs the service manager.",),
        days_ago=25,
    ),
    Item(
        "Estates data late for capital programme report",
        "The estates team sends its spend figures after the capital report is drafted.",
        "Manual collation from three site spreadsheets.",
        "The capital report to the board is a month behind on spend.",
        3,
        3,
        actions=(Act("Agree a submission date with estates", -6),),
        days_ago=18,
    ),
)


def _people(services_: list[Service]) -> dict[tuple[int, str], list[Person]]:
    """Service id and role -> the people holding it (those with a login first)."""
    found: dict[tuple[int, str], list[Person]] = {}
    rows = (
        ServiceRole.objects.filter(
            service__in=services_,
            archived_at__isnull=True,
            role__in=(ServiceRoleKind.OWNER, ServiceRoleKind.MANAGER, ServiceRoleKind.OPERATIVE),
        )
        .select_related("person__user")
        .order_by("service_id", "role", "id")
    )
    for role in rows:
        found.setdefault((role.service_id, role.role), []).append(role.person)
    for people in found.values():
        people.sort(key=lambda p: p.user_id is None)
    return found


def load(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """The demo risks and issues of the organisation's running services."""
    specs = {"northwind": NORTHWIND, "riverside": RIVERSIDE}.get(actor.organisation.slug)
    running = sorted(
        (s for s in by_code.values() if s.stage == Stage.RUNNING and not s.is_temporary),
        key=lambda s: s.code,
    )
    if not specs or not running:
        return
    people = _people(running)
    org = actor.organisation
    now = timezone.now().replace(hour=9, minute=30, second=0, microsecond=0)

    def as_person(service: Service, role: str, fallback: Actor) -> tuple[Actor, Person | None]:
        holders = people.get((service.pk, role)) or []
        if not holders:
            return fallback, None
        person = holders[0]
        return Actor.for_system(org, user=person.user), person

    # The Owner's decision is best shown by an Owner who can log in and see it.
    owners_with_login = [
        s for s in running if any(p.user_id for p in people.get((s.pk, ServiceRoleKind.OWNER), []))
    ]
    for position, spec in enumerate(specs):
        service = running[position % len(running)]
        if spec.decision and owners_with_login:
            service = owners_with_login[0]
        operative, operative_person = as_person(service, ServiceRoleKind.OPERATIVE, actor)
        manager, manager_person = as_person(service, ServiceRoleKind.MANAGER, actor)
        owner, _ = as_person(service, ServiceRoleKind.OWNER, actor)
        raiser = operative if operative_person is not None else manager
        moment = now - dt.timedelta(days=spec.days_ago)
        step = dt.timedelta(days=max(spec.days_ago // 6, 1))
        with as_of(moment):
            item = services.item_create(
                actor=raiser,
                service=service,
                data={
                    "kind": spec.kind,
                    "title": spec.title,
                    "description": spec.description,
                    "cause": spec.cause,
                    "effect": spec.effect,
                    "probability": spec.probability,
                    "impact": spec.impact,
                    "owner": manager_person or operative_person,
                },
            )
        for number, act in enumerate(spec.actions, 1):
            with as_of(moment + step * number / 2):
                action = services.action_create(
                    actor=manager,
                    item=item,
                    data={
                        "description": act.description,
                        "owner": operative_person or manager_person,
                        "due_date": (now + dt.timedelta(days=act.due_in)).date(),
                    },
                )
            if act.done:
                with as_of(moment + step * number):
                    services.action_done(actor=manager, action=action, done=True)
        for climb, note in enumerate(spec.notes, 1):
            with as_of(moment + step * (climb + 1)):
                services.item_escalate(
                    actor=raiser if climb == 1 else manager, item=item, note=note
                )
        if spec.becomes_issue:
            with as_of(moment + step * 4):
                services.item_make_issue(actor=manager, item=item, note=spec.becomes_issue)
        if spec.decision:
            with as_of(moment + step * 5):
                services.item_decide(
                    actor=owner, item=item, decision="mitigate", note=spec.decision
                )
        if spec.closed:
            with as_of(moment + step * 5):
                services.item_close(actor=raiser, item=item, note=spec.closed)
