"""The demo's capacity: every PMO person's contract (some part-time, a provider's
operatives at half time), leave and a secondment, their assessed competences (from what
their job title says they do, assessed by the PMO's Director a few months ago; one
self-assessment waiting for confirmation), allocations to the services they run and to
other work. Deterministic (seeded per organisation), written through the services.

The story it tells (issue 14): financial analysis runs short next quarter, while its
best analyst is seconded; two people are over-allocated; and the proposal waiting for a
decision (RES-02 at Northwind) does not fit unless something else gives way, since the
coaching it needs is taken by the training services.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from random import Random

from django.db.models import Q

from carte.capacity import services
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.months import add_months, month_of
from carte.catalogue.choices import Stage
from carte.catalogue.models import CompetenceNeed, Service
from carte.core.clock import today
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Competence, Membership, Person

# What a job title says a person does: (words in the title, competences at a level).
PROFILES: list[tuple[tuple[str, ...], list[tuple[str, int]]]] = [
    (("director",), [("Programme and portfolio management", 5), ("Stakeholder engagement", 4)]),
    (("portfolio lead",), [("Portfolio analysis", 4), ("Programme and portfolio management", 4)]),
    (("portfolio analyst",), [("Portfolio analysis", 3), ("Reporting and data analysis", 3)]),
    (("benefit",), [("Benefits management", 4), ("Financial analysis", 2)]),
    (("planning", "schedul"), [("Planning and scheduling", 4), ("Risk management", 2)]),
    (("controller",), [("Financial analysis", 3), ("Planning and scheduling", 3)]),
    (("cost",), [("Financial analysis", 4), ("Planning and scheduling", 2)]),
    (("digital",), [("Tool administration", 3), ("Reporting and data analysis", 4)]),
    (("tool",), [("Tool administration", 4), ("Reporting and data analysis", 2)]),
    (("method",), [("Methods and templates", 4), ("Governance and assurance", 3)]),
    (("coach",), [("Coaching and training", 4), ("Facilitation", 4)]),
    (("training",), [("Coaching and training", 3), ("Records and information management", 2)]),
    (("risk",), [("Risk management", 4), ("Reporting and data analysis", 3)]),
    (("head of", "manager"), [("Governance and assurance", 4), ("Stakeholder engagement", 3)]),
    (("services manager",), [("Change management", 3), ("Facilitation", 3)]),
    (("support",), [("Records and information management", 3), ("Planning and scheduling", 2)]),
    (("analyst",), [("Reporting and data analysis", 3), ("Facilitation", 2)]),
    (("change",), [("Change management", 4), ("Stakeholder engagement", 3)]),
    (("project manager",), [("Planning and scheduling", 3), ("Risk management", 3)]),
]
# Stages whose services need their people now (proposed ones only "if admitted").
STAFFED = (
    Stage.APPROVED_FOR_SETUP,
    Stage.DESIGN,
    Stage.PILOT,
    Stage.SIGNED_OFF,
    Stage.TRANSITION,
    Stage.RUNNING,
    Stage.CLOSING,
)
MONTHS_AHEAD = 18


def _profile(title: str) -> dict[str, int]:
    found: dict[str, int] = {}
    lowered = title.lower()
    for words, competences in PROFILES:
        if any(w in lowered for w in words):
            for name, level in competences:
                found[name] = max(found.get(name, 0), level)
    return found


def load_capacity_demo(*, actor: Actor, by_code: dict[str, Service]) -> None:
    org = actor.organisation
    rng = Random(f"capacity:{org.slug}")
    now = month_of(today())
    horizon = add_months(now, MONTHS_AHEAD - 1)
    competences = {c.name: c for c in Competence.objects.filter(organisation=org)}
    people = list(
        Person.objects.filter(organisation=org, archived_at__isnull=True)
        .filter(Q(pmo__isnull=False) | ~Q(provider=""))
        .order_by("pk")
    )
    director = (
        Person.objects.filter(
            organisation=org,
            user__memberships__organisation=org,
            user__memberships__roles__role=OrgRole.DIRECTOR,
        )
        .order_by("pk")
        .first()
    )
    assessed_on = today() - dt.timedelta(days=75)
    levels: dict[int, dict[str, int]] = {}
    free: dict[int, Decimal] = {}
    for n, person in enumerate(people):
        fte = Decimal("0.5") if person.provider else Decimal("0.8") if n % 5 == 3 else Decimal(1)
        services.availability_set(actor=actor, person=person, data={"contracted_fte": fte})
        # Some of everyone's time is left for the PMO's own running.
        free[person.pk] = (fte * Decimal("0.7")).quantize(Decimal("0.01"))
        # Everyone takes a week in the summer: a quarter of the month.
        summer = dt.date(now.year if now.month < 8 else now.year + 1, 8, 1)
        services.exception_create(
            actor=actor,
            person=person,
            data={
                "reason": ExceptionReason.LEAVE,
                "starts_on": summer,
                "ends_on": summer,
                "available_fte": (fte * Decimal("0.75")).quantize(Decimal("0.01")),
                "note": "Summer leave",
            },
        )
        profile = _profile(person.job_title) or {rng.choice(sorted(competences)): rng.randint(2, 3)}
        levels[person.pk] = profile
        for name, level in sorted(profile.items()):
            services.assessment_create(
                actor=actor,
                person=person,
                data={
                    "competence": competences[name],
                    "level": level,
                    "assessed_on": assessed_on - dt.timedelta(days=rng.randint(0, 60)),
                    "assessed_by": director if director and director != person else None,
                    "evidence": "Annual competence review.",
                },
            )
    seconded = _seconded(people, levels)
    _allocate(actor, by_code, people, levels, free, competences, now, horizon, seconded)
    _strains(actor, people, competences, now, seconded)


def _seconded(people: list[Person], levels: dict[int, dict[str, int]]) -> Person | None:
    """The best financial analyst, seconded next quarter."""
    finance = sorted(
        (p for p in people if levels[p.pk].get("Financial analysis", 0) >= 3),
        key=lambda p: (-levels[p.pk]["Financial analysis"], p.pk),
    )
    return finance[0] if finance else None


def _allocate(
    actor: Actor,
    by_code: dict[str, Service],
    people: list[Person],
    levels: dict[int, dict[str, int]],
    free: dict[int, Decimal],
    competences: dict[str, Competence],
    now: dt.date,
    horizon: dt.date,
    seconded: Person | None,
) -> None:
    """Each need of a staffed service taken by the people able to cover it who still have
    time, up to the need; what nobody can take stays a gap the grid shows. The seconded
    analyst's service work stops for the secondment (the gap it leaves shows)."""
    names = {c.pk: name for name, c in competences.items()}
    needs = (
        CompetenceNeed.objects.filter(
            organisation=actor.organisation,
            archived_at__isnull=True,
            service__in=[s for s in by_code.values() if s.stage in STAFFED],
        )
        .select_related("service")
        .order_by("service__code", "pk")
    )
    for need in needs:
        name = names[need.competence_id]
        wanted = need.fte
        able = [p for p in people if levels[p.pk].get(name, 0) >= need.level]
        able.sort(key=lambda p: (-free[p.pk], p.pk))
        for person in able:
            if wanted <= 0:
                break
            share = min(wanted, free[person.pk], Decimal("0.6"))
            if share < Decimal("0.1"):
                continue
            spans = [(add_months(now, -3), horizon)]
            if person == seconded:
                spans = [(add_months(now, -3), now), (add_months(now, 4), horizon)]
            for starts_on, ends_on in spans:
                services.allocation_create(
                    actor=actor,
                    data={
                        "person": person,
                        "kind": AllocationKind.SERVICE,
                        "service": need.service,
                        "competence": need.competence,
                        "fte": share,
                        "starts_on": starts_on,
                        "ends_on": ends_on,
                    },
                )
            free[person.pk] -= share
            wanted -= share


def _strains(
    actor: Actor,
    people: list[Person],
    competences: dict[str, Competence],
    now: dt.date,
    seconded: Person | None,
) -> None:
    """The financial analyst seconded next quarter, and two people given a project on top
    of their services."""
    if seconded is not None:
        services.exception_create(
            actor=actor,
            person=seconded,
            data={
                "reason": ExceptionReason.SECONDMENT,
                "starts_on": add_months(now, 1),
                "ends_on": add_months(now, 3),
                "available_fte": Decimal(0),
                "note": "Seconded to the ERP programme's finance team",
            },
        )
    busy = [p for p in people if not p.provider and p != seconded][1:3]
    for person in busy:
        services.allocation_create(
            actor=actor,
            data={
                "person": person,
                "kind": AllocationKind.PROJECT,
                "work": "ERP roll-out support",
                "fte": Decimal("0.5"),
                "starts_on": now,
                "ends_on": add_months(now, 3),
                "note": "Asked for by the programme board",
            },
        )
    # A self-assessment waiting for a PMO Manager's confirmation.
    staff = Person.objects.filter(
        organisation=actor.organisation,
        user__memberships__organisation=actor.organisation,
        user__memberships__roles__role=OrgRole.STAFF,
        pmo__isnull=False,
    ).order_by("pk")
    for person in staff[:1]:
        assert person.user is not None
        member = Membership.objects.get(organisation=actor.organisation, user=person.user)
        own = Actor(
            user=person.user,
            organisation=actor.organisation,
            roles=frozenset(r.role for r in member.roles.all()),
        )
        services.assessment_create(
            actor=own,
            person=person,
            data={
                "competence": competences["Portfolio analysis"],
                "level": 3,
                "assessed_on": today() - dt.timedelta(days=10),
                "evidence": "Ran the quarterly prioritisation with the portfolio board.",
            },
        )
