"""Time Carte's list pages and API lists against the bench data, in-process.

Requests go through Django's test `Client`: the whole middleware stack, URL routing, views,
templates and SQL, but no network and no WSGI server. Each endpoint gets `warmup` untimed
requests and one whose SQL queries are counted; then `requests` rounds time every endpoint
once each.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from math import ceil
from statistics import fmean
from time import perf_counter, process_time
from typing import Any

import django
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.seed import BENCH_EMAIL, SCALES, bench_organisations
from carte.core.models import AuditEntry
from carte.organisations import services
from carte.organisations.models import PMO, CustomerGroup, Membership, Organisation, Person, User

LIST_TARGET_MS = 50.0
TRIVIAL_TARGET_MS = 5.0


class BenchError(Exception):
    """A run that cannot go on; `exit_code` 2 when the user can fix it (e.g. not seeded)."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Endpoint:
    """One URL to time, and the p95 it should stay under."""

    name: str
    path: str
    api: bool  # sends the bearer token instead of the session cookie
    target_p95_ms: float


@dataclass(frozen=True)
class Measurement:
    """One endpoint's figures, as they appear in the JSON report."""

    name: str
    path: str
    status: int
    requests: int
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float
    cpu_mean_ms: float  # this process only: not the database server, nor waiting for a CPU
    queries: int
    target_p95_ms: float
    meets_targets: bool


def endpoints(org: Organisation, pmo_id: int) -> list[Endpoint]:
    """The list pages, the API lists and one trivial API request of one organisation."""
    page, api = f"/o/{org.slug}/", f"/api/v1/orgs/{org.slug}/"
    pages = ["", "pmos/", "people/", "customer-groups/", "members/", "activity/"]
    lists = ["pmos", "people", "customer-groups", "members"]
    return [
        *(
            Endpoint(f"page {p.rstrip('/') or 'home'}", page + p, False, LIST_TARGET_MS)
            for p in pages
        ),
        *(Endpoint(f"api {p}", api + p, True, LIST_TARGET_MS) for p in lists),
        Endpoint("api pmo retrieve", f"{api}pmos/{pmo_id}", True, TRIVIAL_TARGET_MS),
    ]


def environment(reference_before: float) -> dict[str, Any]:
    """What every report says about where it was measured: database, machine, versions,
    the client, and the CPU reference before the run and now."""
    return {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "database": {
            "vendor": connection.vendor,
            "version": ".".join(str(v) for v in connection.get_database_version()),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_reference_ms": {"before": reference_before, "after": cpu_reference_ms()},
        },
        "python": platform.python_version(),
        "django": django.get_version(),
        "client": "django.test.Client, in-process (no network, no WSGI server)",
    }


def cpu_reference_ms() -> float:
    """Best of three runs of a fixed pure-Python loop, to compare one machine with another."""
    best = float("inf")
    for _ in range(3):
        start = perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, perf_counter() - start)
    return round(best * 1000, 1)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample at or above `fraction` of them."""
    ordered = sorted(samples)
    return ordered[max(0, ceil(fraction * len(ordered)) - 1)]


def _get(client: Client, path: str) -> int:
    """GET `path` and return its status; anything but 200 ends the run."""
    status = client.get(path).status_code
    if status != 200:
        raise BenchError(f"GET {path} returned {status}, not 200.")
    return status


def measure(
    pages: Client,
    api: Client,
    targets: list[Endpoint],
    *,
    requests: int,
    warmup: int,
    progress: Callable[[str], None] | None = None,
    each_round: Callable[[], None] | None = None,
) -> list[Measurement]:
    """Warm each endpoint up and count the queries of one request, then time them all.
    `each_round`, if given, runs once a round after the endpoints (a reference timed in
    the same conditions as they are)."""
    queries: dict[Endpoint, int] = {}
    for endpoint in targets:
        if progress:
            progress(f"warming up {endpoint.name}: {endpoint.path}")
        client = api if endpoint.api else pages
        for _ in range(warmup):
            _get(client, endpoint.path)
        # Counted apart from the timed loop: capturing SQL slows every query down.
        with CaptureQueriesContext(connection) as captured:
            _get(client, endpoint.path)
        # Read now: the next request's request_started signal empties the query log.
        queries[endpoint] = len(captured.captured_queries)
    if progress:
        progress(f"timing {requests} rounds of {len(targets)} requests")
    wall: dict[Endpoint, list[float]] = {e: [] for e in targets}
    cpu: dict[Endpoint, list[float]] = {e: [] for e in targets}
    # Round-robin, so a burst of load from elsewhere on the machine hits every endpoint alike.
    for _ in range(requests):
        for endpoint in targets:
            wall_start, cpu_start = perf_counter(), process_time()
            _get(api if endpoint.api else pages, endpoint.path)
            cpu[endpoint].append((process_time() - cpu_start) * 1000)
            wall[endpoint].append((perf_counter() - wall_start) * 1000)
        if each_round is not None:
            each_round()
    return [
        Measurement(
            name=e.name,
            path=e.path,
            status=200,
            requests=requests,
            p50_ms=round(percentile(wall[e], 0.5), 3),
            p95_ms=round(percentile(wall[e], 0.95), 3),
            mean_ms=round(fmean(wall[e]), 3),
            max_ms=round(max(wall[e]), 3),
            cpu_mean_ms=round(fmean(cpu[e]), 3),
            queries=queries[e],
            target_p95_ms=e.target_p95_ms,
            meets_targets=percentile(wall[e], 0.95) <= e.target_p95_ms,
        )
        for e in targets
    ]


def scale_report(orgs: list[Organisation], measured: Organisation) -> dict[str, Any]:
    """How much bench data there is, in all and in the measured organisation."""

    def counts(ids: list[int]) -> dict[str, int]:
        return {
            "pmos": PMO.objects.filter(organisation_id__in=ids).count(),
            "people": Person.objects.filter(organisation_id__in=ids).count(),
            "customer_groups": CustomerGroup.objects.filter(organisation_id__in=ids).count(),
            "members": Membership.objects.filter(organisation_id__in=ids).count(),
            "audit_entries": AuditEntry.objects.filter(organisation_id__in=ids).count(),
        }

    total = {"organisations": len(orgs), **counts([o.pk for o in orgs])}
    name = next(
        (
            key
            for key, s in SCALES.items()
            if (s.organisations, s.organisations * s.pmos, s.organisations * s.people)
            == (total["organisations"], total["pmos"], total["people"])
        ),
        "custom",
    )
    return {
        "name": name,
        **total,
        "measured_organisation": {"slug": measured.slug, **counts([measured.pk])},
    }


def run(
    *,
    requests: int = 200,
    warmup: int = 20,
    org_slug: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure every endpoint against one bench organisation and return the JSON report."""
    orgs = bench_organisations()
    if not orgs:
        raise BenchError("No bench data here: run `carte bench seed` first.", exit_code=2)
    org = next((o for o in orgs if o.slug == (org_slug or orgs[0].slug)), None)
    user = User.objects.filter(email=BENCH_EMAIL).first()
    pmo = PMO.objects.filter(organisation=org).order_by("pk").first()
    if org is None or user is None or pmo is None:
        raise BenchError(f"No bench organisation {org_slug!r} with PMOs here.", exit_code=2)

    # Before and after: on a shared or throttled machine the speed drifts during a run.
    reference_before = cpu_reference_ms()
    pages = Client()
    pages.force_login(user)
    # A token of its own for each run: the raw value is shown only once, at creation.
    token, raw = services.token_create(user=user, name="bench run", organisation=org)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    try:
        results = measure(
            pages, api, endpoints(org, pmo.pk), requests=requests, warmup=warmup, progress=progress
        )
    finally:
        services.token_revoke(user=user, token_id=token.pk)
        pages.logout()

    return {
        **environment(reference_before),
        "requests": requests,
        "warmup": warmup,
        "scale": scale_report(orgs, org),
        "targets": {"list_p95_ms": LIST_TARGET_MS, "trivial_api_p95_ms": TRIVIAL_TARGET_MS},
        "results": [asdict(m) for m in results],
        "meets_targets": all(m.meets_targets for m in results),
    }
