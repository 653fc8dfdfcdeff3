"""The operations bench works, and its pages and API cost the same queries at two sizes.

Timings are reported but never asserted: they depend on the machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.operations import WEEKS, run_operations, seed_operations
from carte.operations.models import KPI, Measurement


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _run(services: int) -> dict[str, Any]:
    seeded = seed_operations(services, 2, 3, import_rows=WEEKS + 50, push_rows=60, pushes=2)
    assert (seeded.services, seeded.kpis, seeded.measurements) == (
        services,
        services * 2,
        services * 6,
    )
    return run_operations(requests=2, warmup=1, import_rows=WEEKS + 50, push_rows=60, pushes=2)


@pytest.mark.django_db
def test_operations_report_shape_and_equal_queries_at_two_sizes() -> None:
    small = _run(3)
    assert small["scale"]["services"] == 3
    assert small["import"]["rows"] == WEEKS + 50
    assert small["push"]["pushes"] == 2 and len(small["push"]["seconds"]) == 2
    assert small["heatmap_floor"]["statements"] >= 1
    assert {r["name"] for r in small["results"]} >= {"heat map, page 1", "operations tab 1"}
    weekly = KPI.objects.filter(organisation__slug="bench-ops", frequency="weekly")
    assert Measurement.objects.filter(kpi__in=weekly).count() == WEEKS + 50 + 2 * 60

    large = _run(12)
    small_queries = {r["name"]: r["queries"] for r in small["results"]}
    large_queries = {r["name"]: r["queries"] for r in large["results"]}
    common = small_queries.keys() & large_queries.keys()
    assert {n: small_queries[n] for n in common} == {n: large_queries[n] for n in common}
