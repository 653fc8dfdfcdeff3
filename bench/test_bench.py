"""The bench harness works, and every endpoint costs the same queries whatever the data size.

Timings are reported but never asserted: they depend on the machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.run import LIST_TARGET_MS, TRIVIAL_TARGET_MS, run
from bench.seed import SCALES, Scale, bench_organisations, seed
from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.models import Person, User

# Crosses the page sizes (25 rows on lists, 50 on the activity page) that SCALES["tiny"]
# stays under, so a query per row or per page would change the count.
BIGGER = Scale(organisations=2, pmos=4, people=40, customer_groups=3, members=4)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Seeding hashes one password; the default hasher would spend most of the test on it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _queries(report: dict[str, Any]) -> dict[str, int]:
    """Endpoint name -> SQL queries per request."""
    return {r["name"]: r["queries"] for r in report["results"]}


@pytest.mark.django_db
def test_report_shape_and_equal_queries_at_two_sizes() -> None:
    """Every endpoint answers 200, and costs as many queries on 5 people as on 40."""
    seed(SCALES["tiny"])
    small = run(requests=2, warmup=1)

    assert small["scale"]["name"] == "tiny"
    assert small["scale"]["measured_organisation"]["people"] == 5
    assert set(small) >= {"database", "python", "django", "targets", "results", "meets_targets"}
    assert small["targets"] == {
        "list_p95_ms": LIST_TARGET_MS,
        "trivial_api_p95_ms": TRIVIAL_TARGET_MS,
    }
    names = [r["name"] for r in small["results"]]
    assert names == [
        "page home",
        "page pmos",
        "page people",
        "page customer-groups",
        "page members",
        "page activity",
        "api pmos",
        "api people",
        "api customer-groups",
        "api members",
        "api pmo retrieve",
    ]
    for result in small["results"]:
        assert result["status"] == 200
        assert result["requests"] == 2
        assert result["queries"] > 0
        assert isinstance(result["meets_targets"], bool)
        assert result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]

    seed(BIGGER)  # replaces the tiny set
    big = run(requests=2, warmup=1)

    assert big["scale"]["measured_organisation"]["people"] == 40
    assert big["scale"]["measured_organisation"]["audit_entries"] > 50
    assert _queries(big) == _queries(small)


@pytest.mark.django_db
def test_seed_replaces_earlier_bench_data_and_leaves_other_data_alone() -> None:
    """Seeding twice leaves one bench set, and never touches a look-alike organisation."""
    other = services.organisation_create(name="Bench Press Ltd", slug="bench-press")
    services.person_create(actor=Actor.for_system(other), name="Pat", email="pat@press.example")
    seed(SCALES["tiny"])
    seed(SCALES["tiny"])

    assert [o.slug for o in bench_organisations()] == ["bench-000"]
    assert Person.objects.filter(organisation__slug="bench-000").count() == 5
    assert Person.objects.filter(organisation=other).count() == 1
    bench = User.objects.get(email="bench@bench.example")
    assert bench.memberships.get().roles.get().role == "admin"
