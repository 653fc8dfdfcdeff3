"""The capacity benchmark (issue 14): one organisation `bench-cap` with 2,000 people, 30
competences, 2,000 services with needs and 10,000 allocations over 24 months.

Seeding: the organisation, PMOs, people and competences through the organisations'
services; the services and their needs with the catalogue's bulk functions, then put at
their stages with the statement the lifecycle uses (`ServiceQuerySet._move_stage`), as the
operations bench does. The capacity rows (assessments, contracts, exceptions, allocations)
are inserted with `bulk_create`, the bench's one shortcut on this side: what is measured
reads them, it does not write them.

People are drawn from role profiles (a planner, a finance analyst, a coach...), each
holding four to six competences at levels around the profile's, with one more of their
own, as a PMO's people are; 10% work part time, 15% take a month or two of leave, and
of the 10,000 allocations 2,000 are other work (projects, BAU, training) that takes time.

`run_capacity` times, with the in-process test client: the grid page (the default 12
months, and 24), the grid API (24 months), a cell, "can we take this on?" for a proposed
service; and the grid with the coverage models and answers cleared before each request
(the first request after the data changed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from random import Random
from statistics import fmean
from time import perf_counter
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from bench.run import BenchError, Endpoint, cpu_reference_ms, environment, measure, percentile
from bench.seed import BENCH_EMAIL, BENCH_PASSWORD, purge_slug
from carte.capacity import coverage
from carte.capacity.choices import AllocationKind, ExceptionReason
from carte.capacity.models import Allocation, Assessment, Availability, AvailabilityException
from carte.capacity.months import add_months, month_of
from carte.catalogue import services as catalogue
from carte.catalogue.choices import Scope, Stage
from carte.catalogue.models import Service
from carte.catalogue.services import bulk as catalogue_bulk
from carte.organisations import services as orgs
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import Competence, Organisation, Person, User

SLUG = "bench-cap"
PEOPLE = 2000
COMPETENCES = 30
SERVICES = 2000
ALLOCATIONS = 10_000
MONTHS = 24
PMOS = 4

GRID_TARGET_MS = 100.0
FIT_TARGET_MS = 200.0
LOAD_TARGET_MS = 50.0  # a person's load page, p95 (issue 14)

# The stages of the 2,000 services, in tenths: mostly running.
STAGES = [Stage.RUNNING] * 7 + [Stage.TRANSITION, Stage.DESIGN, Stage.PROPOSED]


@dataclass(frozen=True)
class Seeded:
    org: Organisation
    people: int
    services: int
    needs: int
    allocations: int
    seconds: float


def _profiles(rng: Random) -> list[list[tuple[int, int]]]:
    """Twelve role profiles: (competence index, level) each, four to six competences."""
    return [
        [(c, rng.randint(2, 5)) for c in rng.sample(range(COMPETENCES), rng.randint(4, 6))]
        for _ in range(12)
    ]


def seed_capacity(
    progress: Callable[[str], None] | None = None,
    *,
    people_count: int = PEOPLE,
    service_count: int = SERVICES,
    allocation_count: int = ALLOCATIONS,
) -> Seeded:
    """Replace `bench-cap` with a new organisation of the issue's size (smaller in the
    bench's own test)."""
    say = progress or (lambda _: None)
    began = perf_counter()
    rng = Random(20261208)
    purge_slug(SLUG)
    user = orgs.user_get_or_create(
        email=BENCH_EMAIL, full_name="Bench Runner", password_hash=make_password(BENCH_PASSWORD)
    )
    org = orgs.organisation_create(name="Bench capacity", slug=SLUG)
    actor = Actor.for_system(org, user)
    orgs.membership_create(actor=actor, email=user.email, roles=[OrgRole.ADMIN, OrgRole.DIRECTOR])
    pmos = [
        orgs.pmo_create(
            actor=actor,
            name=f"PMO {p:02d}" if p else "Enterprise PMO",
            kind=PMOKind.DEPARTMENTAL if p else PMOKind.ENTERPRISE,
        )
        for p in range(PMOS)
    ]
    competences = [
        orgs.competence_create(actor=actor, data={"name": f"Competence {c:02d}", "group": "PMO"})
        for c in range(COMPETENCES)
    ]
    say(f"creating {people_count} people")
    with transaction.atomic():
        people = [
            orgs.person_create(
                actor=actor,
                name=f"Person {i:04d}",
                email=f"person-{i:04d}@{SLUG}.example",
                pmo=pmos[i % PMOS],
            )
            for i in range(people_count)
        ]
    say(f"creating {service_count} services with needs")
    categories = [catalogue.category_create(actor=actor, name="Services", position=10)]
    with transaction.atomic():
        made = catalogue_bulk.services_create_many(
            actor=actor,
            rows=[
                {
                    "code": f"CAP-{i:05d}",
                    "name": f"Service {i:05d}",
                    "category": categories[0],
                    "summary": f"A PMO service, number {i}.",
                    "outcome": "Better decisions in every programme.",
                    "scopes": [str(Scope.PORTFOLIO)],
                    "delivering_pmos": [pmos[i % PMOS]],
                }
                for i in range(service_count)
            ],
        )
        needs = [
            (
                s,
                {
                    "competence": competences[c],
                    "level": rng.randint(2, 4),
                    "fte": Decimal(rng.choice(("0.10", "0.20", "0.25", "0.30", "0.50"))),
                },
            )
            for s in made
            for c in rng.sample(range(COMPETENCES), rng.randint(2, 4))
        ]
        catalogue_bulk.parts_create_many(actor=actor, kind="competences", rows=needs)
        for stage in set(STAGES) - {Stage.PROPOSED}:
            ids = [s.pk for i, s in enumerate(made) if STAGES[i % len(STAGES)] == stage]
            # The bench's shortcut on the catalogue side (see the module docstring).
            Service.objects.filter(pk__in=ids)._move_stage(stage, timezone.now())
    first = month_of(timezone.localdate())
    last = add_months(first, MONTHS - 1)
    say("creating assessments, contracts, leave and allocations")
    profiles = _profiles(rng)
    with transaction.atomic():
        assessments, contracts, exceptions, allocations = [], [], [], []
        for person in people:
            held = dict(rng.choice(profiles))
            held[rng.randrange(COMPETENCES)] = rng.randint(1, 4)
            for c, level in held.items():
                assessments.append(
                    Assessment(
                        organisation=org,
                        person=person,
                        competence=competences[c],
                        level=max(1, min(5, level + rng.choice((-1, 0, 0, 1)))),
                        assessed_on=dt.date(2026, 1, 1),
                    )
                )
            part_time = rng.random() < 0.1
            contracts.append(
                Availability(
                    organisation=org,
                    person=person,
                    contracted_fte=Decimal(rng.choice(("0.5", "0.6", "0.8")))
                    if part_time
                    else Decimal(1),
                )
            )
            if rng.random() < 0.15:
                start = add_months(first, rng.randrange(MONTHS))
                exceptions.append(
                    AvailabilityException(
                        organisation=org,
                        person=person,
                        reason=ExceptionReason.LEAVE,
                        starts_on=start,
                        ends_on=add_months(start, rng.randint(0, 1)),
                        available_fte=Decimal(0),
                    )
                )
        running = [s for i, s in enumerate(made) if STAGES[i % len(STAGES)] != Stage.PROPOSED]
        for n in range(allocation_count):
            person = people[rng.randrange(people_count)]
            start = add_months(first, rng.randrange(MONTHS))
            end = min(last, add_months(start, rng.randint(2, 12)))
            other = n % 5 == 0
            allocations.append(
                Allocation(
                    organisation=org,
                    person=person,
                    kind=AllocationKind.PROJECT if other else AllocationKind.SERVICE,
                    service=None if other else running[rng.randrange(len(running))],
                    work="Project" if other else "",
                    fte=Decimal(rng.choice(("0.10", "0.20", "0.30"))),
                    starts_on=start,
                    ends_on=end,
                )
            )
        Assessment.objects.bulk_create(assessments, batch_size=2000)
        Availability.objects.bulk_create(contracts, batch_size=2000)
        AvailabilityException.objects.bulk_create(exceptions, batch_size=2000)
        Allocation.objects.bulk_create(allocations, batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Seeded(
        org, len(people), len(made), len(needs), len(allocations), round(perf_counter() - began, 1)
    )


def _cold(client: Client, path: str, requests: int) -> dict[str, float]:
    """The grid with nothing kept from earlier requests: the first after a change."""
    wall = []
    for _ in range(requests):
        coverage.forget()
        began = perf_counter()
        response = client.get(path)
        wall.append((perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise BenchError(f"{path} answered {response.status_code}")
    return {
        "p50_ms": round(percentile(wall, 0.5), 3),
        "p95_ms": round(percentile(wall, 0.95), 3),
        "mean_ms": round(fmean(wall), 3),
    }


def run_capacity(
    *, requests: int = 100, warmup: int = 5, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Time the grid (page and API), a cell and the fit; returns the JSON report."""
    reference = cpu_reference_ms()
    org = Organisation.objects.filter(slug=SLUG).first()
    if org is None:
        raise BenchError(
            "The capacity bench is not seeded: run `carte bench capacity-seed`.", exit_code=2
        )
    user = User.objects.get(email__iexact=BENCH_EMAIL)
    pages = Client()
    pages.force_login(user)
    raw = orgs.token_create(user=user, name="bench capacity")[1]
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    first = month_of(timezone.localdate())
    span = f"from={first:%Y-%m}&to={add_months(first, MONTHS - 1):%Y-%m}"
    competence = Competence.objects.filter(organisation=org).order_by("pk").first()
    proposed = Service.objects.filter(organisation=org, stage=Stage.PROPOSED).order_by("pk").first()
    if (
        competence is None
        or proposed is None
        or not Person.objects.filter(organisation=org).exists()
    ):
        raise BenchError("The capacity bench is incomplete: seed it again.", exit_code=2)
    # The person with the most allocations: the heaviest load page.
    busiest = (
        Allocation.objects.filter(organisation=org)
        .values("person_id")
        .annotate(n=Count("id"))
        .order_by("-n", "person_id")
        .values_list("person_id", flat=True)
        .first()
    )
    base, api_base = f"/o/{SLUG}/capacity/", f"/api/v1/orgs/{SLUG}/capacity"
    targets = [
        Endpoint("grid, 12 months", base, False, GRID_TARGET_MS),
        Endpoint("grid, 24 months", f"{base}?{span}", False, GRID_TARGET_MS),
        Endpoint("api grid, 24 months", f"{api_base}?{span}", True, GRID_TARGET_MS),
        Endpoint(
            "cell",
            f"{base}cell/?competence={competence.pk}&month={first:%Y-%m}",
            False,
            GRID_TARGET_MS,
        ),
        Endpoint("can we take this on", f"{base}fit/?service={proposed.pk}", False, FIT_TARGET_MS),
        Endpoint("a person's load", f"{base}people/{busiest}/", False, LOAD_TARGET_MS),
    ]
    results = measure(pages, api, targets, requests=requests, warmup=warmup, progress=progress)
    cold = _cold(pages, base, max(5, requests // 10))
    return {
        **environment(reference),
        "requests": requests,
        "results": [asdict(m) for m in results],
        "grid_first_after_a_change": cold,
        "meets_targets": all(m.meets_targets for m in results),
    }
