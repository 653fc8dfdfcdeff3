"""The lifecycle bench works, and its pages, API and moves cost the same queries at two
sizes.

Timings are reported but never asserted: they depend on the machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.lifecycle import (
    API_TARGET_MS,
    BOARD_TARGET_MS,
    MOVES_PER_S_TARGET,
    MOVES_SLUG,
    SERVICE_PAGE_TARGET_MS,
    SLUG,
    run_lifecycle,
    seed_lifecycle,
)
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.lifecycle.models import LifecycleEvent
from carte.organisations.models import Organisation


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Seeding hashes one password; the default hasher would spend most of the test on it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _queries(report: dict[str, Any]) -> dict[str, Any]:
    return {
        **{r["name"]: r["queries"] for r in report["results"]},
        **{m["name"]: m["queries"] for m in report["transitions"]},
    }


@pytest.mark.django_db
def test_lifecycle_report_shape_and_equal_queries_at_two_sizes() -> None:
    """Every page and API call answers 200 and every move 201; 5 or 15 services cost the
    same number of queries per request and per move."""
    lines: list[str] = []
    seed_lifecycle(5, 50, progress=lines.append)
    small = run_lifecycle(requests=2, warmup=1, moves=4, approvals=2, progress=lines.append)

    scale = small["scale"]
    assert scale["services"] == 5
    assert scale["stages"][Stage.RUNNING] == 2
    assert scale["stages"][Stage.PROPOSED] == scale["stages"][Stage.CLOSED] == 1
    assert scale["stages"][Stage.DEFERRED] == 1
    # Counted before the run's moves add events to the proposals they move.
    assert scale["events_per_service"] == {"min": 50, "max": 50}
    assert set(small) >= {"database", "machine", "targets", "results", "transitions"}
    assert small["targets"] == {
        "board_p95_ms": BOARD_TARGET_MS,
        "service_page_p95_ms": SERVICE_PAGE_TARGET_MS,
        "api_p95_ms": API_TARGET_MS,
        "transitions_per_s": MOVES_PER_S_TARGET,
    }
    assert [r["name"] for r in small["results"]] == [
        "page board",
        "page service lifecycle (running)",
        "page service lifecycle (closed)",
        "api lifecycle (running)",
        "api lifecycle (closed)",
        "api events (running)",
    ]
    for result in small["results"]:
        assert result["status"] == 200
        assert result["requests"] == 2
        assert result["queries"] > 0
        assert result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
        assert isinstance(result["meets_targets"], bool)
    moves = {m["name"]: m for m in small["transitions"]}
    assert set(moves) == {"defer / propose again", "approve set-up"}
    assert moves["defer / propose again"]["moves"] == 4
    assert moves["approve set-up"]["moves"] == 2
    for move in moves.values():
        assert move["moves_per_s"] > 0
        assert all(n > 0 for n in move["queries"].values())
    # Every proposal is back where it was, and the scratch organisation is gone.
    org = Organisation.objects.get(slug=SLUG)
    assert not Service.objects.filter(organisation=org, stage=Stage.DEFERRED).exclude(
        code="LIFE-00004"
    )
    assert not Organisation.objects.filter(slug=MOVES_SLUG).exists()
    assert isinstance(small["meets_targets"], bool)

    seed_lifecycle(15, 50)  # replaces the 5
    big = run_lifecycle(requests=2, warmup=1, moves=4, approvals=2)

    org = Organisation.objects.get(slug=SLUG)
    assert Service.objects.filter(organisation=org).count() == 15
    assert big["scale"]["stages"][Stage.CLOSING] == 1
    assert LifecycleEvent.objects.filter(service__code="LIFE-00014").count() == 50
    assert _queries(big) == _queries(small)
