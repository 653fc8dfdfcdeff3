"""The lifecycle benchmark: one organisation `bench-life` with N services spread over all
eleven stages, each with a timeline of E events.

`seed_lifecycle` writes everything through the domain functions as the system actor, one
transaction per service: the card through `carte.catalogue.services`, then the service's
real path to its stage through `carte.lifecycle.services.transition` and the steps
between moves, each dated in the past with `as_of`, then timeline notes (spread over the
service's life) until it has E events. `run_lifecycle` times the board, a service's
Lifecycle page with its timeline and the lifecycle API with the in-process test client,
then moves services through `POST …/transitions`. See bench/README.md, "Lifecycle".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from statistics import fmean
from time import perf_counter, process_time
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Count, Max, Min
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.run import BenchError, Endpoint, cpu_reference_ms, environment, measure, percentile
from bench.seed import BENCH_EMAIL, BENCH_PASSWORD
from bench.seed import purge_slug as _purge
from carte.catalogue import services as catalogue
from carte.catalogue.choices import ArtefactKind, Scope, ServiceRoleKind, Stage, SupplierKind
from carte.catalogue.models import Artefact, Category, Service
from carte.core.models import AuditEntry
from carte.lifecycle import services as lifecycle
from carte.lifecycle.choices import READINESS_QUESTIONS, Answer, CriterionResultKind
from carte.lifecycle.models import LifecycleEvent, SuccessCriterion
from carte.lifecycle.selectors import MAIN_PATH
from carte.organisations import services as orgs
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.models import PMO, CustomerGroup, Organisation, Person, User

SLUG = "bench-life"
MOVES_SLUG = "bench-life-moves"  # a scratch organisation for the approvals, removed after
DEFAULT_SERVICES = 2000
DEFAULT_EVENTS = 50

BOARD_TARGET_MS = 80.0
SERVICE_PAGE_TARGET_MS = 50.0
API_TARGET_MS = 25.0
MOVES_PER_S_TARGET = 100.0

S = Stage
# The i-th service goes to STAGE_CYCLE[i % 20]: half running, 5 % at each other stage.
# The first three are running, proposed and closed, so even 5 services have what the run
# measures (a running and a closed service, a proposal to move).
STAGE_CYCLE: tuple[str, ...] = (
    S.RUNNING,
    S.PROPOSED,
    S.CLOSED,
    S.RUNNING,
    S.DEFERRED,
    S.RUNNING,
    S.DESIGN,
    S.RUNNING,
    S.PILOT,
    S.RUNNING,
    S.SIGNED_OFF,
    S.RUNNING,
    S.TRANSITION,
    S.RUNNING,
    S.CLOSING,
    S.RUNNING,
    S.APPROVED_FOR_SETUP,
    S.RUNNING,
    S.REJECTED,
    S.RUNNING,
)
PMOS = 4  # the first is the enterprise PMO; a Centre of Excellence besides them
PEOPLE = 16
GROUPS = 4
CATEGORIES = ("Governance", "Planning", "Reporting", "Capability", "Resources", "Change")
TOPICS = ("schedule", "cost", "risk", "benefit", "resource", "quality", "supplier", "scope")
SETUP_TASKS = (("Write the procedures", 14), ("Train the operatives", 28), ("Brief customers", 42))
CLOSURE_TASKS = (("Tell customers", 7), ("Hand over open work", 21))
NOTES = (
    "Minutes of the steering meeting: scope confirmed, no change to the plan.",
    "Call with the pilot customers; they asked for a shorter report.",
    "Budget line confirmed for next year by the finance business partner.",
    "Reviewed the procedure with the operatives; two steps clarified.",
    "Quarterly service review: customers satisfied, one complaint about lead times.",
    "Link to the updated slide deck is on the intranet page.",
)
DAY = dt.timedelta(days=1)


# ------------------------------------------------------------------------- seeding


@dataclass
class _Base:
    """The rows every service of an organisation refers to."""

    org: Organisation
    actor: Actor
    pmos: list[PMO]
    people: list[Person]
    groups: list[CustomerGroup]
    categories: list[Category]
    setup_template: Artefact
    closure_template: Artefact


def _base(slug: str, name: str, user: User) -> _Base:
    """An organisation with PMOs, a Centre of Excellence and its task-list templates,
    people, customer groups and categories; `user` is its Director (and administrator)."""
    org = orgs.organisation_create(name=name, slug=slug)
    actor = Actor.for_system(org, user)
    orgs.membership_create(actor=actor, email=user.email, roles=[OrgRole.ADMIN, OrgRole.DIRECTOR])
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
    coe = orgs.pmo_create(
        actor=actor, name="Centre of Excellence", kind=PMOKind.CENTRE_OF_EXCELLENCE, parent=pmos[0]
    )
    templates = []
    for title, tasks in (
        ("Service set-up plan", SETUP_TASKS),
        ("Service closure plan", CLOSURE_TASKS),
    ):
        template = catalogue.artefact_create(
            actor=actor, name=title, kind=ArtefactKind.TEMPLATE, owner_pmo=coe
        )
        for position, (task, days) in enumerate(tasks, start=1):
            lifecycle.template_task_create(
                actor=actor,
                template=template,
                data={"title": task, "due_after_days": days, "position": position},
            )
        templates.append(template)
    groups = [
        orgs.customer_group_create(actor=actor, name=f"Business unit {g:02d}")
        for g in range(GROUPS)
    ]
    people = [
        orgs.person_create(
            actor=actor,
            name=f"Person {i:03d}",
            email=f"person-{i:03d}@{slug}.example",
            job_title="Service Manager" if i % 2 else "PMO Lead",
            pmo=pmos[i % PMOS],
        )
        for i in range(PEOPLE)
    ]
    categories = [
        catalogue.category_create(actor=actor, name=title, position=10 * (n + 1))
        for n, title in enumerate(CATEGORIES)
    ]
    return _Base(org, actor, pmos, people, groups, categories, templates[0], templates[1])


def _card(base: _Base, i: int, *, roles: bool = True) -> Service:
    """The i-th service with a minimal card that meets every check of the main path:
    outcome, scope, a supplier, an input, two steps, an output, a customer, a procedure,
    and (with `roles`) an Owner and a Manager for each delivering PMO."""
    actor = base.actor
    topic = TOPICS[i % len(TOPICS)]
    group = base.groups[i % GROUPS]
    delivering = [base.pmos[i % PMOS]] + ([base.pmos[(i + 1) % PMOS]] if i % 3 == 0 else [])
    service = catalogue.service_create(
        actor=actor,
        delivering_pmos=delivering,
        code=f"LIFE-{i:05d}",
        name=f"{topic.capitalize()} service {i:05d}",
        category=base.categories[i % len(base.categories)],
        summary=f"Helps projects with their {topic} work, number {i}.",
        outcome=f"Better {topic} decisions in every programme.",
        scopes=[str(Scope.PORTFOLIO), str(Scope.PROGRAMME)],
    )

    def add(kind: str, /, **data: Any) -> Any:
        return catalogue.part_create(actor=actor, service=service, kind=kind, data=data)

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
        name=f"{topic.capitalize()} report",
        quality_criteria="Within five working days.",
        customers=[group],
        position=1,
    )
    add("customers", customer_group=group)
    catalogue.artefact_create(
        actor=actor,
        name=f"{service.name}: procedure",
        kind=ArtefactKind.PROCEDURE,
        owner_service=service,
        url=f"https://intranet.bench.example/procedures/{service.code.lower()}",
    )
    if roles:
        add("roles", role=ServiceRoleKind.OWNER, person=_owner(base, i))
        for pmo in delivering:
            add("roles", role=ServiceRoleKind.MANAGER, person=_manager(base, i, pmo), pmo=pmo)
    return service


def _owner(base: _Base, i: int) -> Person:
    return base.people[i % PEOPLE]


def _manager(base: _Base, i: int, pmo: PMO) -> Person:
    return base.people[(base.pmos.index(pmo) + PMOS * (1 + i % 3)) % PEOPLE]


def decision_payload(base: _Base, service: Service, i: int) -> dict[str, Any]:
    """The Director's set-up decision (M-14), as `transition()` takes it."""
    pmos = list(service.delivering_pmos.order_by("pk"))
    return {
        "delivering_pmos": pmos,
        "owner": _owner(base, i),
        "managers": {pmo: _manager(base, i, pmo) for pmo in pmos},
        "sourcing": "in_house",
        "strategy_fit": "Supports objective 2 of the service strategy.",
        "capacity": "Two analysts free from next quarter.",
        "other_services": "The PMO also runs reporting and gate reviews.",
        "stakeholders": "Programme directors asked for it.",
        "scope": "All programmes over 1 M EUR.",
    }


class _Walk:
    """Takes one service along the main path to its stage, a dated step at a time."""

    def __init__(self, base: _Base, service: Service, i: int, start: dt.datetime) -> None:
        self.base, self.service, self.i = base, service, i
        self.actor = base.actor
        self.clock = start
        self.group = base.groups[i % GROUPS]
        self.operative = base.people[(i + 7) % PEOPLE]

    @contextmanager
    def later(self, days: int) -> Iterator[None]:
        """Move the clock on (never past an hour ago) and date what is written then."""
        self.clock = min(self.clock + days * DAY, timezone.now() - dt.timedelta(hours=1))
        with lifecycle.as_of(self.clock):
            yield

    def move(self, to: str, days: int, note: str = "", **payload: Any) -> None:
        with self.later(days):
            lifecycle.transition(
                actor=self.actor, service=self.service, to=to, note=note, **payload
            )

    def to(self, stage: str) -> None:
        if stage in (S.DEFERRED, S.REJECTED):
            self.move(stage, 5, note="Discussed at the PMO leadership meeting.")
            return
        # How far along the main path (deferred and rejected leave it at once).
        for step in MAIN_PATH[1 : MAIN_PATH.index(S(stage)) + 1]:
            getattr(self, f"_{step}")()

    def _approved_for_setup(self) -> None:
        payload = decision_payload(self.base, self.service, self.i)
        self.move(S.APPROVED_FOR_SETUP, 5, note="Agreed at the leadership meeting.", **payload)

    def _design(self) -> None:
        self.move(S.DESIGN, 5, template=self.base.setup_template)
        with self.later(3):
            lifecycle.criterion_create(
                actor=self.actor,
                service=self.service,
                description="Reports are on time for 4 of 5 pilot programmes",
                measure="Counted at the end of the pilot.",
                agreed_with_groups=[self.group],
            )

    def _pilot(self) -> None:
        supplier = self.service.suppliers.get()
        start = self.clock.date() + 10 * DAY
        self.move(
            S.PILOT,
            10,
            note="Pilot with one business unit.",
            starts_on=start,
            ends_on=start + 30 * DAY,
            suppliers=[supplier],
            customers=[self.group],
            operatives=[self.operative],
        )

    def _signed_off(self) -> None:
        with self.later(40):
            lifecycle.pilot_result_record(
                actor=self.actor,
                service=self.service,
                results=[
                    lifecycle.CriterionOutcome(c, CriterionResultKind.MET, "Seen in the reports")
                    for c in SuccessCriterion.objects.filter(service=self.service, archived_at=None)
                ],
                governance_in_place=True,
                resources_confirmed=True,
                outcomes_validated=True,
                note="The pilot went as planned.",
            )
        self.move(S.SIGNED_OFF, 5, note="Signed off after the pilot review.")

    def _transition(self) -> None:
        with self.later(7):
            lifecycle.readiness_record(
                actor=self.actor,
                service=self.service,
                assessor=_owner(self.base, self.i),
                assessed_on=lifecycle.today(),
                answers=[lifecycle.ReadinessItem(q, Answer.YES) for q in READINESS_QUESTIONS],
                verdict="ready",
            )
        today = self.clock.date()
        self.move(
            S.TRANSITION,
            3,
            approach="phased",
            behavioural_change="Coaching for programme managers in the first month.",
            phases=[
                {
                    "name": "First business unit",
                    "starts_on": today,
                    "ends_on": today + 14 * DAY,
                    "customer_groups": [self.group],
                },
                {
                    "name": "Everyone else",
                    "starts_on": today + 15 * DAY,
                    "ends_on": today + 45 * DAY,
                },
            ],
        )

    def _running(self) -> None:
        plan = self.service.transition_plans.get()
        for phase in plan.phases.order_by("position"):
            with self.later(21):
                lifecycle.phase_update(actor=self.actor, phase=phase, data={"done": True})
        self.move(S.RUNNING, 1, note="Live for every business unit.")

    def _closing(self) -> None:
        self.move(
            S.CLOSING,
            60,
            reason="objective_achieved",
            explanation="Every programme now does this on its own.",
            template=self.base.closure_template,
        )

    def _closed(self) -> None:
        with self.later(14):
            for artefact in Artefact.objects.filter(
                owner_service=self.service, archived_at__isnull=True
            ):
                lifecycle.artefact_decide(
                    actor=self.actor,
                    service=self.service,
                    artefact=artefact,
                    fate="keep",
                    note="Useful if the service comes back.",
                )
        self.move(S.CLOSED, 10, note="Closure approved at the service review.", approve=True)


def _start(i: int, stage: str, now: dt.datetime) -> dt.datetime:
    """When the i-th service's life began: running and closed services long ago (spread
    over two years), services still being set up in the last months."""
    if stage in (S.RUNNING, S.CLOSING, S.CLOSED):
        return now - (400 + (i * 37) % 400) * DAY
    return now - (90 + (i * 13) % 200) * DAY


def _notes(base: _Base, service: Service, begin: dt.datetime, count: int) -> None:
    """`count` timeline notes spread evenly from `begin` to an hour ago."""
    if count <= 0:
        return
    end = timezone.now() - dt.timedelta(hours=1)
    step = (end - begin) / count
    for n in range(count):
        with lifecycle.as_of(begin + step * (n + 0.5)):
            lifecycle.note_add(
                actor=base.actor, service=service, note=NOTES[(service.pk + n) % len(NOTES)]
            )


def seed_lifecycle(
    services: int = DEFAULT_SERVICES,
    events: int = DEFAULT_EVENTS,
    *,
    progress: Callable[[str], None] | None = None,
) -> Organisation:
    """Replace `bench-life` with `services` services spread over all stages, each taken
    there along its real path and given timeline notes up to `events` events."""
    _purge(MOVES_SLUG)
    _purge(SLUG)
    user = orgs.user_get_or_create(
        email=BENCH_EMAIL, full_name="Bench Runner", password_hash=make_password(BENCH_PASSWORD)
    )
    with transaction.atomic():
        base = _base(SLUG, "Bench Lifecycle", user)
    now = timezone.now()
    start = perf_counter()
    for i in range(services):
        stage = STAGE_CYCLE[i % len(STAGE_CYCLE)]
        with transaction.atomic():  # one per service
            service = _card(base, i)
            begin = _start(i, stage, now)
            _Walk(base, service, i, begin).to(stage)
            have = LifecycleEvent.objects.filter(service=service).count()
            _notes(base, service, begin, events - have)
        if progress and (i + 1) % 100 == 0:
            elapsed = perf_counter() - start
            progress(
                f"{i + 1}/{services} services, {elapsed:.0f} s ({elapsed / (i + 1):.3f} s each)"
            )
    if connection.vendor == "postgresql":
        # Fresh tables have no planner statistics until autovacuum reaches them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return base.org


# ------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Moves:
    """Figures of a loop of `POST …/transitions`, one move per request."""

    name: str
    moves: int
    seconds: float
    moves_per_s: float
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    cpu_mean_ms: float
    queries: dict[str, int]  # per move, by move
    target_moves_per_s: float
    meets_targets: bool


def endpoints(org: Organisation, running: Service, closed: Service) -> list[Endpoint]:
    """The board, two services' Lifecycle pages and their lifecycle API (a running one,
    the common case, and a closed one, which has a record of every stage)."""
    page, api = f"/o/{org.slug}/", f"/api/v1/orgs/{org.slug}/services/"
    out = [Endpoint("page board", f"{page}lifecycle/", False, BOARD_TARGET_MS)]
    for label, service in (("running", running), ("closed", closed)):
        out.append(
            Endpoint(
                f"page service lifecycle ({label})",
                f"{page}catalogue/services/{service.pk}/lifecycle/",
                False,
                SERVICE_PAGE_TARGET_MS,
            )
        )
    for label, service in (("running", running), ("closed", closed)):
        out.append(
            Endpoint(
                f"api lifecycle ({label})",
                f"{api}{service.pk}/lifecycle",
                True,
                API_TARGET_MS,
            )
        )
    out.append(Endpoint("api events (running)", f"{api}{running.pk}/events", True, API_TARGET_MS))
    return out


def _post(client: Client, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, body, content_type="application/json")
    if response.status_code != 201:
        raise BenchError(
            f"POST {path} {body.get('to')} returned {response.status_code}, not 201: "
            f"{response.content[:300]!r}"
        )


def _time_moves(
    name: str,
    client: Client,
    steps: list[tuple[str, dict[str, Any]]],
    queries: dict[str, int],
) -> Moves:
    """POST each (path, body) in turn, timing each request."""
    wall: list[float] = []
    cpu: list[float] = []
    loop_start = perf_counter()
    for path, body in steps:
        wall_start, cpu_start = perf_counter(), process_time()
        _post(client, path, body)
        cpu.append((process_time() - cpu_start) * 1000)
        wall.append((perf_counter() - wall_start) * 1000)
    seconds = perf_counter() - loop_start
    rate = len(steps) / seconds
    return Moves(
        name=name,
        moves=len(steps),
        seconds=round(seconds, 3),
        moves_per_s=round(rate, 1),
        p50_ms=round(percentile(wall, 0.5), 3),
        p95_ms=round(percentile(wall, 0.95), 3),
        mean_ms=round(fmean(wall), 3),
        max_ms=round(max(wall), 3),
        cpu_mean_ms=round(fmean(cpu), 3),
        queries=queries,
        target_moves_per_s=MOVES_PER_S_TARGET,
        meets_targets=rate >= MOVES_PER_S_TARGET,
    )


def _count(client: Client, path: str, body: dict[str, Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        _post(client, path, body)
    return len(captured.captured_queries)


def _defer_repropose(
    org: Organisation, api: Client, moves: int, progress: Callable[[str], None] | None
) -> Moves:
    """Defer proposals and propose them again (the Director's moves), round-robin over up to
    50 proposals, so the data ends as it began; `moves` moves are timed."""
    ids = list(
        Service.objects.filter(organisation=org, stage=S.PROPOSED, archived_at__isnull=True)
        .order_by("code")
        .values_list("pk", flat=True)[:50]
    )
    if not ids:
        raise BenchError("The lifecycle bench organisation has no proposals to move.", exit_code=2)
    base = f"/api/v1/orgs/{org.slug}/services/"
    defer = {"to": S.DEFERRED, "note": "Wait for next quarter's budget round."}
    again = {"to": S.PROPOSED, "note": "The budget is there now."}
    # Untimed: one pair to warm up, one whose queries are counted.
    _post(api, f"{base}{ids[0]}/transitions", defer)
    _post(api, f"{base}{ids[0]}/transitions", again)
    counted = {
        "defer": _count(api, f"{base}{ids[0]}/transitions", defer),
        "repropose": _count(api, f"{base}{ids[0]}/transitions", again),
    }
    steps: list[tuple[str, dict[str, Any]]] = []
    deferred: set[int] = set()
    while len(steps) < moves:
        for pk in ids:
            steps.append((f"{base}{pk}/transitions", again if pk in deferred else defer))
            deferred ^= {pk}
            if len(steps) == moves:
                break
    if progress:
        progress(f"timing {moves} defer / propose-again moves over {len(ids)} proposals")
    result = _time_moves("defer / propose again", api, steps, counted)
    for pk in deferred:  # untimed: leave every proposal as it was
        _post(api, f"{base}{pk}/transitions", again)
    return result


def _approvals(user: User, count: int, progress: Callable[[str], None] | None) -> Moves:
    """Approve set-up of `count` fresh proposals with the full decision payload (the move
    that writes most: the decision, the delivery, the Owner's and Managers' roles). They
    are made, untimed, in a scratch organisation removed afterwards, so the bench
    organisation keeps its shape run after run."""
    _purge(MOVES_SLUG)
    with transaction.atomic():
        base = _base(MOVES_SLUG, "Bench Lifecycle Moves", user)
        proposals = [_card(base, i, roles=False) for i in range(count + 1)]
    token, raw = orgs.token_create(user=user, name="bench lifecycle moves", organisation=base.org)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    try:
        steps = []
        for i, service in enumerate(proposals):
            data = decision_payload(base, service, i)
            body = {
                **{k: v for k, v in data.items() if isinstance(v, str)},
                "to": S.APPROVED_FOR_SETUP,
                "note": "Agreed at the leadership meeting.",
                "delivering_pmos": [p.pk for p in data["delivering_pmos"]],
                "owner": data["owner"].pk,
                "managers": [{"pmo": p.pk, "person": m.pk} for p, m in data["managers"].items()],
            }
            steps.append((f"/api/v1/orgs/{MOVES_SLUG}/services/{service.pk}/transitions", body))
        counted = {"approve": _count(api, *steps[0])}  # untimed: warms up and counts
        if progress:
            progress(f"timing {count} set-up approvals")
        return _time_moves("approve set-up", api, steps[1:], counted)
    finally:
        orgs.token_revoke(user=user, token_id=token.pk)
        _purge(MOVES_SLUG)


def lifecycle_scale(org: Organisation) -> dict[str, Any]:
    """How much there is in the measured organisation."""
    services = Service.objects.filter(organisation=org, archived_at__isnull=True)
    stages = dict(services.values_list("stage").annotate(n=Count("id")).order_by())
    per_service = (
        LifecycleEvent.objects.filter(organisation=org)
        .values("service")
        .annotate(n=Count("id"))
        .aggregate(low=Min("n"), high=Max("n"))
    )
    return {
        "slug": org.slug,
        "services": services.count(),
        "stages": {s: stages.get(s, 0) for s in Stage.values},
        "events": LifecycleEvent.objects.filter(organisation=org).count(),
        "events_per_service": {"min": per_service["low"], "max": per_service["high"]},
        "audit_entries": AuditEntry.objects.filter(organisation=org).count(),
    }


def _pick(org: Organisation, stage: str) -> Service:
    """The service of `stage` nearest the middle of its stage's services."""
    qs = Service.objects.filter(organisation=org, stage=stage, archived_at__isnull=True).order_by(
        "code"
    )
    n = qs.count()
    service = qs[n // 2 : n // 2 + 1].first()
    if service is None:
        raise BenchError(
            f"The lifecycle bench organisation has no {Stage(stage).label.lower()} service.",
            exit_code=2,
        )
    return service


def run_lifecycle(
    *,
    requests: int = 100,
    warmup: int = 5,
    moves: int = 200,
    approvals: int = 50,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time the board, the Lifecycle pages and API, then transitions through the API."""
    org = Organisation.objects.filter(slug=SLUG).first()
    user = User.objects.filter(email=BENCH_EMAIL).first()
    if org is None or user is None:
        raise BenchError("No lifecycle bench data: run `carte bench lifecycle-seed`.", exit_code=2)
    running, closed = _pick(org, S.RUNNING), _pick(org, S.CLOSED)
    scale = lifecycle_scale(org)

    reference_before = cpu_reference_ms()
    pages = Client()
    pages.force_login(user)
    token, raw = orgs.token_create(user=user, name="bench lifecycle run", organisation=org)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    try:
        timed = measure(
            pages,
            api,
            endpoints(org, running, closed),
            requests=requests,
            warmup=warmup,
            progress=progress,
        )
        transitions = [_defer_repropose(org, api, moves, progress)]
    finally:
        orgs.token_revoke(user=user, token_id=token.pk)
        pages.logout()
    if approvals:
        transitions.append(_approvals(user, approvals, progress))

    return {
        **environment(reference_before),
        "requests": requests,
        "warmup": warmup,
        "scale": scale,
        "measured": {"running": running.code, "closed": closed.code},
        "targets": {
            "board_p95_ms": BOARD_TARGET_MS,
            "service_page_p95_ms": SERVICE_PAGE_TARGET_MS,
            "api_p95_ms": API_TARGET_MS,
            "transitions_per_s": MOVES_PER_S_TARGET,
        },
        "results": [asdict(t) for t in timed],
        "transitions": [asdict(m) for m in transitions],
        "meets_targets": all(t.meets_targets for t in timed)
        and all(m.meets_targets for m in transitions),
    }
