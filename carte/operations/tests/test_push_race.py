"""Several clients push a value for the same KPI period at the same moment: one is
recorded, every other is refused, as a conflict (409, problem+json) when it found the
period free but lost the race to write it, and writes nothing. PostgreSQL only: SQLite
serialises write transactions by itself, so there is no race to lose there."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from carte.conftest import Persona
from carte.core.bulk import insert_many
from carte.core.clock import as_of
from carte.core.models import AuditEntry
from carte.core.testing import PROBLEM_JSON
from carte.operations.models import KPI, Measurement
from carte.operations.services import measurements
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs real concurrency"),
    pytest.mark.django_db(transaction=True),
]

MOMENT = dt.datetime(2026, 5, 10, 9, tzinfo=dt.UTC)
PERIOD = "2026-04-01"


def _bulk(ops: Ops, kpi: KPI, value: str) -> tuple[str, dict[str, Any]]:
    rows = [{"kpi": kpi.pk, "period": PERIOD, "value": value}]
    return f"/api/v1/orgs/{ops.org.slug}/measurements", {"rows": rows}


def _single(ops: Ops, kpi: KPI, value: str) -> tuple[str, dict[str, Any]]:
    path = f"/api/v1/orgs/{ops.org.slug}/services/{ops.service.pk}/kpis/{kpi.pk}/measurements"
    return path, {"period": PERIOD, "value": value}


def _push_at_once(persona: Persona, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """POST each (path, body) from its own thread (its own database connection), all
    released together; the responses (or exceptions) in the order given."""
    start = threading.Barrier(len(requests), timeout=30)
    answers: list[Any] = [None] * len(requests)

    def run(n: int, path: str, body: dict[str, Any]) -> None:
        client = Client()
        try:
            start.wait()
            with as_of(MOMENT):
                answers[n] = client.post(
                    path, body, content_type="application/json", headers=persona.api.headers
                )
        except Exception as exc:  # reported by the assertions
            answers[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, *r)) for n, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return answers


def _all_check_before_any_writes(monkeypatch: pytest.MonkeyPatch, writers: int) -> None:
    """Every push finds the period free before any of them inserts: each waits for the
    others at the insert, so all but one lose at the unique constraint."""
    ready = threading.Barrier(writers, timeout=30)

    def insert_when_all_have_checked(model: Any, objs: Any) -> None:
        ready.wait()
        insert_many(model, objs)

    monkeypatch.setattr(measurements, "insert_many", insert_when_all_have_checked)


@pytest.mark.parametrize("endpoint", [_bulk, _single], ids=["bulk", "single"])
def test_the_losers_of_a_race_for_the_same_period_get_409_and_write_nothing(
    ops: Ops,
    monkeypatch: pytest.MonkeyPatch,
    endpoint: Callable[[Ops, KPI, str], tuple[str, dict[str, Any]]],
) -> None:
    kpi = KPIFactory(service=ops.service)
    audit_before = AuditEntry.objects.count()
    writers = 4
    _all_check_before_any_writes(monkeypatch, writers)

    answers = _push_at_once(ops.operative, [endpoint(ops, kpi, f"9{n}") for n in range(writers)])

    statuses = [getattr(a, "status_code", a) for a in answers]
    assert statuses.count(201) == 1 and statuses.count(409) == writers - 1, statuses
    winner = statuses.index(201)
    for answer in answers:
        if answer.status_code == 409:
            assert answer["Content-Type"] == PROBLEM_JSON
            detail = answer.json()["detail"]
            assert "same moment" in detail and "nothing was recorded" in detail, detail
    stored = Measurement.objects.get(kpi=kpi)
    assert stored.value == Decimal(f"9{winner}")
    assert Measurement.objects.filter(kpi=kpi).count() == 1
    assert AuditEntry.objects.count() == audit_before + 1  # the winner's entry alone
    kpi.refresh_from_db()
    assert kpi.latest_value == Decimal(f"9{winner}")


def test_a_burst_of_pushes_of_the_same_period_records_one_and_never_fails(ops: Ops) -> None:
    """Without holding anyone back: some losers find the value already there (422, as
    for any period that has one), the others lose at the insert (409); none is a 500."""
    kpi = KPIFactory(service=ops.service)
    answers = _push_at_once(ops.operative, [_bulk(ops, kpi, f"9{n}") for n in range(8)])

    statuses = [getattr(a, "status_code", a) for a in answers]
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {201, 409, 422}, statuses
    assert Measurement.objects.filter(kpi=kpi).count() == 1
