"""The KPI demo: each running service of both organisations has three to five KPIs with
a year of values, a mix of green, amber and red, weekly, monthly and quarterly KPIs, and
a few late reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from carte.catalogue.models import Service
from carte.core.clock import today
from carte.operations.models import KPI, Measurement

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
        assert all(rags[r] >= 5 for r in ("green", "amber", "red")), rags
        monthly = kpis.filter(frequency="monthly").first()
        assert monthly is not None and 10 <= monthly.measurements.count() <= 12
