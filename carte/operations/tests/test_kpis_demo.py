"""The KPI demo: each running service of both organisations has three to five KPIs with
a year of values, mostly green with some amber and a few red, weekly, monthly and
quarterly KPIs, and a few late reports; its heat map tells a believable story: most
services green or amber, a few red, each with a reason."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from carte.catalogue.models import Service
from carte.core.clock import today
from carte.operations.models import KPI, Measurement
from carte.operations.selectors.heatmap import heatmap
from carte.organisations.actor import Actor

pytestmark = pytest.mark.django_db


def test_it_gives_each_running_service_kpis_with_a_year_of_values(demo: dict[str, Any]) -> None:
    for org in demo.values():
        running = Service.objects.filter(organisation=org, stage="running")
        assert running.exists()
        counts = Counter(
            KPI.objects.filter(organisation=org, archived_at__isnull=True).values_list(
                "service_id", flat=True
            )
        )
        assert {counts[s.pk] for s in running} <= {3, 4, 5}, [
            (s.code, s.created_at, s.stage_changed_at) for s in running if not counts[s.pk]
        ]
        assert all(counts[s.pk] for s in running)
        kpis = KPI.objects.filter(organisation=org)
        assert set(kpis.values_list("frequency", flat=True)) == {"weekly", "monthly", "quarterly"}
        assert kpis.filter(next_due__lt=today()).exists()  # a few late reports
        rags = Counter(Measurement.objects.filter(organisation=org).values_list("rag", flat=True))
        # A PMO that mostly works: green most months, amber now and then, red rarely.
        assert rags["green"] > rags["amber"] > rags["red"] > 0, rags
        monthly = kpis.filter(frequency="monthly").first()
        assert monthly is not None and 10 <= monthly.measurements.count() <= 12


def test_its_heat_map_shows_most_services_green_or_amber_and_says_why_a_few_are_red(
    demo: dict[str, Any],
) -> None:
    rows = [
        row
        for org in demo.values()
        for row in heatmap(Actor.for_system(org), size=100).rows
        if row.status.rag
    ]
    by_status = Counter(row.status.rag for row in rows)
    assert by_status["green"] and by_status["amber"] and by_status["red"], by_status
    # A few red, not most: the service levels agreed are no stricter than the thresholds.
    assert by_status["red"] * 4 <= len(rows), by_status
    for row in rows:
        if row.status.rag == "red":
            # Each red KPI says why: the levels it misses, or the reporter's comment.
            worst = [k for k in row.status.kpis if k.rag == "red"]
            assert worst and all(k.misses or k.comment for k in worst), row.status.reason
