"""The catalogue benchmark: one organisation `bench-cat` with N services of 20 SIPOC rows.

`seed_catalogue` writes everything through `carte.catalogue.services` as the system actor
(one transaction per service); `run_catalogue` times the catalogue pages, the API list and
the dependency graph with the in-process test client, then the .xlsx export and import
(time, tracemalloc peak and the process's peak RSS). See bench/README.md, "Catalogue".
"""

from __future__ import annotations

import io
import random
import resource
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from statistics import fmean
from time import perf_counter, process_time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.run import BenchError, cpu_reference_ms, environment, percentile
from bench.seed import BENCH_EMAIL, BENCH_PASSWORD, purge_slug
from carte.catalogue import services as catalogue
from carte.catalogue.choices import (
    PricingBasis,
    Scope,
    ServiceRoleKind,
    Stage,
    SupplierKind,
)
from carte.catalogue.models import (
    Category,
    Service,
    ServiceInput,
    ServiceOutput,
    Symptom,
)
from carte.catalogue.transfer.export import export_bytes
from carte.catalogue.transfer.importer import import_catalogue
from carte.core.models import AuditEntry
from carte.organisations import services as orgs
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import PMO, CustomerGroup, Organisation, Person, User

SLUG = "bench-cat"
IMPORT_SLUG = "bench-cat-import"  # the fresh organisation the .xlsx is imported into
DEFAULT_SERVICES = 2000

PAGE_TARGET_MS = 50.0
SEARCH_TARGET_MS = 60.0
GRAPH_TARGET_MS = 300.0
TRANSFER_TARGET_S = 10.0

PMOS = 4
PEOPLE = 24
GROUPS = 6
CATEGORIES = (
    "Governance and assurance",
    "Portfolio management",
    "Planning and control",
    "Reporting and information",
    "Capability and methods",
    "Resource management",
    "Change and benefits",
    "Tools and systems",
)
SYMPTOMS = 30
# Output nouns; the search word matches one in eight services' outputs, and no service
# name, summary or description (those use the topics below).
OUTPUT_NOUNS = ("report", "register", "plan", "dashboard", "forecast", "log", "review", "pack")
SEARCH_WORD = "forecast"
TOPICS = ("schedule", "cost", "risk", "benefit", "resource", "quality", "supplier", "scope")
SCOPES = tuple(Scope)
RUNNING_EVERY = 5  # services with (index % 5) < 3 are published and marked running: 60 %
# 20 SIPOC rows per service: 3 suppliers, 4 inputs, 6 steps, 4 outputs, 3 customers.
SUPPLIERS, INPUTS, STEPS, OUTPUTS, CUSTOMERS = 3, 4, 6, 4, 3
SIPOC_ROWS = SUPPLIERS + INPUTS + STEPS + OUTPUTS + CUSTOMERS


# ------------------------------------------------------------------------- seeding


@dataclass
class _Org:
    """The shared rows services refer to."""

    org: Organisation
    actor: Actor
    pmos: list[PMO]
    people: list[Person]
    groups: list[CustomerGroup]


def _people_org(slug: str, name: str, user: User | None) -> _Org:
    """An organisation with PMOs, people and customer groups (the same in both)."""
    org = orgs.organisation_create(name=name, slug=slug)
    actor = Actor.for_system(org)
    if user is not None:
        orgs.membership_create(actor=actor, email=user.email, roles=[OrgRole.ADMIN])
    pmos: list[PMO] = []
    for p in range(PMOS):
        pmos.append(
            orgs.pmo_create(
                actor=actor,
                name=f"PMO {p:02d}" if p else "Enterprise PMO",
                kind=PMOKind.DEPARTMENTAL if p else PMOKind.ENTERPRISE,
                parent=pmos[0] if pmos else None,
            )
        )
    groups = [
        orgs.customer_group_create(actor=actor, name=f"Business unit {g:02d}")
        for g in range(GROUPS)
    ]
    people = [
        orgs.person_create(
            actor=actor,
            name=f"Person {i:03d}",
            email=f"person-{i:03d}@bench-cat.example",
            job_title="Service Manager" if i % 2 else "PMO Lead",
            pmo=pmos[i % PMOS],
        )
        for i in range(PEOPLE)
    ]
    return _Org(org, actor, pmos, people, groups)


def _service(
    base: _Org,
    i: int,
    rng: random.Random,
    categories: list[Category],
    symptoms: list[Symptom],
    earlier: list[ServiceOutput],
) -> tuple[Service, list[ServiceOutput]]:
    """The i-th service with 3 levels, 20 SIPOC rows, roles and 2 symptom links."""
    actor = base.actor
    topic = TOPICS[i % len(TOPICS)]
    delivering = [base.pmos[i % PMOS]] + ([base.pmos[(i + 1) % PMOS]] if i % 3 == 0 else [])
    paid = i % 4 != 0
    service = catalogue.service_create(
        actor=actor,
        delivering_pmos=delivering,
        code=f"SVC-{i:05d}",
        name=f"{topic.capitalize()} service {i:05d}",
        category=categories[i % len(categories)],
        summary=f"Helps projects with their {topic} work, number {i}.",
        description=f"The PMO supports {topic} management for projects and programmes ({i}).",
        outcome=f"Better {topic} decisions.",
        rationale=["effective", "control"] if i % 2 else ["efficient"],
        scopes=[str(SCOPES[i % len(SCOPES)]), str(SCOPES[(i + 3) % len(SCOPES)])],
        hours="Mon-Fri 08:00-17:00",
        pricing_basis=PricingBasis.FIXED_FEE if paid else PricingBasis.FREE,
        price=Decimal(100 + i % 900) if paid else None,
        currency="EUR" if paid else "",
        price_unit="per month" if paid else "",
    )

    def add(kind: str, /, **data: Any) -> Any:
        return catalogue.part_create(actor=actor, service=service, kind=kind, data=data)

    for pos, (level, hours) in enumerate((("Light", 4), ("Standard", 12), ("Intensive", 30)), 1):
        add("levels", name=level, position=pos, effort_hours=Decimal(hours))
    customers = [base.groups[(i + c) % GROUPS] for c in range(CUSTOMERS)]
    suppliers = [
        add("suppliers", kind=SupplierKind.ROLE, name="Project managers", position=1),
        add("suppliers", kind=SupplierKind.SYSTEM, name="Portfolio tool", position=2),
        add(
            "suppliers",
            kind=SupplierKind.CUSTOMER_GROUP,
            name=customers[0].name,
            customer_group=customers[0],
            position=3,
        ),
    ]
    # About one input in four comes from an output of a lower-numbered service: no cycles.
    for pos in range(1, INPUTS + 1):
        data: dict[str, Any] = {
            "name": f"Input {pos} of {i:05d}",
            "quality_criteria": "Complete and on time.",
            "is_trigger": pos == 1,
            "position": pos,
        }
        if pos > 1 and earlier and rng.random() < 1 / 3:  # 3 of 4 inputs may: 1 in 4 overall
            data["source_output"] = rng.choice(earlier)
        else:
            data["supplier"] = suppliers[(pos - 1) % SUPPLIERS]
        add("inputs", **data)
    for pos in range(1, STEPS + 1):
        add("steps", name=f"Step {pos}", performer="Service Manager", position=pos)
    outputs = [
        add(
            "outputs",
            name=f"{topic.capitalize()} {OUTPUT_NOUNS[(i + o) % len(OUTPUT_NOUNS)]} {o + 1}",
            quality_criteria="Checked by the Service Manager.",
            position=o + 1,
            customers=customers[: 1 + o % CUSTOMERS],
        )
        for o in range(OUTPUTS)
    ]
    for group in customers:
        add("customers", customer_group=group)
    add("roles", role=ServiceRoleKind.OWNER, person=base.people[i % PEOPLE])
    for pmo in delivering:
        manager = base.people[(base.pmos.index(pmo) + 4 * (i % 5)) % PEOPLE]
        add("roles", role=ServiceRoleKind.MANAGER, person=manager, pmo=pmo)
    for s in rng.sample(range(len(symptoms)), 2):
        add("symptoms", symptom=symptoms[s], weight=1 + (i + s) % 5)
    if i % RUNNING_EVERY < 3:
        catalogue.service_publish(actor=actor, service=service, note="First published.")
    return service, outputs


def seed_catalogue(
    services: int = DEFAULT_SERVICES,
    *,
    progress: Callable[[str], None] | None = None,
) -> Organisation:
    """Replace `bench-cat` (and any import target) with a catalogue of `services` services."""
    purge_slug(IMPORT_SLUG)
    purge_slug(SLUG)
    user = orgs.user_get_or_create(
        email=BENCH_EMAIL, full_name="Bench Runner", password_hash=make_password(BENCH_PASSWORD)
    )
    with transaction.atomic():
        base = _people_org(SLUG, "Bench Catalogue", user)
        categories = [
            catalogue.category_create(actor=base.actor, name=name, position=10 * (n + 1))
            for n, name in enumerate(CATEGORIES)
        ]
        symptoms = [
            catalogue.symptom_create(actor=base.actor, statement=f"Recurring problem number {s}")
            for s in range(SYMPTOMS)
        ]
    rng = random.Random(20261122)
    earlier: list[ServiceOutput] = []
    running: list[int] = []
    start = perf_counter()
    for i in range(services):
        with transaction.atomic():  # one per service: a few thousand commits, not 60,000
            service, outputs = _service(base, i, rng, categories, symptoms, earlier)
        earlier.extend(outputs)
        if i % RUNNING_EVERY < 3:
            running.append(service.pk)
        if progress and (i + 1) % 100 == 0:
            elapsed = perf_counter() - start
            progress(
                f"{i + 1}/{services} services, {elapsed:.0f} s ({elapsed / (i + 1):.3f} s each)"
            )
    # A shortcut: rather than walk each service through the lifecycle's transitions, the
    # bench moves the stage with the statement `transition` uses (`_move_stage`), as the
    # test factories do (one statement, no audit entries or timeline events).
    Service.objects.filter(pk__in=running)._move_stage(Stage.RUNNING, timezone.now())
    if connection.vendor == "postgresql":
        # Fresh tables have no planner statistics until autovacuum gets to them; without
        # them the search's EXISTS over outputs took 300 ms instead of 28 ms at 2,000.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return base.org


def seed_import_target() -> Organisation:
    """A fresh organisation with the same PMOs, people and groups as `bench-cat`, no services."""
    purge_slug(IMPORT_SLUG)
    with transaction.atomic():
        return _people_org(IMPORT_SLUG, "Bench Catalogue Import", None).org


# ------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Timed:
    """One endpoint's figures; `target_p95_ms` None when the issue sets no target."""

    name: str
    path: str
    status: int
    requests: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    cpu_mean_ms: float
    queries: int
    response_kb: float
    target_p95_ms: float | None
    meets_targets: bool


def endpoints(org: Organisation, service_id: int) -> list[tuple[str, str, bool, float | None]]:
    """(name, path, api, target p95 ms) of everything timed per request."""
    page, api = f"/o/{org.slug}/catalogue/", f"/api/v1/orgs/{org.slug}/"
    return [
        ("page catalogue", page, False, PAGE_TARGET_MS),
        ("page search", f"{page}?q={SEARCH_WORD}&scope=portfolio", False, SEARCH_TARGET_MS),
        ("page service overview", f"{page}services/{service_id}/", False, PAGE_TARGET_MS),
        ("page service sipoc", f"{page}services/{service_id}/?tab=sipoc", False, PAGE_TARGET_MS),
        ("api services", f"{api}services", True, PAGE_TARGET_MS),
        ("api search", f"{api}services?q={SEARCH_WORD}&scope=portfolio", True, SEARCH_TARGET_MS),
        ("api dependency-graph", f"{api}dependency-graph", True, GRAPH_TARGET_MS),
        ("page dependency-graph", f"{page}graph/", False, None),
    ]


def _get(client: Client, path: str) -> int:
    response = client.get(path)
    if response.status_code != 200:
        raise BenchError(f"GET {path} returned {response.status_code}, not 200.")
    return len(response.content)


def _measure_requests(
    pages: Client,
    api: Client,
    targets: list[tuple[str, str, bool, float | None]],
    *,
    requests: int,
    warmup: int,
    progress: Callable[[str], None] | None,
) -> list[Timed]:
    """Like bench.run.measure: warm up, count one request's queries, then time round-robin."""
    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for name, path, is_api, _ in targets:
        if progress:
            progress(f"warming up {name}: {path}")
        client = api if is_api else pages
        for _ in range(warmup):
            _get(client, path)
        with CaptureQueriesContext(connection) as captured:
            sizes[name] = _get(client, path)
        queries[name] = len(captured.captured_queries)
    if progress:
        progress(f"timing {requests} rounds of {len(targets)} requests")
    wall: dict[str, list[float]] = {t[0]: [] for t in targets}
    cpu: dict[str, list[float]] = {t[0]: [] for t in targets}
    for _ in range(requests):
        for name, path, is_api, _ in targets:
            wall_start, cpu_start = perf_counter(), process_time()
            _get(api if is_api else pages, path)
            cpu[name].append((process_time() - cpu_start) * 1000)
            wall[name].append((perf_counter() - wall_start) * 1000)
    results = []
    for name, path, _, target in targets:
        p95 = percentile(wall[name], 0.95)
        results.append(
            Timed(
                name=name,
                path=path,
                status=200,
                requests=requests,
                p50_ms=round(percentile(wall[name], 0.5), 3),
                p95_ms=round(p95, 3),
                mean_ms=round(fmean(wall[name]), 3),
                max_ms=round(max(wall[name]), 3),
                cpu_mean_ms=round(fmean(cpu[name]), 3),
                queries=queries[name],
                response_kb=round(sizes[name] / 1024, 1),
                target_p95_ms=target,
                meets_targets=target is None or p95 <= target,
            )
        )
    return results


def _maxrss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _timed_op(name: str, op: Callable[[], Any], *, trace: bool) -> tuple[dict[str, Any], Any]:
    """Run `op` once, timed; with `trace`, under tracemalloc (slower: time it apart)."""
    rss_before = _maxrss_mb()
    if trace:
        tracemalloc.start()
    start, cpu_start = perf_counter(), process_time()
    try:
        value = op()
        seconds = perf_counter() - start
        cpu = process_time() - cpu_start
        peak = tracemalloc.get_traced_memory()[1] if trace else None
    finally:
        if trace:
            tracemalloc.stop()
    entry = {
        "name": name,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "tracemalloc_peak_mb": None if peak is None else round(peak / 2**20, 1),
        "maxrss_mb_before": rss_before,
        "maxrss_mb_after": _maxrss_mb(),
    }
    return entry, value


def _transfer(
    org: Organisation, *, skip_import: bool, progress: Callable[[str], None] | None
) -> list[dict[str, Any]]:
    """Export the catalogue as .xlsx, then import it (dry run and real) into a fresh org."""
    actor = Actor.for_system(org)
    results: list[dict[str, Any]] = []

    def add(entry: dict[str, Any], target: float | None, **more: Any) -> None:
        entry.update(more)
        entry["target_s"] = target
        entry["meets_targets"] = target is None or entry["seconds"] <= target
        results.append(entry)
        if progress:
            progress(f"{entry['name']}: {entry['seconds']} s")

    if progress:
        progress("exporting .xlsx (timed, then under tracemalloc)")
    entry, data = _timed_op("xlsx export", lambda: export_bytes(actor, "xlsx"), trace=False)
    add(entry, TRANSFER_TARGET_S, bytes=len(data))
    entry, _ = _timed_op(
        "xlsx export (tracemalloc)", lambda: export_bytes(actor, "xlsx"), trace=True
    )
    add(entry, None)
    if skip_import:
        return results

    target = Actor.for_system(seed_import_target())
    rows = len(data)

    def do_import(dry: bool) -> Any:
        return import_catalogue(target, io.BytesIO(data), name="catalogue.xlsx", dry_run=dry)

    if progress:
        progress("importing .xlsx: dry run and real, each timed, then under tracemalloc")
    entry, report = _timed_op("xlsx import dry run", lambda: do_import(True), trace=False)
    _check_import(report, dry=True)
    add(entry, TRANSFER_TARGET_S, counts=report.counts())
    entry, report = _timed_op(
        "xlsx import dry run (tracemalloc)", lambda: do_import(True), trace=True
    )
    add(entry, None)
    entry, report = _timed_op("xlsx import", lambda: do_import(False), trace=False)
    _check_import(report, dry=False)
    imported = _imported(target.organisation)
    # Again into a fresh organisation under tracemalloc, for the memory a real import
    # takes: its peak is reported with the (untraced) timing above.
    target = Actor.for_system(seed_import_target())
    traced, report = _timed_op("xlsx import (tracemalloc)", lambda: do_import(False), trace=True)
    _check_import(report, dry=False)
    entry["tracemalloc_peak_mb"] = traced["tracemalloc_peak_mb"]
    entry["maxrss_mb_after"] = traced["maxrss_mb_after"]
    add(entry, TRANSFER_TARGET_S, file_bytes=rows, **imported)
    purge_slug(IMPORT_SLUG)
    return results


def _imported(org: Organisation) -> dict[str, int]:
    """What an import wrote: services, and audit entries (one per row written)."""
    return {
        "services_imported": Service.objects.filter(organisation=org).count(),
        "audit_entries": AuditEntry.objects.filter(organisation=org).count(),
    }


def _check_import(report: Any, *, dry: bool) -> None:
    if report.errors or (not dry and not report.applied):
        first = [str(e) for e in report.errors[:5]]
        raise BenchError(f"The import was refused: {first}")


def catalogue_scale(org: Organisation) -> dict[str, Any]:
    """How much there is in the measured organisation."""
    live = {"organisation": org, "archived_at__isnull": True}
    return {
        "slug": org.slug,
        "services": Service.objects.filter(**live).count(),
        "running": Service.objects.filter(**live, stage=Stage.RUNNING).count(),
        "published": Service.objects.filter(**live, current_version__isnull=False).count(),
        "sipoc_rows_per_service": SIPOC_ROWS,
        "inputs_from_other_services": ServiceInput.objects.filter(
            **live, source_output__isnull=False
        ).count(),
        "categories": Category.objects.filter(**live).count(),
        "people": Person.objects.filter(organisation=org).count(),
        "pmos": PMO.objects.filter(organisation=org).count(),
        "customer_groups": CustomerGroup.objects.filter(organisation=org).count(),
        "audit_entries": AuditEntry.objects.filter(organisation=org).count(),
    }


def run_catalogue(
    *,
    requests: int = 100,
    warmup: int = 5,
    skip_import: bool = False,
    skip_transfer: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time the catalogue pages, API and graph, then the .xlsx export and import."""
    org = Organisation.objects.filter(slug=SLUG).first()
    user = User.objects.filter(email=BENCH_EMAIL).first()
    if org is None or user is None:
        raise BenchError("No catalogue bench data: run `carte bench catalogue-seed`.", exit_code=2)
    # The service page of a service in the middle: its inputs take outputs of earlier ones.
    services = Service.objects.filter(organisation=org).order_by("code")
    middle = services[services.count() // 2 : services.count() // 2 + 1].first()
    if middle is None:
        raise BenchError("The catalogue bench organisation has no services.", exit_code=2)

    reference_before = cpu_reference_ms()
    pages = Client()
    pages.force_login(user)
    token, raw = orgs.token_create(user=user, name="bench catalogue run", organisation=org)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    try:
        timed = _measure_requests(
            pages,
            api,
            endpoints(org, middle.pk),
            requests=requests,
            warmup=warmup,
            progress=progress,
        )
    finally:
        orgs.token_revoke(user=user, token_id=token.pk)
        pages.logout()
    transfer = [] if skip_transfer else _transfer(org, skip_import=skip_import, progress=progress)

    return {
        **environment(reference_before),
        "requests": requests,
        "warmup": warmup,
        "scale": catalogue_scale(org),
        "targets": {
            "page_p95_ms": PAGE_TARGET_MS,
            "search_p95_ms": SEARCH_TARGET_MS,
            "dependency_graph_p95_ms": GRAPH_TARGET_MS,
            "xlsx_export_import_s": TRANSFER_TARGET_S,
        },
        "results": [asdict(t) for t in timed],
        "transfer": transfer,
        "meets_targets": all(t.meets_targets for t in timed)
        and all(e["meets_targets"] for e in transfer),
    }
