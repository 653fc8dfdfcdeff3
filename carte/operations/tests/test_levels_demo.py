"""The service-levels demo: targets per customer group on the KPIs the KPIs demo made, at
the KPI's red threshold (an amber value is a warning, not a breach), a little stricter
for a finance group, so a few periods breach; nothing without KPIs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carte.catalogue.tests.factories import ServiceCustomerFactory
from carte.operations.demo import levels as demo
from carte.operations.models import ServiceLevelTarget
from carte.operations.selectors.levels import breaches
from carte.operations.tests.conftest import Ops
from carte.operations.tests.test_levels_services import kpi_with_values
from carte.organisations.tests.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db


def test_it_does_nothing_before_the_kpis_exist(ops: Ops) -> None:
    demo.load(actor=ops.system, by_code={"REP": ops.service, "GOV": ops.other_service})
    assert not ServiceLevelTarget.objects.exists()


def test_it_agrees_levels_at_the_red_threshold_stricter_for_finance(ops: Ops) -> None:
    first = kpi_with_values(
        ops,
        {"2026-01-01": "96", "2026-02-01": "82", "2026-03-01": "79"},
        minimum=Decimal(0),
        maximum=Decimal(100),
        position=1,
    )
    second = kpi_with_values(ops, {"2026-01-01": "81"}, position=2)
    hr = CustomerGroupFactory(organisation=ops.org, name="HR change")
    ServiceCustomerFactory(service=ops.service, customer_group=hr)
    demo.load(actor=ops.system, by_code={"REP": ops.service, "GOV": ops.other_service})
    rows = {
        (t.customer_group.name, t.kpi_id): t
        for t in ServiceLevelTarget.objects.select_related("customer_group")
    }
    # Finance (first group) on the first two KPIs, HR on the first only.
    assert set(rows) == {
        ("Finance programmes", first.pk),
        ("Finance programmes", second.pk),
        ("HR change", first.pk),
    }
    # The KPI is 95 / 90 / 80: HR is promised the red threshold, Finance a quarter of the
    # way to the amber one.
    assert rows[("Finance programmes", first.pk)].target == Decimal("82.50")
    assert rows[("HR change", first.pk)].target == Decimal(80)
    assert "board pack" in rows[("Finance programmes", first.pk)].statement
    assert rows[("Finance programmes", second.pk)].level == ops.level
    # 82 and 79 miss Finance's 82.5, 79 also HR's 80; 81 misses Finance's level on the
    # second KPI. 96 (green) and 82 (amber) meet HR's: amber alone is no breach.
    assert len(breaches(ops.director.actor)) == 4
