from __future__ import annotations

from decimal import Decimal

from carte.core.permissions import can
from carte.operations.choices import Direction, Rag
from carte.operations.permissions import REPORT
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory


def test_it_gives_each_persona_the_rights_of_their_service_role(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    others = KPIFactory(service=ops.other_service)
    assert can(ops.operative.actor, REPORT, kpi)
    assert not can(ops.operative.actor, REPORT, others)
    assert not can(ops.staff.actor, REPORT, kpi)
    assert not can(ops.outsider.actor, REPORT, kpi)


def test_it_computes_rag_on_the_worse_side_of_the_thresholds(ops: Ops) -> None:
    higher = KPIFactory(service=ops.service)  # target 95, amber 90, red 80
    assert [higher.rag_of(Decimal(v)) for v in ("96", "90", "89.9", "80", "79")] == [
        Rag.GREEN,
        Rag.GREEN,
        Rag.AMBER,
        Rag.AMBER,
        Rag.RED,
    ]
    lower = KPIFactory(
        service=ops.service,
        direction=Direction.LOWER,
        target=Decimal("5"),
        amber=Decimal("7"),
        red=Decimal("10"),
    )
    assert [lower.rag_of(Decimal(v)) for v in ("4", "7", "8", "10", "11")] == [
        Rag.GREEN,
        Rag.GREEN,
        Rag.AMBER,
        Rag.AMBER,
        Rag.RED,
    ]
