"""The operations benchmark: one organisation `bench-ops` with N running services, K KPIs
each and P monthly measurements per KPI (2,000 x 5 x 60 = 600,000 by default).

Seeding writes through the domain functions as the system actor: the services and their
roles with the catalogue's bulk functions, the KPIs with `kpi_create`, the measurements
with `measurements_record` in batches. One shortcut: the services are put at the running
stage with the statement the lifecycle uses (`ServiceQuerySet._move_stage`), as the test
factories do, instead of walking 2,000 services through set-up, pilot and transition; what
this benchmark measures does not read the lifecycle's records.

Besides the measured history, the seed adds scratch KPIs without history: weekly KPIs for
the CSV import (100,000 rows) and for the bulk pushes through the API (10,000 rows each).
`run_operations` clears their measurements before timing, so it can run again.

`run_operations` times, with the in-process test client: the heat map (first and a middle
page) and its API, the Operations tab of a few services; the heat map's SQL floor (the
page's own SQL statements replayed on a cursor); a 100,000-row CSV import; 10,000-row bulk
pushes. See bench/README.md, "Operations".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from random import Random
from statistics import fmean
from time import perf_counter, process_time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.run import BenchError, Endpoint, cpu_reference_ms, environment, measure, percentile
from bench.seed import BENCH_EMAIL, BENCH_PASSWORD, purge_slug
from carte.catalogue import services as catalogue
from carte.catalogue.choices import Scope, ServiceRoleKind, Stage
from carte.catalogue.models import Service
from carte.catalogue.services import bulk as catalogue_bulk
from carte.operations import periods
from carte.operations.choices import Direction, Frequency, Source
from carte.operations.models import KPI, Measurement
from carte.operations.services.kpis import kpi_create
from carte.operations.services.measurements import Reading, measurements_record, refresh_kpis
from carte.organisations import services as orgs
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import Organisation, User

SLUG = "bench-ops"
DEFAULT_SERVICES = 2000
DEFAULT_KPIS = 5
DEFAULT_PERIODS = 60
IMPORT_ROWS = 100_000
PUSH_ROWS = 10_000
PUSHES = 5
WEEKS = 100  # history of a scratch weekly KPI: 1,000 import KPIs x 100 weeks = 100,000 rows

HEATMAP_TARGET_MS = 150.0
HEATMAP_FLOOR_RATIO = 2.0
TAB_TARGET_MS = 50.0
IMPORT_ROWS_PER_S_TARGET = 20_000.0
PUSH_TARGET_S = 1.0

PMOS = 4
PEOPLE = 200
GROUPS = 5
CATEGORIES = ("Reporting", "Governance", "Risk", "Capacity", "Training", "Methods")
KPI_SHAPES = (  # name, unit, direction, target, amber, red, low, high
    ("Reports on time", "%", Direction.HIGHER, 95, 90, 80, 0, 100),
    ("Gate reviews held as planned", "%", Direction.HIGHER, 90, 85, 70, 0, 100),
    ("Days to publish the pack", "days", Direction.LOWER, 5, 7, 10, 0, 60),
    ("Open actions past due", "count", Direction.LOWER, 3, 6, 10, 0, 500),
    ("Customer satisfaction", "score", Direction.HIGHER, 4, 3.5, 3, 1, 5),
)


def _months_back(count: int, today: dt.date) -> list[dt.date]:
    """The `count` monthly periods that ended before this month, oldest first."""
    start = periods.start_of(today, Frequency.MONTHLY)
    found: list[dt.date] = []
    for _ in range(count):
        start = periods.start_of(start - dt.timedelta(days=1), Frequency.MONTHLY)
        found.append(start)
    return found[::-1]


def _weeks_back(count: int, today: dt.date) -> list[dt.date]:
    start = periods.start_of(today, Frequency.WEEKLY)
    return [start - dt.timedelta(weeks=n) for n in range(count, 0, -1)]


def _value(rng: Random, shape: tuple[Any, ...]) -> Decimal:
    """Mostly green, some amber, a few red: a value around the KPI's bands."""
    _, _, direction, target, amber, red, low, high = shape
    roll = rng.random()
    better = 1 if direction == Direction.HIGHER else -1
    if roll < 0.7:
        value = target + better * rng.uniform(0, abs(target - amber) or 1)
    elif roll < 0.9:
        value = amber - better * rng.uniform(0, abs(amber - red))
    else:
        value = red - better * rng.uniform(0, abs(amber - red))
    return Decimal(str(round(min(max(value, low), high), 2)))


@dataclass
class Seeded:
    org: Organisation
    services: int
    kpis: int
    measurements: int
    seconds: float


def seed_operations(
    services: int = DEFAULT_SERVICES,
    kpis: int = DEFAULT_KPIS,
    months: int = DEFAULT_PERIODS,
    *,
    import_rows: int = IMPORT_ROWS,
    push_rows: int = PUSH_ROWS,
    pushes: int = PUSHES,
    progress: Callable[[str], None] | None = None,
) -> Seeded:
    """Replace `bench-ops` with a new organisation of that size (see the module docstring)."""
    say = progress or (lambda _: None)
    began = perf_counter()
    purge_slug(SLUG)
    user = orgs.user_get_or_create(
        email=BENCH_EMAIL, full_name="Bench Runner", password_hash=make_password(BENCH_PASSWORD)
    )
    org = orgs.organisation_create(name="Bench operations", slug=SLUG)
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
    groups = [
        orgs.customer_group_create(actor=actor, name=f"Business unit {g:02d}")
        for g in range(GROUPS)
    ]
    people = [
        orgs.person_create(
            actor=actor,
            name=f"Person {i:03d}",
            email=f"person-{i:03d}@{SLUG}.example",
            pmo=pmos[i % PMOS],
        )
        for i in range(PEOPLE)
    ]
    categories = [
        catalogue.category_create(actor=actor, name=title, position=10 * (n + 1))
        for n, title in enumerate(CATEGORIES)
    ]
    say(f"creating {services} services")
    with transaction.atomic():
        made = catalogue_bulk.services_create_many(
            actor=actor,
            rows=[
                {
                    "code": f"OPS-{i:05d}",
                    "name": f"Service {i:05d}",
                    "category": categories[i % len(categories)],
                    "summary": f"A PMO service, number {i}.",
                    "outcome": "Better decisions in every programme.",
                    "scopes": [str(Scope.PORTFOLIO)],
                    "delivering_pmos": [pmos[i % PMOS]],
                }
                for i in range(services)
            ],
        )
        catalogue_bulk.parts_create_many(
            actor=actor,
            kind="roles",
            rows=[
                (s, {"role": ServiceRoleKind.OWNER, "person": people[i % PEOPLE]})
                for i, s in enumerate(made)
            ]
            + [
                (
                    s,
                    {
                        "role": ServiceRoleKind.MANAGER,
                        "person": people[(i + 7) % PEOPLE],
                        "pmo": pmos[i % PMOS],
                    },
                )
                for i, s in enumerate(made)
            ],
        )
        catalogue_bulk.parts_create_many(
            actor=actor,
            kind="customers",
            rows=[(s, {"customer_group": groups[i % GROUPS]}) for i, s in enumerate(made)],
        )
        # The bench's one shortcut (see the module docstring).
        Service.objects.filter(organisation=org)._move_stage(Stage.RUNNING, timezone.now())
    today = timezone.localdate()
    history = _months_back(months, today)
    say(f"creating {services * kpis} KPIs")
    all_kpis: list[tuple[KPI, tuple[Any, ...]]] = []
    with transaction.atomic():
        for s in made:
            for k in range(kpis):
                shape = KPI_SHAPES[k % len(KPI_SHAPES)]
                all_kpis.append((_kpi(actor, s, shape, k, history[0]), shape))
    rng = Random(20261122)
    say(f"recording {len(all_kpis) * len(history)} measurements")
    # A batch holds every period of some KPIs, so each KPI's latest value is refreshed
    # once, as five years of monthly reports would have done, not once per batch (which
    # left the KPI table many times its size in dead rows on PostgreSQL).
    count = 0
    per_batch = max(1, PUSH_ROWS // len(history))
    for start in range(0, len(all_kpis), per_batch):
        batch = [
            Reading(kpi, period, _value(rng, shape), row=n + 1)
            for n, (kpi, shape, period) in enumerate(
                (kpi, shape, period)
                for kpi, shape in all_kpis[start : start + per_batch]
                for period in history
            )
        ]
        measurements_record(actor=actor, readings=batch, source=Source.API)
        count += len(batch)
        if (start // per_batch) % 20 == 0:
            say(f"  {count} so far")
    say("creating the scratch weekly KPIs for the import and the pushes")
    weeks = _weeks_back(WEEKS, today)
    scratch = -(-import_rows // WEEKS) + pushes * -(-push_rows // WEEKS)
    with transaction.atomic():
        for n in range(scratch):
            s = made[n % len(made)]
            kpi_create(
                actor=actor,
                service=s,
                data={
                    "name": f"Weekly scratch {n:05d}",
                    "definition": "Requests handled in the week.",
                    "unit": "count",
                    "direction": Direction.HIGHER,
                    "target": Decimal(50),
                    "amber": Decimal(40),
                    "red": Decimal(30),
                    "frequency": Frequency.WEEKLY,
                    "reporting_from": weeks[0],
                    "position": 100 + n,
                },
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Seeded(org, len(made), len(all_kpis), count, round(perf_counter() - began, 1))


def _kpi(actor: Actor, service: Service, shape: tuple[Any, ...], k: int, first: dt.date) -> KPI:
    name, unit, direction, target, amber, red, low, high = shape
    return kpi_create(
        actor=actor,
        service=service,
        data={
            "name": name,
            "definition": f"{name}, as the handbook defines it.",
            "unit": unit,
            "direction": direction,
            "target": Decimal(str(target)),
            "amber": Decimal(str(amber)),
            "red": Decimal(str(red)),
            "minimum": Decimal(low),
            "maximum": Decimal(high),
            "frequency": Frequency.MONTHLY,
            "reporting_from": first,
            "position": k,
        },
    )


# ------------------------------------------------------------------------- running


def _scratch(
    org: Organisation, import_rows: int, push_rows: int, pushes: int
) -> tuple[list[KPI], list[list[KPI]]]:
    """The import's KPIs and each push's, with their measurements cleared (bench only)."""
    weekly = list(
        KPI.objects.filter(organisation=org, frequency=Frequency.WEEKLY).order_by("position")
    )
    per_import = -(-import_rows // WEEKS)
    per_push = -(-push_rows // WEEKS)
    if len(weekly) < per_import + pushes * per_push:
        raise BenchError(
            "The operations bench is not seeded: run `carte bench operations-seed`.", exit_code=2
        )
    Measurement.objects.filter(kpi__in=weekly).delete()
    refresh_kpis(weekly)
    sets = [
        weekly[per_import + n * per_push : per_import + (n + 1) * per_push] for n in range(pushes)
    ]
    return weekly[:per_import], sets


def _csv(org: Organisation, kpis: list[KPI], weeks: list[dt.date], rows: int) -> bytes:
    codes = dict(Service.objects.filter(organisation=org).values_list("pk", "code"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["service", "kpi", "period", "value", "comment"])
    rng = Random(7)
    cells = [(kpi, week) for kpi in kpis for week in weeks][:rows]
    for kpi, week in cells:
        writer.writerow(
            [codes[kpi.service_id], kpi.name, week.isoformat(), rng.randint(20, 70), ""]
        )
    return out.getvalue().encode()


class Floor:
    """The page's SQL replayed on a cursor, once a round of the timed requests: the time
    the database needs, without Django, measured in the same conditions as the page."""

    def __init__(self, statements: list[str]) -> None:
        self.statements = statements
        self.samples: list[float] = []

    def replay(self) -> None:
        with connection.cursor() as cursor:
            start = perf_counter()
            for sql in self.statements:
                cursor.execute(sql)
                if cursor.description is not None:
                    cursor.fetchall()
            self.samples.append((perf_counter() - start) * 1000)

    def report(self) -> dict[str, float]:
        return {
            "p50_ms": round(percentile(self.samples, 0.5), 3),
            "p95_ms": round(percentile(self.samples, 0.95), 3),
            "mean_ms": round(fmean(self.samples), 3),
        }


def _statements(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"GET {path} returned {response.status_code}, not 200.")
    # Reads only (a SELECT, or one that starts with its common table expressions): the
    # session's last-seen write (if any) is not what the page needs.
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
    ]


def run_operations(
    *,
    requests: int = 100,
    warmup: int = 5,
    import_rows: int = IMPORT_ROWS,
    push_rows: int = PUSH_ROWS,
    pushes: int = PUSHES,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time the pages, the API, the import and the pushes; returns the JSON report."""
    say = progress or (lambda _: None)
    reference = cpu_reference_ms()
    org = Organisation.objects.filter(slug=SLUG).first()
    if org is None:
        raise BenchError(
            "The operations bench is not seeded: run `carte bench operations-seed`.", exit_code=2
        )
    user = User.objects.get(email__iexact=BENCH_EMAIL)
    pages = Client()
    pages.force_login(user)
    raw = orgs.token_create(user=user, name="bench operations")[1]
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    running = Service.objects.filter(organisation=org, stage=Stage.RUNNING)
    total = running.count()
    sample = list(running.order_by("code").values_list("pk", flat=True)[:: max(1, total // 4)][:4])
    middle = max(1, (total // 50) // 2)
    base, api_base = f"/o/{SLUG}/", f"/api/v1/orgs/{SLUG}/"
    targets = [
        Endpoint("heat map, page 1", f"{base}operations/heatmap/", False, HEATMAP_TARGET_MS),
        Endpoint(
            f"heat map, page {middle}",
            f"{base}operations/heatmap/?page={middle}",
            False,
            HEATMAP_TARGET_MS,
        ),
        Endpoint("api heat map, page 1", f"{api_base}heatmap", True, HEATMAP_TARGET_MS),
        *(
            Endpoint(
                f"operations tab {n + 1}",
                f"{base}catalogue/services/{pk}/operations/",
                False,
                TAB_TARGET_MS,
            )
            for n, pk in enumerate(sample)
        ),
    ]
    # The heat map's SQL floor: its own statements, captured once, replayed each round.
    statements = _statements(pages, targets[0].path)
    replays = Floor(statements)
    results = measure(
        pages,
        api,
        targets,
        requests=requests,
        warmup=warmup,
        progress=say,
        each_round=replays.replay,
    )
    heat = next(r for r in results if r.name == "heat map, page 1")
    floor = replays.report()
    ratio = round(heat.p95_ms / floor["p95_ms"], 2) if floor["p95_ms"] else None

    import_kpis, push_sets = _scratch(org, import_rows, push_rows, pushes)
    weeks = _weeks_back(WEEKS, timezone.localdate())
    data = _csv(org, import_kpis, weeks, import_rows)
    say(f"importing a CSV of {import_rows} rows ({len(data) // 1024} KiB)")
    from carte.operations.importing import import_measurements

    actor = Actor.for_system(org, user)
    wall, cpu = perf_counter(), process_time()
    outcome = import_measurements(
        actor=actor, source=io.BytesIO(data), name="bench.csv", dry_run=False
    )
    wall, cpu = perf_counter() - wall, process_time() - cpu
    rows = import_rows
    if Measurement.objects.filter(kpi__in=import_kpis).count() != rows:  # all or nothing
        raise BenchError(f"The import did not record {rows} rows: {outcome!r}")
    imported = {
        "rows": rows,
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "rows_per_s": round(rows / wall),
        "target_rows_per_s": IMPORT_ROWS_PER_S_TARGET,
        "meets_targets": rows / wall >= IMPORT_ROWS_PER_S_TARGET,
    }
    say(f"pushing {pushes} x {push_rows} rows through the API")
    push_times = []
    for kpis in push_sets:
        cells = [(k, i, w) for k in kpis for i, w in enumerate(weeks)][:push_rows]
        body = {
            "rows": [
                {"kpi": k.pk, "period": w.isoformat(), "value": str(40 + i % 30), "comment": ""}
                for k, i, w in cells
            ]
        }
        payload = json.dumps(body)
        start = perf_counter()
        response = api.post(f"{api_base}measurements", payload, content_type="application/json")
        push_times.append(perf_counter() - start)
        if response.status_code not in (200, 201):
            raise BenchError(
                f"The push answered {response.status_code}: {response.content[:300]!r}"
            )
    pushed = {
        "rows_each": push_rows,
        "pushes": pushes,
        "seconds": [round(t, 3) for t in push_times],
        "max_s": round(max(push_times), 3),
        "target_s": PUSH_TARGET_S,
        "meets_targets": max(push_times) <= PUSH_TARGET_S,
    }
    return {
        **environment(reference),
        "scale": {
            "services": total,
            "kpis": KPI.objects.filter(organisation=org).count(),
            "measurements": Measurement.objects.filter(organisation=org).count(),
        },
        "targets": {
            "heatmap_p95_ms": HEATMAP_TARGET_MS,
            "heatmap_floor_ratio": HEATMAP_FLOOR_RATIO,
            "tab_p95_ms": TAB_TARGET_MS,
            "import_rows_per_s": IMPORT_ROWS_PER_S_TARGET,
            "push_s": PUSH_TARGET_S,
        },
        "results": [r.__dict__ for r in results],
        "heatmap_floor": {
            **floor,
            "statements": len(statements),
            "page_p95_ms": heat.p95_ms,
            "ratio": ratio,
            "meets_targets": ratio is not None and ratio <= HEATMAP_FLOOR_RATIO,
        },
        "import": imported,
        "push": pushed,
    }
