"""The capacity bench works at a small size: it seeds, times every endpoint (the grid,
its API, a cell, "can we take this on?", a person's load) and reports them. Timings are
reported but never asserted: they depend on the machine."""

from __future__ import annotations

from typing import Any

import pytest

from bench.capacity import run_capacity, seed_capacity
from carte.capacity.models import Allocation


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.django_db
def test_the_capacity_bench_seeds_and_times_every_endpoint() -> None:
    seeded = seed_capacity(people_count=40, service_count=30, allocation_count=120)
    assert (seeded.people, seeded.services, seeded.allocations) == (40, 30, 120)
    assert Allocation.objects.filter(organisation=seeded.org).count() == 120
    report = run_capacity(requests=2, warmup=1)
    names = {r["name"] for r in report["results"]}
    assert names == {
        "grid, 12 months",
        "grid, 24 months",
        "api grid, 24 months",
        "cell",
        "can we take this on",
        "a person's load",
    }
    assert all(r["p95_ms"] > 0 for r in report["results"])
